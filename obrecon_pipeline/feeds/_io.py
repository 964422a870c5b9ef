"""Reading raw files whole: decompression with located truncation errors, and lines.

Every failure becomes an :class:`~obrecon_pipeline.errors.InputError` naming the file, the 1-based
row and the reason.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds._blocks import RawBlocks, TruncatedStream

#: a raw file holding more than this (:func:`held_bytes`) is read block by block instead of being held whole (one
#: day of a busy symbol runs to gigabytes of JSON or CSV): a cryptofeed capture by lines on every
#: pass (:mod:`.cryptofeed.capture`), a Tardis ``incremental_book_L2`` file into a spill
#: (:mod:`.tardis_blocks`)
STREAM_ABOVE = 64 << 20
#: deflate's largest expansion, decompressed over compressed bytes (zlib's technical details: 1032:1)
DEFLATE_MAX_RATIO = 1032


def held_bytes(path: str | Path) -> int:
    """The bytes ``path`` would hold in memory read whole, as compared with :data:`STREAM_ABOVE`:
    its size on disk, or for a ``.gz`` file the larger of that and the decompressed size its
    last member records (RFC 1952 section 2.3.1: ``ISIZE``, the last 4 bytes, little-endian, the
    member's input size modulo 2**32), so a small file of highly compressed text is not held whole.
    A file of several members is judged by its last; one too short for a trailer, or whose
    ``ISIZE`` exceeds what deflate can reach (:data:`DEFLATE_MAX_RATIO` times the file's size: a
    file cut short ends inside its data, not in a trailer), by its size — held whole, so its
    error is named at once."""
    path = Path(path)
    size = path.stat().st_size
    if path.suffix != ".gz" or size < 18:  # a member is at least a 10-byte header and 8-byte trailer
        return size
    with path.open("rb") as f:
        f.seek(-4, 2)
        isize = int.from_bytes(f.read(4), "little")
    return max(size, isize) if isize <= DEFLATE_MAX_RATIO * size else size


def read_bytes(path: str | Path, member: str | None = None) -> bytes:
    """The decompressed bytes of ``path`` (plain, ``.gz`` with every member, or a member of a
    ``.zip``), whole; a stream cut short names the row it ends in."""
    path = Path(path)
    if path.suffix == ".zip" and member is None:
        raise InputError(path, None, "a zip archive needs a member name")
    blocks = RawBlocks(path, member)
    parts = []
    try:
        while block := blocks.read():
            parts.append(block)
    except TruncatedStream as cut:
        rows = sum(part.count(b"\n") for part in parts)
        raise InputError(path, rows + 1, f"truncated {cut.kind} stream: the file ends inside row {rows + 1}") from None
    finally:
        blocks.close()
    return b"".join(parts)


def zip_members(path: str | Path) -> list[str]:
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(path, None, f"not a readable zip archive: {exc}") from None


def split_lines(path: Path, data: bytes) -> pl.Series:
    """One string per line (a final newline does not make an extra empty line)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise InputError(path, row, f"byte {data[exc.start]:#04x} is not ASCII text") from None
    if text.endswith("\n"):
        text = text[:-1]
    return pl.Series("line", [text]).str.split("\n").explode(empty_as_null=False).str.strip_chars_end("\r")
