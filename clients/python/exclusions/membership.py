"""The membership filter of a release: a binary fuse filter over its repositories, namespaces and blob ids.

A first pass for huge lists: from 2.25 bytes a key it answers "not listed" for certain, or "perhaps listed"
(for a key that is not listed, once in 65,536 lookups: 16-bit fingerprints). Every "perhaps" is confirmed
against the exact files, so a false positive never drops a row. The portal builds the filter with the C
library of FastFilter/xor_singleheader (through pyfusefilter, `releases/fuse.py`); the client reads and
queries it with the standard library and pyarrow alone. The file, `membership.fuse16`, little-endian:

    offset  bytes  field
     0      8      magic, b"EXCLFUSE"
     8      2      format version: 1
    10      1      fingerprint bits: 16 (readers also take 8, a Fuse8 filter of 1-byte fingerprints)
    11      1      arity: 3 (fingerprints read per lookup)
    12      4      header bytes: 64 (where the fingerprints start)
    16      8      seed
    24      4      segment length L (a power of two, at most 2^18)
    28      4      segment count length C (a multiple of L)
    32      4      fingerprint count: C + 2L
    36      4      distinct keys the filter was built from
    40      8      repository rows, 48: namespace rows, 56: blob rows (of the release's files)
    64      2 each the fingerprints F[0 … C + 2L − 1], unsigned (1 each for 8 bits)

Keys are unsigned 64-bit integers:
- a blob id: its first 16 hex digits as a number (the first 8 bytes of the SHA-1, big-endian);
- a repository: the first 8 bytes, big-endian, of sha256("repository:" + canonical name, UTF-8);
- a namespace: the same with "namespace:" (a GitLab group and a repository may share a name).

Lookup of key k, arithmetic modulo 2^64:
    h  = murmur64(k + seed), where murmur64(x) = x ^= x >> 33; x *= 0xff51afd7ed558ccd; x ^= x >> 33;
         x *= 0xc4ceb9fe1a85ec53; x ^= x >> 33
    f  = (h ^ (h >> 32)) & 0xffff (0xff for 8 bits)
    h0 = (h * C) >> 64, the high half of the 128-bit product
    h1 = (h0 + L) ^ ((h >> 18) & (L - 1))
    h2 = (h0 + 2L) ^ (h & (L - 1))
    perhaps listed  ⇔  f ^ F[h0] ^ F[h1] ^ F[h2] == 0
"""

import bisect
import hashlib
import struct
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exclusions.errors import ClientError
from exclusions.release_files import BLOBS_PARQUET, REPOSITORIES_PARQUET, FileInfo, _staged, file_info

MEMBERSHIP_FILE = "membership.fuse16"
MAGIC = b"EXCLFUSE"
FORMAT_VERSION = 1
FINGERPRINT_BITS = 16  # what the portal writes (see releases/fuse.py for why not 8)
ARITY = 3
HEADER = struct.Struct("<8sHBBIQIIIIQQQ")
MAX_SEGMENT_LENGTH = 1 << 18
# Measured in CPU time (bench/fuse.py, rows of which 2% are listed): against 100,000 ids Arrow's is_in probes
# 23 M rows/s, the filter with its confirmations 17 M; against 300,000, 10 M and 13 M; against a million, 8.4 M
# and 11 M; against 10 million, 8.0 M and 8.6 M, and the hash set takes 3 s to build and 1 GB more memory. The
# filter is used from a million ids, where it is ahead on every count.
FILTER_MIN_BLOBS = 1_000_000
_U64 = pa.uint64()
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class MembershipFilter:
    seed: int
    segment_length: int
    segment_count_length: int
    fingerprints: bytes  # little-endian unsigned values of `bits` bits
    keys: int  # distinct keys the filter was built from
    repositories: int = 0
    namespaces: int = 0
    blobs: int = 0
    bits: int = FINGERPRINT_BITS

    @property
    def fingerprint_count(self) -> int:
        return len(self.fingerprints) // (self.bits // 8)

    def to_bytes(self) -> bytes:
        """The published file: the 64-byte header, then the fingerprints."""
        header = HEADER.pack(
            MAGIC,
            FORMAT_VERSION,
            self.bits,
            ARITY,
            HEADER.size,
            self.seed,
            self.segment_length,
            self.segment_count_length,
            self.fingerprint_count,
            self.keys,
            self.repositories,
            self.namespaces,
            self.blobs,
        )
        return header + self.fingerprints

    @classmethod
    def from_bytes(cls, content: bytes, *, source: str = MEMBERSHIP_FILE) -> "MembershipFilter | None":
        """The filter in `content`; None for a format version this client does not know (a newer portal's)."""
        if len(content) < HEADER.size or content[:8] != MAGIC:
            raise ClientError(f"{source}: not a membership filter (no {MAGIC.decode()} header)")
        _magic, version, bits, arity, header_bytes, seed, length, count_length, count, keys, *rows = HEADER.unpack_from(
            content
        )
        if version != FORMAT_VERSION or bits not in (8, 16) or arity != ARITY or header_bytes != HEADER.size:
            return None
        # Checked before any lookup: every index a lookup computes must fall inside the fingerprints.
        if not (0 < length <= MAX_SEGMENT_LENGTH and length & (length - 1) == 0):
            raise ClientError(f"{source}: segment length {length} is not a power of two up to {MAX_SEGMENT_LENGTH}")
        if count_length == 0 or count_length % length or count != count_length + 2 * length:
            raise ClientError(f"{source}: {count} fingerprints do not fit segments of {length} over {count_length}")
        if len(content) != header_bytes + bits // 8 * count:
            raise ClientError(f"{source}: {len(content):,} bytes, its header says {header_bytes + bits // 8 * count:,}")
        return cls(seed, length, count_length, bytes(content[header_bytes:]), keys, *rows, bits=bits)

    def contains_key(self, key: int) -> bool:
        """Whether a key is perhaps listed (False: certainly not)."""
        hashed = _murmur64((key + self.seed) & _MASK64)
        fingerprint = (hashed ^ (hashed >> 32)) & ((1 << self.bits) - 1)
        h0, h1, h2 = self._positions(hashed)
        table = self._table
        return fingerprint ^ table[h0] ^ table[h1] ^ table[h2] == 0

    def contains_keys(self, keys: pa.Array) -> pa.BooleanArray:
        """contains_key for every key of a uint64 array, computed by Arrow a whole array at a time."""
        seed, length, count_length, mask, fingerprints, fingerprint_mask = self._arrow
        hashed = pc.add(keys, seed)
        hashed = pc.bit_wise_xor(hashed, pc.shift_right(hashed, _scalar(33)))
        hashed = pc.multiply(hashed, _scalar(0xFF51AFD7ED558CCD))
        hashed = pc.bit_wise_xor(hashed, pc.shift_right(hashed, _scalar(33)))
        hashed = pc.multiply(hashed, _scalar(0xC4CEB9FE1A85EC53))
        hashed = pc.bit_wise_xor(hashed, pc.shift_right(hashed, _scalar(33)))
        fingerprint = pc.bit_wise_and(pc.bit_wise_xor(hashed, pc.shift_right(hashed, _scalar(32))), fingerprint_mask)
        # The high half of hashed * C without 128-bit integers: C < 2^32, so neither partial product overflows.
        high = pc.multiply(pc.shift_right(hashed, _scalar(32)), count_length)
        low = pc.shift_right(pc.multiply(pc.bit_wise_and(hashed, _scalar(0xFFFFFFFF)), count_length), _scalar(32))
        h0 = pc.shift_right(pc.add(high, low), _scalar(32))
        h1 = pc.bit_wise_xor(pc.add(h0, length), pc.bit_wise_and(pc.shift_right(hashed, _scalar(18)), mask))
        h2 = pc.bit_wise_xor(pc.add(h0, pc.multiply(length, _scalar(2))), pc.bit_wise_and(hashed, mask))
        stored = pc.bit_wise_xor(pc.take(fingerprints, h0), pc.take(fingerprints, h1))
        stored = pc.bit_wise_xor(stored, pc.take(fingerprints, h2))
        return pc.equal(pc.bit_wise_xor(stored.cast(_U64), fingerprint), _scalar(0))

    def _positions(self, hashed: int) -> tuple[int, int, int]:
        mask = self.segment_length - 1
        h0 = (hashed * self.segment_count_length) >> 64
        h1 = (h0 + self.segment_length) ^ ((hashed >> 18) & mask)
        h2 = (h0 + 2 * self.segment_length) ^ (hashed & mask)
        return h0, h1, h2

    @cached_property
    def _table(self) -> memoryview:
        # Little-endian hosts only (see Release.blob_membership): memoryview reads in the host's byte order.
        return memoryview(self.fingerprints).cast("H" if self.bits == 16 else "B")

    @cached_property
    def _arrow(self) -> tuple:
        buffers = [None, pa.py_buffer(self.fingerprints)]
        fingerprints = pa.Array.from_buffers(
            pa.uint16() if self.bits == 16 else pa.uint8(), self.fingerprint_count, buffers
        )
        return (
            _scalar(self.seed),
            _scalar(self.segment_length),
            _scalar(self.segment_count_length),
            _scalar(self.segment_length - 1),
            fingerprints,
            _scalar((1 << self.bits) - 1),
        )


def membership_read(path: Path) -> MembershipFilter | None:
    """The filter of a (verified) release folder's membership file; None for a format this client does not know."""
    return MembershipFilter.from_bytes(Path(path).read_bytes(), source=str(path))


def membership_write(membership: MembershipFilter, folder: Path) -> FileInfo:
    """Write membership.fuse16 into a release folder; its manifest row counts the filter's distinct keys."""
    path = Path(folder) / MEMBERSHIP_FILE
    with _staged(path) as partial:
        partial.write_bytes(membership.to_bytes())
    return file_info(path, membership.keys)


def blob_key(blob_id: str) -> int | None:
    """A blob id's key: its first 16 hex digits as a number; None for a value that is no blob id."""
    if not isinstance(blob_id, str) or len(blob_id) != 40:
        return None
    try:
        return int(blob_id[:16], 16)
    except ValueError:
        return None


def repository_key(canonical: str) -> int:
    """A repository's key: the first 8 bytes of sha256("repository:" + its canonical name)."""
    return int.from_bytes(hashlib.sha256(b"repository:" + canonical.encode("utf-8")).digest()[:8], "big")


def namespace_key(namespace: str) -> int:
    """A namespace's key: the first 8 bytes of sha256("namespace:" + its canonical name)."""
    return int.from_bytes(hashlib.sha256(b"namespace:" + namespace.encode("utf-8")).digest()[:8], "big")


def blob_keys(column: pa.Array) -> tuple[pa.BooleanArray, pa.UInt64Array]:
    """(shaped, key) for each value of a string column: shaped is true for the values of 40 bytes, and their
    key is blob_key's (for 40 hex digits); other values get a key that means nothing."""
    if sys.byteorder != "little":
        raise RuntimeError("blob keys are read from the bytes of the ids as little-endian words")
    rows = len(column)
    if not rows:
        return pa.array([], pa.bool_()), pa.array([], _U64)
    shaped = pc.fill_null(pc.equal(pc.binary_length(column), 40), False)
    if column.null_count or not pc.all(shaped).as_py():
        column = pc.if_else(shaped, column, "0" * 40)
    # The first 16 characters of every value side by side: two 64-bit words a value, 8 ASCII digits each.
    head = pc.binary_slice(column.cast(pa.binary()), 0, 16).cast(pa.binary(16))
    words = pa.Array.from_buffers(_U64, 2 * rows, [None, head.buffers()[1]], offset=2 * head.offset)
    halves = _hex_words(words).cast(pa.uint32())
    # Pairs of 32-bit halves read as one little-endian word hold (second << 32 | first): swap them.
    pairs = pa.Array.from_buffers(_U64, rows, [None, halves.buffers()[1]], offset=halves.offset // 2)
    return shaped, pc.bit_wise_or(pc.shift_left(pairs, _scalar(32)), pc.shift_right(pairs, _scalar(32)))


def release_keys(folder: Path) -> tuple[pa.UInt64Array, dict[str, int]]:
    """The filter's keys for a release folder, sorted and distinct, from repositories.parquet and blobs.parquet;
    with the rows of each kind."""
    folder = Path(folder)
    parts, counts = [], {"repositories": 0, "namespaces": 0, "blobs": 0}
    with pq.ParquetFile(folder / REPOSITORIES_PARQUET) as parquet:
        for batch in parquet.iter_batches(batch_size=100_000, columns=["repository", "scope"]):
            keys = []
            for repository, scope in zip(*batch.to_pydict().values(), strict=True):
                keys.append(repository_key(repository) if scope == "repository" else namespace_key(repository))
                counts["repositories" if scope == "repository" else "namespaces"] += 1
            parts.append(pa.array(keys, _U64))
    with pq.ParquetFile(folder / BLOBS_PARQUET) as parquet:
        for batch in parquet.iter_batches(batch_size=1_000_000, columns=["blob_id"]):
            shaped, keys = blob_keys(batch.column(0))
            if not pc.all(shaped).as_py():
                raise ValueError(f"{folder / BLOBS_PARQUET}: holds a value that is not a blob id")
            parts.append(keys)
            counts["blobs"] += len(keys)
    distinct = pc.unique(pa.chunked_array(parts, _U64))
    return pc.take(distinct, pc.sort_indices(distinct)), counts


class BlobMembership:
    """The blob ids a release lists: the filter answers first, and its "perhaps" is confirmed in the sorted ids."""

    def __init__(self, membership: MembershipFilter, blob_ids: pa.StringArray):
        self.membership = membership
        self.blob_ids = blob_ids  # blobs.parquet's ids, ascending as published

    @property
    def vectorised(self) -> bool:
        """Whether `listed` can run: binary search in Arrow came with pyarrow's search_sorted."""
        return hasattr(pc, "search_sorted")

    def listed(self, column: pa.Array) -> pa.BooleanArray:
        """True for each value of a string column that blobs.parquet lists (nulls and other values: False)."""
        shaped, keys = blob_keys(column)
        perhaps = pc.and_(shaped, self.membership.contains_keys(keys))
        if not pc.any(perhaps).as_py():
            return perhaps
        wanted = pc.take(column, pc.indices_nonzero(perhaps))
        at = pc.min_element_wise(pc.search_sorted(self.blob_ids, wanted), _scalar(len(self.blob_ids) - 1))
        found = pc.equal(pc.take(self.blob_ids, at), wanted)
        return pc.replace_with_mask(perhaps, perhaps, found)

    def is_listed(self, blob_id: str) -> bool:
        """Whether blobs.parquet lists this blob id."""
        key = blob_key(blob_id)
        if key is None or not self.membership.contains_key(key):
            return False
        ids = _SortedStrings(self.blob_ids)
        at = bisect.bisect_left(ids, blob_id)
        return at < len(ids) and ids[at] == blob_id


class _SortedStrings:
    """A sorted Arrow string array as a sequence of Python strings, for bisect: one value converted per probe."""

    def __init__(self, values: pa.StringArray):
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> str:
        return self.values[index].as_py()


def _murmur64(value: int) -> int:
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK64
    return value ^ (value >> 33)


def _hex_words(words: pa.UInt64Array) -> pa.UInt64Array:
    # Eight ASCII hex digits in a little-endian word (the first digit in the lowest byte) to their 32-bit value,
    # all words at once: each byte to its digit ('0'-'9' are 0x30-0x39, 'a'-'f' 0x61-0x66: the low nibble, plus
    # 9 when bit 6 is set), then neighbouring digits, bytes and 16-bit halves are joined, the earlier one high.
    digits = pc.add(
        pc.bit_wise_and(words, _scalar(0x0F0F0F0F0F0F0F0F)),
        pc.multiply(pc.bit_wise_and(pc.shift_right(words, _scalar(6)), _scalar(0x0101010101010101)), _scalar(9)),
    )
    for width, mask in ((4, 0x000F000F000F000F), (8, 0x000000FF000000FF), (16, 0x000000000000FFFF)):
        high = pc.shift_left(pc.bit_wise_and(digits, _scalar(mask)), _scalar(width))
        digits = pc.bit_wise_or(high, pc.bit_wise_and(pc.shift_right(digits, _scalar(2 * width)), _scalar(mask)))
    return digits


def _scalar(value: int) -> pa.Scalar:
    return pa.scalar(value, _U64)
