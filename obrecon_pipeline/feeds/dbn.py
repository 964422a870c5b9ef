"""Reading Databento Binary Encoding (DBN) market-by-order files into a NumPy record array.

A DBN file (versions 1 to 3) is ``b"DBN"``, one version byte, a little-endian ``uint32`` metadata
length, the metadata, then fixed-size records. An MBO record (``rtype`` 160) is 56 bytes in every
version: a 16-byte header (``length`` in 4-byte words, ``rtype``, ``publisher_id``,
``instrument_id``, ``ts_event``) then ``order_id``, ``price`` (1e-9 fixed point), ``size``,
``flags``, ``channel_id``, ``action``, ``side``, ``ts_recv``, ``ts_in_delta``, ``sequence``.
See https://databento.com/docs/standards-and-conventions/databento-binary-encoding and
https://databento.com/docs/schemas-and-data-formats/mbo.

:class:`DbnReader` reads the body in blocks of whole records: ``.zst`` files are decompressed as a
stream with pyarrow's zstd codec (``CompressedInputStream`` inflates incrementally, across frames),
and each block is viewed with a structured dtype (``np.frombuffer``): no per-record Python object
is created and memory is one block. The metadata is decoded with :class:`databento_dbn.Metadata`.
:func:`read_dbn` reads a whole file (discovery and tests).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import databento_dbn
import numpy as np
import pyarrow as pa

from obrecon_pipeline.errors import InputError

#: the MBO record layout, as databento-dbn itself describes it (identical in DBN v1, v2 and v3)
MBO_DTYPE = np.dtype(databento_dbn.MBOMsg._dtypes)
MBO_RTYPE = 0xA0
#: actions an MBO record may carry: Add, Cancel, Modify, cleaR, Trade, Fill, None
MBO_ACTIONS = b"ACMRTFN"
MBO_SIDES = b"ABN"
_PREAMBLE = 8  # b"DBN" + version byte + uint32 metadata length

assert MBO_DTYPE.itemsize == 56, "databento-dbn changed the MBO layout"


@dataclass(frozen=True)
class DbnFile:
    """A decoded MBO file: its metadata and the records (a read-only view over the body)."""

    path: Path
    version: int
    metadata: databento_dbn.Metadata
    records: np.ndarray  #: structured array of :data:`MBO_DTYPE`

    def instrument_symbols(self) -> dict[int, str]:
        return instrument_symbols(self.metadata)


def _open(path: Path):
    """The file's decompressed byte stream (``.zst`` is zstd; anything else is read as is)."""
    try:
        raw = pa.OSFile(str(path))
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    return pa.CompressedInputStream(raw, "zstd") if path.name.endswith(".zst") else raw


def _read(path: Path, stream, n: int | None) -> bytes:
    """``n`` bytes of ``stream`` (fewer at its end; None: all the rest)."""
    try:
        return stream.read(n)
    except OSError as exc:  # pyarrow reports zstd errors as OSError
        raise InputError(path, None, f"cannot decompress zstd stream: {exc}") from None


def read_body(path: Path) -> bytes:
    """The decompressed bytes of ``path``, whole."""
    with _open(path) as stream:
        return _read(path, stream, None)


#: records per block read by :class:`DbnReader` (3.5 MiB)
BLOCK_RECORDS = 1 << 16


class DbnReader:
    """An MBO ``.dbn`` / ``.dbn.zst`` file: its metadata at once, then its records block by block.

    ``records`` counts the records read so far; record numbers in errors are 1-based positions
    after the metadata. :meth:`skip` goes to a record number (a compressed stream is inflated
    again from the start and the records before it dropped).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._stream = _open(self.path)
        head = _read(self.path, self._stream, _PREAMBLE)
        if len(head) < _PREAMBLE or head[:3] != b"DBN":
            self.close()
            raise InputError(self.path, None, f"not a DBN file: starts with {head[:4]!r}, expected b'DBN'")
        self.version = head[3]
        if not 1 <= self.version <= databento_dbn.DBN_VERSION:
            self.close()
            raise InputError(self.path, None, f"unsupported DBN version {self.version}")
        (meta_len,) = struct.unpack_from("<I", head, 4)
        meta = _read(self.path, self._stream, meta_len)
        if len(meta) < meta_len:
            self.close()
            raise InputError(self.path, None, f"metadata of {meta_len} bytes runs past the end of the file")
        try:
            self.metadata = databento_dbn.Metadata.decode(head + meta)
        except (databento_dbn.DBNError, ValueError) as exc:
            self.close()
            raise InputError(self.path, None, f"unreadable DBN metadata: {exc}") from None
        if self.metadata.schema != databento_dbn.Schema.MBO:
            self.close()
            raise InputError(self.path, None, f"schema is {self.metadata.schema}, only mbo is supported")
        reason = _metadata_problem(self.metadata)
        if reason is not None:
            self.close()
            raise InputError(self.path, None, reason)
        self._body_start = _PREAMBLE + meta_len
        self.records = 0

    def read(self, max_records: int = BLOCK_RECORDS) -> np.ndarray:
        """The next (at most) ``max_records`` records, validated; empty at the end of the file."""
        return np.frombuffer(self.read_bytes(max_records), dtype=MBO_DTYPE)

    def read_bytes(self, max_records: int = BLOCK_RECORDS) -> bytes:
        """:meth:`read`, as the records' bytes."""
        data = _read(self.path, self._stream, max_records * MBO_DTYPE.itemsize)
        self._take(data, len(data))
        return data

    def read_into(self, buffer: memoryview) -> int:
        """Fill ``buffer`` (a whole number of records long) with the next records, validated; how
        many (fewer only at the end of the file). No allocation per call."""
        try:
            got = self._stream.readinto(buffer)
        except OSError as exc:  # pyarrow reports zstd errors as OSError
            raise InputError(self.path, None, f"cannot decompress zstd stream: {exc}") from None
        return self._take(buffer, got)

    def _take(self, data, got: int) -> int:
        """Accept the ``got`` bytes just read into ``data``: whole, valid records; how many."""
        size = MBO_DTYPE.itemsize
        n, rest = divmod(got, size)
        if rest:
            raise InputError(
                self.path, self.records + n + 1, f"truncated record: {rest} of {size} bytes at the end of the file"
            )
        _validate(self.path, np.frombuffer(data, dtype=MBO_DTYPE, count=n), self.records)
        self.records += n
        return n

    def skip(self, records: int) -> None:
        """Continue at record number ``records`` (0-based: the records before it are dropped)."""
        self._stream.close()
        self._stream = _open(self.path)
        _read(self.path, self._stream, self._body_start)
        left = records
        while left:
            data = _read(self.path, self._stream, min(left, BLOCK_RECORDS) * MBO_DTYPE.itemsize)
            if not data:
                raise InputError(self.path, None, f"cannot resume at record {records}: the file has fewer")
            left -= len(data) // MBO_DTYPE.itemsize
        self.records = records

    def instrument_symbols(self) -> dict[int, str]:
        return instrument_symbols(self.metadata)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "DbnReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _metadata_problem(metadata: databento_dbn.Metadata) -> str | None:
    """Why decoded metadata cannot be right (a corrupt byte the decoder accepts), or None: its
    start must be a nanosecond time an int64 holds, and every mapped raw symbol printable text."""
    if metadata.start >= 1 << 63:
        return f"metadata start {metadata.start} is not a time (ns since the epoch, below 2**63)"
    for raw_symbol in metadata.mappings or {}:
        if not raw_symbol or not raw_symbol.isprintable() or raw_symbol.strip() != raw_symbol:
            return f"symbology mapping {raw_symbol!r} is not a printable symbol"
    return None


def instrument_symbols(metadata: databento_dbn.Metadata) -> dict[int, str]:
    """instrument_id -> raw symbol from the metadata's symbology mappings (may be empty)."""
    out: dict[int, str] = {}
    if metadata.stype_out != databento_dbn.SType.INSTRUMENT_ID:
        return out
    for raw_symbol, intervals in (metadata.mappings or {}).items():
        for interval in intervals:
            target = interval["symbol"]
            if target.isdigit():
                out[int(target)] = raw_symbol
    return out


def read_dbn(path: str | Path) -> DbnFile:
    """Decode a whole MBO ``.dbn`` / ``.dbn.zst`` file; :class:`InputError` on anything malformed."""
    with DbnReader(path) as reader:
        blocks = []
        while (block := reader.read()).shape[0]:
            blocks.append(block)
        records = np.concatenate(blocks) if blocks else np.empty(0, MBO_DTYPE)
        return DbnFile(path=reader.path, version=reader.version, metadata=reader.metadata, records=records)


def _table(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars, np.uint8)] = True
    return table


_ACTION_OK, _SIDE_OK = _table(MBO_ACTIONS), _table(MBO_SIDES)


def _validate(path: Path, rec: np.ndarray, before: int = 0) -> None:
    """Every record must be a 56-byte MBO record with a known action and side (``before``: records
    of the file before ``rec``, for the record numbers). One combined pass; the first failing
    record and its reason are looked up only when it finds one."""
    fine = ((rec["rtype"] == MBO_RTYPE) & (rec["length"] == MBO_DTYPE.itemsize // 4)
            & _ACTION_OK[rec["action"].view(np.uint8)] & _SIDE_OK[rec["side"].view(np.uint8)])
    if fine.all():
        return
    checks = (
        (rec["rtype"] != MBO_RTYPE, lambda r: f"record type {r['rtype']} is not MBO ({MBO_RTYPE})"),
        (
            rec["length"].astype(np.int64) * 4 != MBO_DTYPE.itemsize,
            lambda r: f"record length {int(r['length']) * 4} bytes, an MBO record has {MBO_DTYPE.itemsize}",
        ),
        (~np.isin(rec["action"], np.frombuffer(MBO_ACTIONS, "S1")), lambda r: f"unknown action {bytes(r['action'])!r}"),
        (~np.isin(rec["side"], np.frombuffer(MBO_SIDES, "S1")), lambda r: f"unknown side {bytes(r['side'])!r}"),
    )
    for bad, reason in checks:
        hits = np.flatnonzero(bad)
        if hits.size:
            i = int(hits[0])
            raise InputError(path, before + i + 1, reason(rec[i]))
