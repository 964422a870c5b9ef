"""The data version of a stream-day: the content hash of its raw files.

:func:`raw_versions` is the one place that says which raw files make up a stream-day and what their
content hash is; the catalog of landed files (issue 14) replaces its body. Until then each file's
SHA-256 is cached by ``(path, size, mtime_ns)`` in ``<root>/.obrecon/raw_hashes.json``, so a sensor
tick re-reads only files that changed.

A stream-day's raw files are the files its feed names (``Stream.files``) and every file in the
same folder that no stream names (a LOBSTER orderbook file, found by the feed beside its message
file), documentation (``README*``, ``SHA256SUMS``, ``LICENSE*``) aside. Conservative where a feed
reads siblings: a changed LOBSTER orderbook file makes every LOBSTER stream of that day stale.

``version = sha256("<file name> <file sha256>\\n" for each file, sorted by name)``: re-landing the
same bytes under the same names keeps the version; a changed byte or a renamed file changes it.
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


DOCS = ("README", "SHA256SUMS", "LICENSE")


def _version(files, hashes: FileHashes) -> str:
    lines = sorted(f"{path.name} {hashes.sha256(path)}\n" for path in files)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def raw_versions(streams: list[Stream], hashes: FileHashes) -> dict[str, str]:
    """Stream-day id -> hex SHA-256 content hash of its raw files (``streams``: every stream
    discovered in the folders concerned, so unnamed siblings are known)."""
    claimed = {path for s in streams for path in s.files}
    unnamed: dict[Path, list[Path]] = {}
    for folder in {path.parent for path in claimed}:
        unnamed[folder] = [p for p in folder.iterdir()
                           if p.is_file() and p not in claimed and not p.name.startswith(DOCS)]
    return {s.partition_key: _version({*s.files, *(p for f in {x.parent for x in s.files} for p in unnamed[f])}, hashes)
            for s in streams}
