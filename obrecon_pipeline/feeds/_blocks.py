"""A raw file's decompressed bytes, block by block, and those blocks cut into spans of whole lines.

:class:`RawBlocks` reads a plain file (large reads), a gzip file (streaming inflate with
:func:`zlib.decompressobj`; a multi-member file, as ``gzip -c a > f; gzip -c b >> f`` makes, is
read whole, member after member as RFC 1952 section 2.2 defines it) or a member of a zip archive
(streamed through :meth:`zipfile.ZipFile.open`). Memory is one block, whatever the file's size.
A position is the count of decompressed bytes delivered; :meth:`RawBlocks.skip` goes to one
(plain files seek; compressed streams are inflated again from the start and the bytes before the
position dropped).

:class:`LineSpans` turns the blocks into spans ``(buffer, start, end)`` whose bytes are whole lines
(``buffer[end - 1] == "\\n"``; the last line of a file without a final newline gets one), which is
what the Cython parsers (:mod:`obrecon_pipeline.feeds._lobster_csv`) need: a row cut by a block
boundary is carried over and joined with the next block. A stream cut short (truncated gzip) is an
:class:`~obrecon_pipeline.errors.InputError` naming the row it ends in.

:class:`MappedSpans` gives the same spans for a plain file without reading it into blocks: the file
is mapped into memory and each span is a window of it (``read`` copied every byte from the page
cache into a new block: ``_copy_to_iter`` was 8 % of the CPU of a 10 M-event LOBSTER day replayed
with its orderbook file). Pages parsed past are dropped from the mapping (``MADV_DONTNEED``; the
page cache keeps them), so the process's resident memory stays about one window, whatever the
file's size, and the next window is asked for ahead (``MADV_WILLNEED``: the kernel reads it while
this one is parsed, so a file not in the page cache costs fewer waits on the disk).
:func:`line_spans` picks the one that fits the file.
"""

from __future__ import annotations

import mmap
import zipfile
import zlib
from pathlib import Path

from obrecon_pipeline.errors import InputError

#: decompressed bytes per block (large enough that per-block Python work is noise)
BLOCK_SIZE = 4 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class TruncatedStream(Exception):
    """The compressed stream ended inside a member (``kind``: ``"gzip"``)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class RawBlocks:
    """Decompressed blocks of ``path`` (plain, gzip or the zip ``member``); ``read()`` gives the
    next block, ``b""`` at the end."""

    def __init__(self, path: str | Path, member: str | None = None, block_size: int = BLOCK_SIZE):
        self.path = Path(path)
        self.member = member
        self.block_size = block_size
        self.position = 0  #: decompressed bytes delivered so far
        if not self.path.is_file():
            raise InputError(self.path, None, "file not found")
        self._open()

    @property
    def label(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    def _open(self) -> None:
        self._file = None
        self._zip = None
        self._inflate = None
        self._leftover = b""  # bytes past a resume position, given by the next read
        self.position = 0
        if self.member is not None:
            try:
                self._zip = zipfile.ZipFile(self.path)
                self._file = self._zip.open(self.member)
            except (zipfile.BadZipFile, EOFError, zlib.error, KeyError, OSError) as exc:
                raise self._zip_error(exc) from None
            return
        self._file = open(self.path, "rb")
        if self.path.suffix == ".gz" or self._file.read(2) == _GZIP_MAGIC:
            self._inflate = zlib.decompressobj(_GZIP_WBITS)
            self._pending = b""  # compressed bytes not yet given to the inflater
        self._file.seek(0)

    def _zip_error(self, exc: BaseException) -> InputError:
        return InputError(self.path, None, f"cannot read {self.member!r} from the zip archive: {exc}")

    def read(self) -> bytes:
        if self._leftover:
            block, self._leftover = self._leftover, b""
        elif self._inflate is not None:
            block = self._read_gzip()
        elif self._zip is not None:
            try:
                block = self._file.read(self.block_size)
            except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
                raise self._zip_error(exc) from None
        else:
            block = self._file.read(self.block_size)
        self.position += len(block)
        return block

    def _read_gzip(self) -> bytes:
        d = self._inflate
        while True:
            if d.eof:
                rest = d.unused_data or self._file.read(1 << 20)
                if not rest:
                    return b""
                if rest[:2] != _GZIP_MAGIC[: len(rest)]:
                    raise InputError(self.path, None, "corrupt gzip stream: bytes after a gzip member are not a gzip member")
                d = self._inflate = zlib.decompressobj(_GZIP_WBITS)
                self._pending = rest
            data = d.unconsumed_tail or self._pending or self._file.read(1 << 20)
            self._pending = b""
            if not data:
                raise TruncatedStream("gzip")
            try:
                out = d.decompress(data, self.block_size)
            except zlib.error as exc:
                raise InputError(self.path, None, f"corrupt gzip stream: {exc}") from None
            if out:
                return out

    def skip(self, position: int) -> None:
        """Continue from the decompressed byte ``position`` (seek, or inflate again and drop)."""
        if self._inflate is None and self._zip is None:
            self._file.seek(position)
            self.position = position
            return
        self.close()
        self._open()
        while self.position < position:
            want = position - self.position
            block = self.read()
            if not block:
                raise InputError(self.path, None, f"cannot resume at byte {position}: the stream has {self.position} bytes")
            if len(block) > want:  # keep the bytes past the position for the next read
                self._leftover = block[want:]
                self.position = position

    def plain_file(self):
        """The open file when it is plain (neither gzip nor a zip member), else None."""
        return self._file if self._inflate is None and self._zip is None else None

    def close(self) -> None:
        for f in (self._file, self._zip):
            if f is not None:
                f.close()


class LineSpans:
    """Spans of whole lines over :class:`RawBlocks`.

    :meth:`span` gives the current span ``(buffer, start, end)`` (reading on when it is used up;
    None at the end of the file); the caller parses from ``start`` and reports how far it got with
    :meth:`advance`. :attr:`position` is the file offset of the first byte not yet parsed.
    ``rows_before()`` (the caller's count of rows parsed) names the row a truncated stream ends in.
    """

    def __init__(self, blocks: RawBlocks, rows_before):
        self.blocks = blocks
        self._rows_before = rows_before
        self._buf, self._start, self._end, self._base = b"", 0, 0, blocks.position
        self._rest, self._rest_base = b"", 0  # the start of a line cut by a block boundary
        self._queued = None  # (block, start, offset of block[0]): a block's lines after a joined line

    @property
    def position(self) -> int:
        return self._base + self._start

    def span(self) -> tuple[bytes, int, int] | None:
        while self._start >= self._end:
            if not self._fill():
                return None
        return self._buf, self._start, self._end

    def advance(self, pos: int) -> None:
        self._start = pos

    def _set(self, buf: bytes, start: int, end: int, base: int) -> None:
        self._buf, self._start, self._end, self._base = buf, start, end, base

    def _read(self) -> tuple[bytes, int]:
        base = self.blocks.position
        try:
            return self.blocks.read(), base
        except TruncatedStream as cut:
            row = self._rows_before() + 1
            raise InputError(self.blocks.label, row,
                             f"truncated {cut.kind} stream: the file ends inside row {row}") from None

    def _fill(self) -> bool:
        while True:
            if self._queued is not None:
                (block, start, base), self._queued = self._queued, None
            else:
                (block, base), start = self._read(), 0
                if not block:
                    if not self._rest:
                        return False
                    line, self._rest = self._rest + b"\n", b""  # the last line has no newline
                    self._set(line, 0, len(line), self._rest_base)
                    return True
            if self._rest:
                nl = block.find(b"\n", start)
                if nl < 0:
                    self._rest += block[start:]
                    continue
                line, self._rest = self._rest + block[start: nl + 1], b""
                self._set(line, 0, len(line), self._rest_base)
                if nl + 1 < len(block):
                    self._queued = (block, nl + 1, base)
                return True
            last = block.rfind(b"\n", start)
            if last < 0:
                self._rest, self._rest_base = block[start:], base + start
                continue
            self._set(block, start, last + 1, base)
            if last + 1 < len(block):
                self._rest, self._rest_base = block[last + 1:], base + last + 1
            return True


class MappedSpans:
    """:class:`LineSpans` (same :meth:`span`, :meth:`advance`, :attr:`position`) over a plain,
    non-empty file mapped into memory, from the position ``blocks`` is at: windows of
    ``blocks.block_size`` bytes cut at their last newline (a longer line makes a longer window),
    the pages behind the current window dropped from the mapping; a last line without a newline is
    given as a copy with one."""

    def __init__(self, blocks: RawBlocks):
        self._map = mmap.mmap(blocks.plain_file().fileno(), 0, access=mmap.ACCESS_READ)
        self._map.madvise(mmap.MADV_SEQUENTIAL)
        self._view = memoryview(self._map)
        self._size = len(self._map)
        self._window = blocks.block_size
        self._start = self._end = blocks.position
        self._dropped = 0  # pages before this offset are dropped from the mapping
        self._tail: bytes | None = None  # the last line, when it has no newline
        self._tail_start = 0

    @property
    def position(self) -> int:
        if self._tail is not None:
            return min(self._size - len(self._tail) + 1 + self._tail_start, self._size)
        return self._start

    def span(self) -> tuple[bytes | memoryview, int, int] | None:
        if self._tail is not None:
            return (self._tail, self._tail_start, len(self._tail)) if self._tail_start < len(self._tail) else None
        if self._start < self._end:
            return self._view, self._start, self._end
        if self._start >= self._size:
            return None
        done = self._start - self._start % mmap.PAGESIZE
        if done > self._dropped:
            self._map.madvise(mmap.MADV_DONTNEED, self._dropped, done - self._dropped)
            self._dropped = done
        limit = min(self._start + self._window, self._size)
        ahead = limit - limit % mmap.PAGESIZE  # the next window, read ahead while this one is parsed
        if ahead < self._size:
            self._map.madvise(mmap.MADV_WILLNEED, ahead, min(self._window, self._size - ahead))
        nl = self._map.rfind(b"\n", self._start, limit)
        if nl < 0:
            nl = self._map.find(b"\n", limit, self._size)
        if nl < 0:
            self._tail = bytes(self._view[self._start:self._size]) + b"\n"
            return self._tail, 0, len(self._tail)
        self._end = nl + 1
        return self._view, self._start, self._end

    def advance(self, pos: int) -> None:
        if self._tail is not None:
            self._tail_start = pos
        else:
            self._start = pos


def line_spans(blocks: RawBlocks, rows_before) -> LineSpans | MappedSpans:
    """The spans of whole lines of ``blocks``: mapped for a plain non-empty file, else read."""
    plain = blocks.plain_file()
    if plain is not None and blocks.position < blocks.path.stat().st_size:
        return MappedSpans(blocks)
    return LineSpans(blocks, rows_before)
