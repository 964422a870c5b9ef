"""Large, deterministic inputs made from the shipped real files, for the reader benchmarks.

* :func:`lobster_day`: a LOBSTER level-10 day of about ``events`` messages: the GOOG day's message
  and orderbook rows repeated, copy ``k`` squeezed into the ``k``-th of ``copies`` equal slices of
  the 09:30-16:00 session (times stay increasing and within the day; every other field as
  shipped). Plain CSVs.
* :func:`databento_stream`: an MBO stream of at least ``records`` records: the ESH4 day's records
  repeated, each copy preceded by a clear (``R``) so that its opening snapshot rebuilds the book,
  with ``sequence``, ``ts_event``/``ts_recv`` and order ids shifted past the previous copy's, so
  the result is one valid continuous stream. Written as ``.dbn.zst``.

Usage (files land in DIR; delete them afterwards)::

    python benchmarks/scale_inputs.py lobster DIR [--events 5000000]
    python benchmarks/scale_inputs.py databento DIR [--records 10000000]
"""

from __future__ import annotations

import argparse
import io
import struct
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOOG10 = ROOT / "data" / "raw" / "lobster" / "2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
ESH4 = ROOT / "data" / "raw" / "databento" / "2023-12-25" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
SESSION_NS = (34_200 * 10**9, 57_600 * 10**9)
ORDER_ID_STRIDE = 10**13  # above every ESH4 order id


def lobster_day(out_dir: Path, events: int = 5_000_000) -> Path:
    """Write ``GOOG_2012-06-21_34200000_57600000_{message,orderbook}_10.csv``; the message file."""
    with zipfile.ZipFile(GOOG10) as zf:
        names = zf.namelist()
        message = zf.read(next(n for n in names if "_message_" in n)).rstrip(b"\n").split(b"\n")
        book = zf.read(next(n for n in names if "_orderbook_" in n)).rstrip(b"\n") + b"\n"
    times = np.array([_ns(line.split(b",", 1)[0]) for line in message], dtype=np.int64)
    rest = [line.split(b",", 1)[1] for line in message]
    copies = -(-events // len(message))
    start, end = SESSION_NS
    width = (end - start) // copies
    out_dir.mkdir(parents=True, exist_ok=True)
    msg_path = out_dir / "GOOG_2012-06-21_34200000_57600000_message_10.csv"
    with open(msg_path, "wb") as msg, open(msg_path.with_name(msg_path.name.replace("message", "orderbook")), "wb") as ob:
        for k in range(copies):
            shifted = start + k * width + (times - start) // copies
            text = io.BytesIO()
            for t, tail in zip(shifted.tolist(), rest):
                text.write(b"%d.%09d,%s\n" % (t // 10**9, t % 10**9, tail))
            msg.write(text.getvalue())
            ob.write(book)
    return msg_path


def _ns(text: bytes) -> int:
    sec, _, frac = text.partition(b".")
    return int(sec) * 10**9 + int(frac.ljust(9, b"0")[:9] or 0)


def databento_stream(out_dir: Path, records: int = 10_000_000) -> Path:
    """Write ``esh4-x<copies>.mbo.dbn.zst``; its path."""
    import databento_dbn
    import pyarrow as pa

    from obrecon_pipeline.feeds.dbn import MBO_DTYPE, read_body

    body = read_body(ESH4)
    (meta_len,) = struct.unpack_from("<I", body, 4)
    head = body[: 8 + meta_len]
    day = np.frombuffer(body, MBO_DTYPE, offset=8 + meta_len)
    clear = day[:1].copy()
    clear["action"], clear["side"] = b"R", b"N"
    clear["price"], clear["size"], clear["order_id"] = databento_dbn.UNDEF_PRICE, 0, 0
    clear["flags"] = databento_dbn.F_SNAPSHOT
    one = np.concatenate([clear, day])  # a copy: clear, then the day (its snapshot first)
    undef = np.uint64(databento_dbn.UNDEF_TIMESTAMP)
    known = one["ts_recv"][one["ts_recv"] != undef]
    t_step = np.uint64(int(known.max()) - int(one["ts_event"].min()) + 10**9)
    s_step = np.uint32(int(one["sequence"].max()) + 1)
    copies = -(-records // len(one))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"esh4-x{copies}.mbo.dbn.zst"
    with pa.CompressedOutputStream(str(path), "zstd") as sink:
        sink.write(head)
        for k in range(copies):
            part = one.copy()
            for field in ("ts_event", "ts_recv"):
                col = part[field]
                col[col != undef] += np.uint64(k) * t_step
            part["sequence"] += np.uint32(k) * s_step
            live = part["order_id"] != 0
            part["order_id"][live] += np.uint64(k * ORDER_ID_STRIDE)
            sink.write(part.tobytes())
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=("lobster", "databento"))
    p.add_argument("out", type=Path)
    p.add_argument("--events", type=int, default=5_000_000, help="LOBSTER messages")
    p.add_argument("--records", type=int, default=10_000_000, help="Databento records")
    args = p.parse_args()
    path = lobster_day(args.out, args.events) if args.kind == "lobster" else databento_stream(args.out, args.records)
    print(path)


if __name__ == "__main__":
    main()
