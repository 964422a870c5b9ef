"""Output files written under a temporary name and renamed into place when complete.

The temporary file is ``.<name>.<pid>.tmp`` beside the destination (a name no parser takes for a
LOBSTER file), so a run that is killed leaves no partial file under a final name. Files are not
fsynced: the rename protects against a killed run, not against losing power.

A gzip file (RFC 1952) is framed here: the header, the deflate stream its writer produces
(:mod:`obrecon_pipeline.simulate._csv`), and the CRC-32 and length of the text it holds.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

#: gzip header: deflate, no name, no time stamp, no extra flags, OS unknown
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


class StagedFile:
    """A file being written; :meth:`publish` renames it into place, :meth:`discard` removes it."""

    def __init__(self, dest: Path, gzip: bool):
        self.dest = Path(dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.dest.with_name(f".{self.dest.name}.{os.getpid()}.tmp")
        self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.gzip = gzip
        self.crc = self.size = self.bytes_written = 0
        if gzip:
            self._write(GZIP_HEADER)

    def _write(self, data) -> None:
        view = memoryview(data).cast("B")
        while view:
            n = os.write(self.fd, view)  # without the GIL
            view = view[n:]
            self.bytes_written += n

    def write(self, text, packed=None) -> None:
        """Append ``text`` (any buffer); for gzip, ``packed`` is its deflate stream."""
        if self.gzip:
            self.crc = zlib.crc32(text, self.crc)
            self.size += len(text)
            text = packed
        self._write(text)

    def finish(self, tail: bytes = b"") -> None:
        """The end of the file: for gzip, the deflate stream's last bytes and the trailer."""
        if self.gzip:
            self._write(tail + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def publish(self) -> None:
        self.close()
        os.replace(self.tmp, self.dest)

    def discard(self) -> None:
        self.close()
        self.tmp.unlink(missing_ok=True)
