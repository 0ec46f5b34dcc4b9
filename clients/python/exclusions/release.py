"""A verified local release, loaded for lookups: which repositories, namespaces and blobs it excludes.

The rules, the same for `is_excluded`, `filter_table` and `exclusions filter`:
- a repository value in any spelling the portal accepts (The Stack v2's `repo_name` `owner/name` meaning
  github.com, URLs, canonical names) is reduced to its canonical name `host/owner/name` with
  `exclusions.identity`; values that name no repository are never excluded;
- it is excluded when that canonical name is listed with scope `repository`, or when a namespace above it
  is listed with scope `namespace` (`gitlab.com/group` covers `gitlab.com/group/sub/project`);
- a blob id is excluded when it is listed in blobs.parquet (git blob SHA-1s, lower-case hex).
"""

from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exclusions.errors import ClientError
from exclusions.filtering import REASONS, filter_table
from exclusions.identity import RepositoryParseError, canonical_and_namespace
from exclusions.verify import VerifiedRelease, directory_verify

GITHUB_PREFIX = "github.com/"


class Release:
    """One verified release: its manifest, and its exclusions as Arrow arrays and (on demand) Python sets."""

    def __init__(self, verified: VerifiedRelease):
        self.verified = verified
        self.folder = verified.folder
        self.manifest = verified.manifest

    @property
    def dataset(self) -> str:
        return self.verified.dataset

    @property
    def version(self) -> int:
        return self.verified.version

    def describe(self) -> dict:
        """What reports name: the dataset, the release and the exact manifest that was applied."""
        return self.verified.describe()

    @cached_property
    def repositories(self) -> pa.Table:
        """repositories.parquet's `repository` and `scope` columns."""
        return pq.read_table(self.folder / "repositories.parquet", columns=["repository", "scope"])

    @cached_property
    def blob_ids(self) -> pa.Array:
        """blobs.parquet's `blob_id` column, as one array."""
        column = pq.read_table(self.folder / "blobs.parquet", columns=["blob_id"]).column(0)
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)

    def canonicals(self, scope: str) -> pa.Array:
        """The canonical names listed with this scope ("repository" or "namespace")."""
        table = self.repositories
        column = table.filter(pc.equal(table.column("scope"), scope)).column("repository")
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)

    def github_paths(self, scope: str) -> pa.Array:
        """`owner/name` (repositories) or `owner` (namespaces) of what the release lists on github.com."""
        names = self.canonicals(scope)
        on_github = names.filter(pc.starts_with(names, GITHUB_PREFIX))
        return pc.utf8_slice_codeunits(on_github, len(GITHUB_PREFIX))

    @cached_property
    def _repository_set(self) -> frozenset:
        return frozenset(self.canonicals("repository").to_pylist())

    @cached_property
    def _namespace_set(self) -> frozenset:
        return frozenset(self.canonicals("namespace").to_pylist())

    @cached_property
    def _blob_set(self) -> frozenset:
        return frozenset(self.blob_ids.to_pylist())

    def repository_reason(self, name: str | None) -> str | None:
        """ "repository", "namespace" or None for a repository value in any spelling (None when it names none)."""
        if not isinstance(name, str):
            return None
        try:
            canonical, namespace = canonical_and_namespace(name)
        except RepositoryParseError:
            return None
        return self.listed_reason(canonical, namespace)

    def listed_reason(self, canonical: str, namespace: str) -> str | None:
        """ "repository", "namespace" or None for a parsed repository: its canonical name and its namespace."""
        if canonical in self._repository_set:
            return "repository"
        # Every enclosing namespace: gitlab.com/group/sub, then gitlab.com/group (never the bare host).
        while "/" in namespace:
            if namespace in self._namespace_set:
                return "namespace"
            namespace = namespace.rpartition("/")[0]
        return None

    def reason(self, repository: str | None = None, *, blob_id: str | None = None) -> str | None:
        """Why a row with this repository and/or blob id is excluded ("repository", "namespace", "blob"), or None."""
        found = self.repository_reason(repository)
        if found is None and blob_id is not None and blob_id in self._blob_set:
            found = "blob"
        return found

    def is_excluded(self, repository: str | None = None, *, blob_id: str | None = None) -> bool:
        """Whether the release excludes a repository (any spelling) or a blob id; Python sets, built on first use."""
        return self.reason(repository, blob_id=blob_id) is not None

    def keep(self, repositories: list, blob_ids: list | None = None) -> list[bool]:
        """For Hugging Face `datasets.filter(batched=True)`: True for each row the release lets through."""
        blob_ids = blob_ids if blob_ids is not None else [None] * len(repositories)
        return [self.reason(name, blob_id=blob) is None for name, blob in zip(repositories, blob_ids, strict=True)]

    def filter_table(
        self, table: pa.Table, *, repo_column: str | None = "repo_name", blob_column: str | None = "blob_id"
    ):
        """The table without the rows this release excludes, same schema (see exclusions.filtering)."""
        return filter_table(self, table, repo_column=repo_column, blob_column=blob_column)


def load_release(directory: Path | str, *, version: int | None = None, key: str | None = None) -> Release:
    """The current (or a given) release of an `exclusions pull` directory, verified before it is returned."""
    return Release(directory_verify(directory, version=version, key=key))


def is_excluded(release: Release, repository: str | None = None, *, blob_id: str | None = None) -> bool:
    """Module-level spelling of Release.is_excluded."""
    return release.is_excluded(repository, blob_id=blob_id)


__all__ = ["REASONS", "ClientError", "Release", "is_excluded", "load_release"]
