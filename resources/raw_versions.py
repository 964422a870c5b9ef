"""The data version of a stream-day: the content hash of its raw files.

:func:`raw_version` is the one place that says which raw files make up a stream-day and what their
content hash is; the catalog of landed files (issue 14) replaces its body. Until then each file's
SHA-256 is cached by ``(path, size, mtime_ns)`` in ``<root>/.obrecon/raw_hashes.json``, so a sensor
tick re-reads only files that changed.

``version = sha256("<file name> <file sha256>\\n" for each file, sorted by name)``: renaming or
re-landing identical bytes keeps the version; any changed byte changes it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from obrecon_pipeline.atomic import write_json
from obrecon_pipeline.streams import Stream

_CHUNK = 1 << 20


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class FileHashes:
    """SHA-256 of raw files, cached by (path, size, mtime_ns) in a JSON file."""

    def __init__(self, cache_path: Path):
        self.cache_path = cache_path
        try:
            self._cache: dict[str, list] = json.loads(cache_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self._cache = {}
        self._dirty = False

    def sha256(self, path: Path) -> str:
        st = os.stat(path)
        key, stamp = str(path), [st.st_size, st.st_mtime_ns]
        cached = self._cache.get(key)
        if cached is not None and cached[:2] == stamp:
            return cached[2]
        digest = _file_sha256(path)
        self._cache[key] = [*stamp, digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        if self._dirty:
            write_json(self._cache, self.cache_path)
            self._dirty = False


def raw_version(stream: Stream, hashes: FileHashes) -> str:
    """The content hash of the raw files of one stream-day (hex SHA-256, see the module docstring)."""
    lines = sorted(f"{path.name} {hashes.sha256(path)}\n" for path in stream.files)
    return hashlib.sha256("".join(lines).encode()).hexdigest()
