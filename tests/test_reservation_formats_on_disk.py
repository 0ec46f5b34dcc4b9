"""Every reservation format, committed to a real repository on disk as owners write it: a whole reservation
excludes the repository, a path reservation only its covered files, and removing the file lifts either."""

import pytest

from governance.git import git_run
from governance.identity import parse_repository
from governance.services import repository_from_ref
from optout.models import Exclusion, ReservedFile
from optout.services import reservation_check

pytestmark = pytest.mark.django_db

CODE = {"src/app.py": "print('hi')\n", "docs/guide.md": "# Guide\n"}
WHOLE = {
    "tdmrep": (".well-known/tdmrep.json", '[{"location": "/", "tdm-reservation": 1}]\n'),
    "ai-txt": ("ai.txt", "# AI crawlers\nUser-Agent: *\nDisallow: /\n"),
    "gitattributes": (".gitattributes", "* ai-training=false\n"),
    "aipref": (".aipref", "Content-Usage: train-ai=n\n"),
}
DOCS_ONLY = {
    "tdmrep": ("tdmrep.json", '[{"location": "/docs/*", "tdm-reservation": 1}]\n'),
    "ai-txt": ("ai.txt", "User-Agent: GPTBot\nDisallow: /docs/\n"),
    "gitattributes": (".gitattributes", "docs/** ai-training=false\n"),
    "aipref": ("ai-preferences.txt", "Content-Usage: /docs/ train-ai=n\n"),
}


def _checked(make_repository, files: dict[str, str]):
    path = make_repository("acme/lib", files)
    repository = repository_from_ref(ref=parse_repository(path.as_uri()))
    reservation_check(repository_id=repository.pk)
    reasons = [exclusion.reasons for exclusion in Exclusion.objects.in_force().filter(repository=repository)]
    reserved = {
        row.path: (row.blob_id, row.reason) for row in ReservedFile.objects.in_force().filter(repository=repository)
    }
    return path, repository, reasons, reserved


@pytest.mark.parametrize("kind", WHOLE)
def test_a_whole_repository_reservation_of_every_format_excludes_the_repository(make_repository, kind):
    file, content = WHOLE[kind]
    _, _, reasons, reserved = _checked(make_repository, {**CODE, file: content})
    assert (reasons, reserved) == ([f"reservation:{kind}"], {})


@pytest.mark.parametrize("kind", DOCS_ONLY)
def test_a_path_reservation_of_every_format_reserves_only_the_files_it_covers(make_repository, kind):
    file, content = DOCS_ONLY[kind]
    path, _, reasons, reserved = _checked(make_repository, {**CODE, file: content})
    guide = git_run("rev-parse", "HEAD:docs/guide.md", cwd=path).decode().strip()
    assert (reasons, reserved) == ([], {"docs/guide.md": (guide, f"reservation:{kind}")})


@pytest.mark.parametrize("kind", WHOLE)
def test_removing_the_reservation_file_lifts_the_exclusion(make_repository, kind):
    file, content = WHOLE[kind]
    path, repository, reasons, _ = _checked(make_repository, {**CODE, file: content})
    assert reasons == [f"reservation:{kind}"]
    git_run("rm", "--quiet", file, cwd=path)
    git_run(
        "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "no reservation", cwd=path
    )
    reservation_check(repository_id=repository.pk)
    assert not Exclusion.objects.in_force().filter(repository=repository).exists()
