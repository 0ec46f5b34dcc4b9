"""A release's membership filter, built with pyfusefilter: the only module that imports it.

pyfusefilter's classes hash each item as xxhash of str(item) (which xxhash 4 refuses) and serialize in the
host's byte order with no version, so the filter is built here from keys of our own definition with its C
functions, and written in the documented format of `exclusions/membership.py`, which the client reads
without pyfusefilter. Construction is deterministic: the same keys give the same bytes.
"""

import sys
from array import array
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
from pyfusefilter._xorfilter import ffi, lib

from exclusions.membership import MembershipFilter, membership_write, release_keys
from exclusions.release_files import FileInfo
from governance.exceptions import GovernanceError


def membership_build(*, folder: Path) -> FileInfo:
    """Write membership.fuse16 for the repositories.parquet and blobs.parquet already written in `folder`."""
    keys, counts = release_keys(folder)
    # Fuse16, not Fuse8: twice the bytes (2.25 a key instead of 1.13: 22.5 MB for 10 million keys, a twentieth
    # of the sorted ids the client confirms against) for 166 false positives in 10 million lookups instead of
    # 38,964, at the same lookup cost (bench/fuse.py): every pipeline has 235 times fewer rows to confirm.
    return membership_write(replace(fuse_build(keys), **counts), folder)


def fuse_build(keys: pa.UInt64Array, *, bits: int = 16) -> MembershipFilter:
    """A binary fuse filter (Fuse16, or Fuse8 with bits=8) over distinct uint64 keys."""
    count = len(keys)
    if count >= 1 << 32:
        raise GovernanceError(f"{count:,} keys: a binary fuse filter holds fewer than 2^32")
    # The C function may reorder the keys it is given: it gets a copy, never Arrow's immutable memory.
    words = memoryview(keys.buffers()[1])[8 * keys.offset : 8 * (keys.offset + count)] if count else b""
    copy = bytearray(words) or bytearray(8)
    name = f"binary_fuse{bits}"
    fuse = ffi.new(f"{name}_t *")
    if not getattr(lib, f"{name}_allocate")(count, fuse):
        raise MemoryError(f"no memory for a filter of {count:,} keys")
    try:
        if not getattr(lib, f"{name}_populate")(ffi.from_buffer("uint64_t[]", copy), count, fuse):
            raise GovernanceError(f"the membership filter of {count:,} keys could not be built")
        fingerprints = array(
            "H" if bits == 16 else "B", bytes(ffi.buffer(fuse.Fingerprints, bits // 8 * fuse.ArrayLength))
        )
        if sys.byteorder != "little":
            fingerprints.byteswap()
        return MembershipFilter(
            seed=fuse.Seed,
            segment_length=fuse.SegmentLength,
            segment_count_length=fuse.SegmentCountLength,
            fingerprints=fingerprints.tobytes(),
            keys=count,
            bits=bits,
        )
    finally:
        getattr(lib, f"{name}_free")(fuse)
