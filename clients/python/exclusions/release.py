"""A verified local release, loaded for lookups: which repositories, namespaces and blobs it excludes.

The rules, the same for `is_excluded`, `filter_table` and `exclusions filter`:
- a repository value in any spelling the portal accepts (The Stack v2's `repo_name` `owner/name` meaning
  github.com, URLs, canonical names) is reduced to its canonical name `host/owner/name` with
  `exclusions.identity`; values that name no repository are never excluded;
- it is excluded when that canonical name is listed with scope `repository`, or when a namespace above it
  is listed with scope `namespace` (`gitlab.com/group` covers `gitlab.com/group/sub/project`);
- a blob id is excluded when it is listed in blobs.parquet (git blob SHA-1s, lower-case hex).

A release of millions of blob ids answers blob lookups with its membership filter first (membership.fuse16, see
exclusions.membership) and confirms each "perhaps" in the sorted ids, instead of holding a hash set of them all.
"""

import sys
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exclusions.errors import ClientError
from exclusions.filtering import REASONS, filter_table
from exclusions.identity import RepositoryParseError, canonical_and_namespace
from exclusions.membership import FILTER_MIN_BLOBS, MEMBERSHIP_FILE, BlobMembership, MembershipFilter, membership_read
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
        return _blob_ids_read(self.folder / "blobs.parquet")

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

    @cached_property
    def membership(self) -> MembershipFilter | None:
        """The release's membership filter; None for a release published before filters (or in a newer format)."""
        if not any(info["name"] == MEMBERSHIP_FILE for info in self.manifest["files"]):
            return None
        return membership_read(self.folder / MEMBERSHIP_FILE)

    @cached_property
    def blob_membership(self) -> BlobMembership | None:
        """The filter with the sorted blob ids, when the release lists enough blob ids for it to pay; else None."""
        # Blob keys are read from the ids' bytes as little-endian words; a big-endian host keeps the hash sets.
        if self.membership is None or sys.byteorder != "little" or not len(self.blob_ids):
            return None
        if len(self.blob_ids) < FILTER_MIN_BLOBS:
            return None
        # Binary search needs the ids in order, as the portal publishes them; anything else keeps the hash sets.
        ids = self.blob_ids
        if not pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1)), min_count=0).as_py():
            return None
        return BlobMembership(self.membership, ids)

    def blob_listed(self, blob_id: str) -> bool:
        """Whether blobs.parquet lists this blob id."""
        if self.blob_membership is not None:
            return self.blob_membership.is_listed(blob_id)
        return blob_id in self._blob_set

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
        if found is None and blob_id is not None and self.blob_listed(blob_id):
            found = "blob"
        return found

    def is_excluded(self, repository: str | None = None, *, blob_id: str | None = None) -> bool:
        """Whether the release excludes a repository (any spelling) or a blob id; lookups built on first use."""
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


def _blob_ids_read(path: Path) -> pa.Array:
    # Read a batch at a time into one buffer: joining the chunks of a whole column would hold it twice, for a
    # moment, and that moment is every worker's peak (10 million ids: 440 MB each copy). Published ids are 40
    # bytes each, so their bytes lie side by side and the offsets are multiples of 40. Not pre-buffered: the file
    # is local, and buffering every row group ahead would cost half as much again.
    with pq.ParquetFile(path, pre_buffer=False) as parquet:
        rows = parquet.metadata.num_rows
        if 40 * (rows + 1) < 1 << 31:  # int32 offsets
            data = pa.allocate_buffer(40 * rows)
            target, at = memoryview(data).cast("B"), 0
            for batch in parquet.iter_batches(batch_size=1 << 18, columns=["blob_id"]):
                column = batch.column(0)
                if column.null_count or not pc.all(pc.equal(pc.binary_length(column), 40)).as_py():
                    break
                start, size = memoryview(column.buffers()[1]).cast("i")[column.offset], 40 * len(column)
                target[at : at + size] = memoryview(column.buffers()[2]).cast("B")[start : start + size]
                at += size
            else:
                forty = pa.scalar(40, pa.int32())
                offsets = pc.subtract(pc.cumulative_sum(pa.repeat(forty, rows + 1)), forty)
                return pa.StringArray.from_buffers(rows, offsets.buffers()[1], data)
    column = pq.read_table(path, columns=["blob_id"]).column(0)
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


def load_release(directory: Path | str, *, version: int | None = None, key: str | None = None) -> Release:
    """The current (or a given) release of an `exclusions pull` directory, verified before it is returned."""
    return Release(directory_verify(directory, version=version, key=key))


def is_excluded(release: Release, repository: str | None = None, *, blob_id: str | None = None) -> bool:
    """Module-level spelling of Release.is_excluded."""
    return release.is_excluded(repository, blob_id=blob_id)


__all__ = ["REASONS", "ClientError", "Release", "is_excluded", "load_release"]
