"""Output files written under a temporary name and renamed into place when complete.

The temporary file is ``.<name>.<pid>.tmp`` beside the destination (a name no parser takes for a
LOBSTER file), so a run that is killed leaves no partial file under a final name. Files are not
fsynced: the rename protects against a killed run, not against losing power.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

GZIP_LEVEL = 1  #: fastest deflate: the orderbook text is so repetitive that level 1 already shrinks it ~10x
GZIP_WBITS = 16 + zlib.MAX_WBITS  #: gzip container, header without a time stamp


class StagedFile:
    """A file being written; :meth:`publish` renames it into place, :meth:`discard` removes it."""

    def __init__(self, dest: Path, compress: bool):
        self.dest = Path(dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.dest.with_name(f".{self.dest.name}.{os.getpid()}.tmp")
        self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS) if compress else None
        self.bytes_written = 0

    def write(self, data) -> None:
        """Append ``data`` (any buffer); the system calls run without the GIL."""
        if self.deflate is not None:
            data = self.deflate.compress(data)
        view = memoryview(data).cast("B")
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
            self.bytes_written += n

    def close(self) -> None:
        if self.fd < 0:
            return
        try:
            if self.deflate is not None:
                tail, self.deflate = self.deflate.flush(), None
                self.write(tail)
        finally:
            os.close(self.fd)
            self.fd = -1

    def publish(self) -> None:
        self.close()
        os.replace(self.tmp, self.dest)

    def discard(self) -> None:
        self.close()
        self.tmp.unlink(missing_ok=True)
