"""Reader for cryptofeed's raw capture files (websocket sessions and REST calls).

cryptofeed's raw-data recorder writes one line per event, plain or gzipped:

=====================================  =====================================================
``<wss url> <-> <ts>``                 websocket connect (``kind = "connect"``)
``<wss url> <- <ts>: <json>``          a message we sent, e.g. a subscription (``"sent"``)
``<ts>: <json>``                       a message received on the websocket (``"recv"``)
``<https url> -> <ts>: <body>``        a REST call and its response body (``"rest"``)
``configuration: <json>``              the recorder's configuration (``"config"``)
=====================================  =====================================================

``<ts>`` is the local receive time in Unix seconds with a decimal fraction; it is converted to
integer nanoseconds from its digits (no float). JSON bodies are decoded with every JSON float
kept as its exact literal string, so prices and sizes sent as numbers stay exact.

Venues that send binary websocket frames (Huobi: gzip-compressed JSON; Upbit: JSON as bytes) are
recorded as the Python ``repr`` of the frame, a bytes literal ``b'...'`` / ``b"..."``. Such a body
is decoded exactly: ``ast.literal_eval`` of the literal alone (nothing but a bytes literal is
accepted), gunzipped when it starts with the gzip magic ``1f 8b``, then read as JSON as above.

Bad lines (undecodable bytes, a layout not in the table, a body that is not JSON, a bytes literal
that does not evaluate or a gzip frame that does not decompress) are a
*counted quarantine*: they go to :attr:`Capture.quarantine` as ``(file, line, reason)`` and the
rest of the file is read. A file that cannot be read as a whole (missing, truncated or corrupt
gzip) raises :class:`~obrecon_pipeline.errors.InputError` with the line where reading stopped.

Memory: a capture up to :data:`STREAM_ABOVE` bytes (:func:`~obrecon_pipeline.feeds._io.held_bytes`: decompressed, for gzip) is parsed once and held (one file holds
many symbols' streams, each read from it); a larger one is read by lines on every pass, so a day
of any length costs one line of the capture, and :meth:`Capture.merged_with` merges it with the
REST responses as it goes when its received times are in order (found by a pass over the times
when first needed; else it sorts, as for a small file).
"""

from __future__ import annotations

import ast
import functools
import gzip
import heapq
import json
import re
import zlib
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from obrecon_pipeline.errors import InputError
from obrecon_pipeline.feeds._io import STREAM_ABOVE, held_bytes
from obrecon_pipeline.feeds.cryptofeed._capture_scan import CRYPTOFEED

_TS = r"(?P<ts>\d+(?:\.\d+)?)"
_LAYOUTS = (
    ("recv", re.compile(rf"^{_TS}: (?P<body>.*)$", re.S)),
    ("connect", re.compile(rf"^(?P<url>\S+) <-> {_TS}\s*$")),
    ("sent", re.compile(rf"^(?P<url>\S+) <- {_TS}: (?P<body>.*)$", re.S)),
    ("rest", re.compile(rf"^(?P<url>\S+) -> {_TS}: (?P<body>.*)$", re.S)),
    ("config", re.compile(r"^configuration: (?P<body>.*)$", re.S)),
)


@dataclass(frozen=True, slots=True)
class Record:
    """One line of a capture."""

    kind: str  #: ``recv``, ``sent``, ``connect``, ``rest`` or ``config``
    ts_ns: int  #: local receive time, ns since the epoch (0 for ``config``)
    line: int  #: 1-based line number in the decompressed file
    url: str | None
    body: Any  #: decoded JSON (None for ``connect``)
    path: str  #: the capture file




class Capture:
    """A capture file's records: held parsed (files up to :data:`STREAM_ABOVE`), or read by lines
    again on every pass (larger files: memory is one line, not the file)."""

    def __init__(self, path: Path, records: list[Record] | None = None,
                 quarantine: list[tuple[str, int, str]] | None = None, recv_in_order: bool | None = False,
                 from_file: bool = False, line_format: "LineFormat | None" = None):
        self.path = path
        #: the records are the lines of the capture file ``path`` (:func:`read_capture`), read by
        #: a scanner over its bytes (:mod:`.binance_lines`) in ``line_format``, not records another
        #: reader built
        self.from_file = from_file
        self.line_format = line_format or CRYPTOFEED_LINES
        self._records = records
        self._quarantine = quarantine
        self._recv_in_order = recv_in_order

    @property
    def recv_in_order(self) -> bool:
        """The received messages' times never decrease in the file (a read-by-lines capture then
        merges with the REST responses as it goes, without sorting); found by a pass over the
        lines' times the first time it is asked (None until then)."""
        if self._recv_in_order is None:
            self._recv_in_order = _times_in_order(self.path)
        return self._recv_in_order

    @property
    def records(self) -> Iterable[Record]:
        return self._records if self._records is not None else _Pass(self)

    def read_whole(self, quarantine: list[tuple[str, int, str]]) -> None:
        """Another reader (:mod:`.binance_lines`) made a whole pass over the file: its
        ``quarantine`` is this capture's (so that asking for it reads nothing again)."""
        if self._quarantine is None:
            self._quarantine = quarantine

    @property
    def quarantine(self) -> list[tuple[str, int, str]]:
        """``(file, line, reason)`` of lines that could not be read."""
        if self._quarantine is None:
            for _ in _Pass(self):
                pass
        return self._quarantine

    def received(self) -> Iterator[Record]:
        return tracked(r for r in self.records if r.kind == "recv")

    def merged_with(self, rest: list["Capture"]) -> Iterator[Record]:
        """Received websocket messages and REST responses in receive-time order.

        Ties keep file order, websocket first: a REST response logged at the same instant as a
        websocket message was requested before it arrived.
        """
        by_time = lambda r: r.ts_ns  # noqa: E731
        responses = sorted((r for cap in rest for r in cap.records if r.kind == "rest"), key=by_time)
        received = (r for r in self.records if r.kind == "recv")
        if self._records is None and self.recv_in_order:  # the same order as the sort, in one pass
            return tracked(heapq.merge(received, responses, key=by_time))
        return tracked(sorted([*received, *responses], key=by_time))  # stable: file order on ties


class _Pass:
    """One pass over a read-by-lines capture (iterable again: each iteration reads the file anew)."""

    def __init__(self, cap: Capture):
        self.cap = cap

    def __iter__(self) -> Iterator[Record]:
        quarantine: list[tuple[str, int, str]] = []
        yield from _parsed(self.cap.path, quarantine)
        self.cap._quarantine = quarantine


#: the record a venue module is translating (set by the iterators :class:`Capture` hands out), so
#: that a message of an unexpected shape can be reported at its file and line
CURRENT: ContextVar[Record | None] = ContextVar("current_record", default=None)


def tracked(records: Iterable[Record]) -> Iterator[Record]:
    """``records``, each set as :data:`CURRENT` while a venue module translates it."""
    for rec in records:
        CURRENT.set(rec)
        yield rec


#: what reading a message of an unexpected shape raises (a missing member, a list where an object
#: belongs, a string where a number belongs, ...)
SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)


def translating(path: Path, what: str, fn, *args):
    """``fn(*args)``, with any shape error turned into an :class:`InputError` at the record the
    venue module was reading (its file and line), or at ``path`` when it was not reading one."""
    token = CURRENT.set(None)
    try:
        return fn(*args)
    except SHAPE_ERRORS as exc:
        rec = CURRENT.get()
        reason = f"{what}: unexpected message shape ({type(exc).__name__}: {exc})"
        if rec is None:
            raise InputError(path, None, reason) from None
        raise InputError(rec.path, rec.line, reason) from None
    finally:
        CURRENT.reset(token)


def seconds_to_ns(text: str) -> int:
    """``"1618678132.3858151"`` -> ``1618678132385815100`` exactly (digits beyond ns truncated);
    ``ValueError`` beyond int64 nanoseconds (year 2262: a corrupt timestamp, quarantined)."""
    whole, _, frac = text.partition(".")
    ns = int(whole) * 1_000_000_000 + int((frac + "000000000")[:9])
    if ns >= 1 << 63:
        raise ValueError(f"receive time {text} s is beyond the 64-bit nanosecond range")
    return ns


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of a plain or gzip file; a missing file or a truncated or corrupt
    gzip stream is an :class:`InputError` at the line where reading stopped."""
    opener = gzip.open if path.name.endswith(".gz") else open
    n = 0
    try:
        with opener(path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                yield n, raw
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise InputError(path, n + 1, f"truncated or corrupt gzip stream ({exc})") from None


def parse_line(text: str, path: str, line: int) -> Record:
    """One capture line as a :class:`Record`; ``ValueError`` with the reason when it is not one."""
    for kind, pattern in _LAYOUTS:
        m = pattern.match(text)
        if m is None:
            continue
        groups = m.groupdict()
        ts = seconds_to_ns(groups["ts"]) if groups.get("ts") else 0
        body = _json(groups["body"], kind) if "body" in groups else None
        return Record(kind, ts, line, groups.get("url"), body, path)
    raise ValueError("line matches no cryptofeed capture layout")


GZIP_MAGIC = b"\x1f\x8b"


def _frame(literal: str, kind: str) -> bytes:
    """The bytes of a binary frame recorded as a Python bytes literal, gunzipped when gzip."""
    try:
        frame = ast.literal_eval(literal)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"undecodable bytes literal in a {kind!r} line: {type(exc).__name__}: {exc}") from None
    if not isinstance(frame, bytes):
        raise ValueError(f"a {kind!r} body starting b' evaluates to {type(frame).__name__}, not one bytes literal")
    if frame.startswith(GZIP_MAGIC):
        try:
            return gzip.decompress(frame)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise ValueError(f"corrupt gzip frame in a {kind!r} line: {exc}") from None
    return frame


def _json(text: str, kind: str):
    """A body as JSON (floats kept as their literal strings); bytes literals via :func:`_frame`."""
    binary = text.startswith(("b'", 'b"'))
    try:
        return json.loads(_frame(text, kind) if binary else text, parse_float=str)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"a {kind!r} line (bytes literal)" if binary else f"a {kind!r} line"
        raise ValueError(f"malformed JSON in {where}: {exc}") from None


def read_capture(path: str | Path) -> Capture:
    """Read a whole capture file (see the module docstring for errors and quarantine).

    One websocket capture holds many symbols' streams, so the parsed file is cached (keyed by
    path, size and modification time); callers must not mutate the returned capture.
    """
    return _read_capture(*file_version(path))


def file_version(path: str | Path) -> tuple[Path, int, int]:
    """``(resolved path, size, mtime_ns)``: what a cache of a parsed capture is keyed by."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    return path.resolve(), st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _read_capture(path: Path, size: int, mtime_ns: int) -> Capture:
    if held_bytes(path) > STREAM_ABOVE:
        return scanned(path)
    quarantine: list[tuple[str, int, str]] = []
    cap = Capture(path, list(_parsed(path, quarantine)), quarantine, from_file=True)
    if not cap.records and not cap.quarantine:
        raise InputError(path, None, "empty capture file")
    return cap


def _parsed(path: Path, quarantine: list) -> Iterator[Record]:
    """The file's records in file order; unreadable lines go to ``quarantine``."""
    name = str(path)
    for line, raw in read_lines(path):
        if raw.strip() == b"":
            continue  # the recorder ends files with blank lines
        rec = record_of(raw, name, line, quarantine)
        if rec is not None:
            yield rec


def record_of(raw: bytes, name: str, line: int, quarantine: list) -> Record | None:
    """One non-blank raw line as a :class:`Record`, or None with ``(file, line, reason)`` appended
    to ``quarantine`` when it cannot be read."""
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        quarantine.append((name, line, f"not UTF-8: {exc}"))
        return None
    try:
        return parse_line(text, name, line)
    except ValueError as exc:
        quarantine.append((name, line, str(exc)))
        return None


@dataclass(frozen=True)
class LineFormat:
    """How a capture's lines are written: the scanner's ``layout`` (:mod:`._capture_scan`) and the
    reader of one raw line the scanner leaves (``record_of(raw, path, line, quarantine)``: a
    :class:`Record`, or None with the line quarantined, or an :class:`InputError`)."""

    layout: int
    record_of: Callable[[bytes, str, int, list], Record | None]


CRYPTOFEED_LINES = LineFormat(CRYPTOFEED, record_of)

_RECV_TS = re.compile(rb"^(\d+)(?:\.(\d+))?: ")


def scanned(path: Path, line_format: LineFormat | None = None) -> Capture:
    """A capture to read by lines (a large cryptofeed capture, any hftbacktest file). Opening it
    reads up to its first line (an empty file is an error at once); whether its received times
    are in order is found when first asked (:attr:`Capture.recv_in_order`), so that a reader that
    passes over the file itself (:mod:`.binance_lines`) reads it once. A corrupt gzip stream is
    the error of the first pass."""
    if not any(raw.strip() for _, raw in read_lines(path)):
        raise InputError(path, None, "empty capture file")
    return Capture(path, None, None, recv_in_order=None, from_file=True, line_format=line_format)


def _times_in_order(path: Path) -> bool:
    """Whether the received lines' times never decrease (one pass over the lines, no JSON)."""
    last = -1
    for _, raw in read_lines(path):
        m = _RECV_TS.match(raw)
        if m is not None:
            ts = seconds_to_ns(m.group(0)[:-2].decode())
            if ts < last:
                return False
            last = ts
    return True
