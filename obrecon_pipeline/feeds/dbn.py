"""Reading Databento Binary Encoding (DBN) market-by-order files into a NumPy record array.

A DBN file (versions 1 to 3) is ``b"DBN"``, one version byte, a little-endian ``uint32`` metadata
length, the metadata, then fixed-size records. An MBO record (``rtype`` 160) is 56 bytes in every
version: a 16-byte header (``length`` in 4-byte words, ``rtype``, ``publisher_id``,
``instrument_id``, ``ts_event``) then ``order_id``, ``price`` (1e-9 fixed point), ``size``,
``flags``, ``channel_id``, ``action``, ``side``, ``ts_recv``, ``ts_in_delta``, ``sequence``.
See https://databento.com/docs/standards-and-conventions/databento-binary-encoding and
https://databento.com/docs/schemas-and-data-formats/mbo.

The body is viewed in place with a structured dtype (``np.frombuffer``): no per-record Python
object is created. ``.zst`` files are decompressed with pyarrow's zstd codec (a whole, possibly
multi-frame stream); the metadata is decoded with :class:`databento_dbn.Metadata`.
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
        """instrument_id -> raw symbol from the metadata's symbology mappings (may be empty)."""
        out: dict[int, str] = {}
        if self.metadata.stype_out != databento_dbn.SType.INSTRUMENT_ID:
            return out
        for raw_symbol, intervals in (self.metadata.mappings or {}).items():
            for interval in intervals:
                target = interval["symbol"]
                if target.isdigit():
                    out[int(target)] = raw_symbol
        return out


def read_body(path: Path) -> bytes:
    """The decompressed bytes of ``path`` (``.zst`` is zstd; anything else is read as is)."""
    try:
        if path.name.endswith(".zst"):
            with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
                return stream.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except OSError as exc:  # pyarrow reports zstd errors as OSError
        raise InputError(path, None, f"cannot decompress zstd stream: {exc}") from None


def read_dbn(path: str | Path) -> DbnFile:
    """Decode an MBO ``.dbn`` / ``.dbn.zst`` file; :class:`InputError` on anything malformed.

    Record numbers in errors are 1-based positions of the record after the metadata.
    """
    path = Path(path)
    body = read_body(path)
    if len(body) < _PREAMBLE or body[:3] != b"DBN":
        raise InputError(path, None, f"not a DBN file: starts with {body[:4]!r}, expected b'DBN'")
    version = body[3]
    if not 1 <= version <= databento_dbn.DBN_VERSION:
        raise InputError(path, None, f"unsupported DBN version {version}")
    (meta_len,) = struct.unpack_from("<I", body, 4)
    start = _PREAMBLE + meta_len
    if start > len(body):
        raise InputError(path, None, f"metadata of {meta_len} bytes runs past the end of the file")
    try:
        metadata = databento_dbn.Metadata.decode(body[:start])
    except (databento_dbn.DBNError, ValueError) as exc:
        raise InputError(path, None, f"unreadable DBN metadata: {exc}") from None
    if metadata.schema != databento_dbn.Schema.MBO:
        raise InputError(path, None, f"schema is {metadata.schema}, only mbo is supported")
    n_bytes = len(body) - start
    n, rest = divmod(n_bytes, MBO_DTYPE.itemsize)
    if rest:
        raise InputError(
            path, n + 1, f"truncated record: {rest} of {MBO_DTYPE.itemsize} bytes at the end of the file"
        )
    records = np.frombuffer(body, dtype=MBO_DTYPE, count=n, offset=start)
    _validate(path, records)
    return DbnFile(path=path, version=version, metadata=metadata, records=records)


def _validate(path: Path, rec: np.ndarray) -> None:
    """Every record must be a 56-byte MBO record with a known action and side."""
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
            raise InputError(path, i + 1, f"{reason(rec[i])} ({hits.size} such records)")
