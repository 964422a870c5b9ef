"""Reading raw files: decompression with located truncation errors, and strict integer CSVs.

Every failure becomes an :class:`~obrecon_pipeline.errors.InputError` naming the file, the 1-based
row and the reason.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import polars as pl

from obrecon_pipeline.errors import InputError


def _inflate(path: Path, raw: bytes, wbits: int, kind: str) -> bytes:
    """Decompress a whole gzip/zlib stream; a stream cut short names the row it ends in."""
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(raw) + d.flush()
    except zlib.error as exc:
        raise InputError(path, None, f"corrupt {kind} stream: {exc}") from None
    if not d.eof:
        rows = out.count(b"\n")
        raise InputError(path, rows + 1, f"truncated {kind} stream: the file ends inside row {rows + 1}")
    return out


def read_bytes(path: str | Path, member: str | None = None) -> bytes:
    """The decompressed bytes of ``path`` (plain, ``.gz`` or a member of a ``.zip``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "file not found")
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        return _inflate(path, raw, 16 + zlib.MAX_WBITS, "gzip")
    if path.suffix == ".zip" or member is not None:
        if member is None:
            raise InputError(path, None, "a zip archive needs a member name")
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                return zf.read(member)
        except (zipfile.BadZipFile, EOFError, zlib.error, KeyError) as exc:
            raise InputError(path, None, f"cannot read {member!r} from the zip archive: {exc}") from None
    return raw


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


def read_int_csv(path: Path, data: bytes, names: list[str], text_columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """A header-less CSV of integer columns (``text_columns`` stay strings), validated strictly.

    The whole table is parsed in Polars; on any problem the first offending row is located and
    reported with its reason (wrong number of fields, a value that is not an integer).
    """
    if not data.strip():
        raise InputError(path, None, "file is empty")
    lines = split_lines(path, data)
    fields = lines.str.split(",")
    counts = fields.list.len()
    bad = (counts != len(names)).arg_true()
    if bad.len():
        row = int(bad[0])
        raise InputError(path, row + 1, f"expected {len(names)} comma-separated fields, found {int(counts[row])}")
    frame = pl.DataFrame({name: fields.list.get(k) for k, name in enumerate(names)})
    casts = [
        pl.col(n) if n in text_columns else pl.col(n).cast(pl.Int64, strict=False)
        for n in names
    ]
    out = frame.select(casts)
    for name in names:
        if name in text_columns:
            continue
        failed = out[name].is_null().arg_true()
        if failed.len():
            row = int(failed[0])
            raise InputError(path, row + 1, f"{name} {frame[name][row]!r} is not an integer")
    return out
