"""Reading what an owner pasted into the request form, line by line, before anything is filed."""

from dataclasses import dataclass, field

from governance.fetch_policy import FetchScreen
from governance.identity import RepositoryParseError, RepositoryRef, parse_namespace, parse_repository

# Markdown and chat bullets people paste lists with.
_BULLETS = ("- ", "* ", "• ", "+ ")


@dataclass
class LineProblem:
    line: int
    text: str
    message: str
    refused: bool = False  # a repository, but one the fetch policy does not let the portal read


@dataclass
class RepositoryPreview:
    """The canonical repositories a pasted list covers, and every line that could not be read."""

    repositories: list[RepositoryRef] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)  # line, text, canonical it repeats
    too_many: bool = False

    @property
    def is_valid(self) -> bool:
        return bool(self.repositories) and not self.problems and not self.too_many


def repositories_preview(text: str, *, limit: int) -> RepositoryPreview:
    """Parse one repository per line; blank lines and `#` comments are skipped, duplicates merged."""
    preview = RepositoryPreview()
    screen = FetchScreen()
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        for bullet in _BULLETS:
            line = line.removeprefix(bullet)
        if not line or line.startswith("#"):
            continue
        shown = line if len(line) <= 120 else line[:117] + "…"
        try:
            ref = parse_repository(line)
        except RepositoryParseError as error:
            preview.problems.append(LineProblem(number, shown, str(error)))
            continue
        if ref.canonical in seen:
            preview.duplicates.append((number, shown, ref.canonical))
            continue
        # Refused now, with the reason, rather than filed and then never readable.
        refusal = screen.refusal(ref.clone_url)
        if refusal:
            preview.problems.append(LineProblem(number, shown, refusal, refused=True))
            continue
        seen[ref.canonical] = number
        preview.repositories.append(ref)
    if len(preview.repositories) > limit:
        preview.too_many = True
    return preview


def namespace_preview(namespace_text: str, proof_repository_text: str) -> tuple[str, RepositoryRef]:
    """The canonical namespace and the repository under it that will hold the proof; raises with a message."""
    namespace = parse_namespace(namespace_text)
    try:
        proof = parse_repository(proof_repository_text)
    except RepositoryParseError as error:
        raise RepositoryParseError(f"Proof repository: {error}") from None
    if not proof.canonical.startswith(namespace + "/"):
        raise RepositoryParseError(
            f"The proof repository {proof.canonical} is not under {namespace}: "
            f"commit the proof to a repository inside the namespace you opt out"
        )
    refusal = FetchScreen().refusal(proof.clone_url)
    if refusal:
        raise RepositoryParseError(f"Proof repository: {refusal}")
    return namespace, proof
