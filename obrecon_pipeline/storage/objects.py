"""A data root on an object store (``OBRECON_DATA_DIR=s3://bucket/prefix``, or any fsspec URL).

The store holds what every worker shares; each machine keeps a working copy in a local directory
``work`` (the same layout as a local root), because the feeds and the replayer read local files and
Parquet scans want them. Under ``<url>/``:

* ``raw/<source>/<day>/``: the landing zone. :meth:`ObjectRoot.mirror` brings ``<work>/raw`` up to
  date with it (every folder, or one day's folders of every source): a file is downloaded when its
  ETag (size and mtime where the store has none) differs from the one it was downloaded at, and a
  file gone from the store leaves the mirror; the catalog of the landing zone then reads the mirror.
* ``warehouse/runs/<stream>/<day>/<run_id>/<table>``: every table a run stores, uploaded as soon as
  it is written (a step on another worker reads it from there), and ``MANIFEST.json``, written at
  the commit (:func:`obrecon_pipeline.storage.warehouse.plan_manifest`, the local protocol's own);
* ``warehouse/current/<stream>/<day>.json``: the pointer ``{"run_id", "committed_ns"}``, the one
  object that says which set is the partition's. A commit replaces it with a conditional PUT
  (S3's ``If-Match`` the ETag it read, ``If-None-Match: *`` for the first commit): of two commits
  that read the same pointer, on one machine or on two, one wins and the other plans again over
  the winner's set. On a store without conditional writes the last PUT wins (each set still whole).
* ``warehouse/<table>/<stream>/<day>.parquet`` and ``reports/<stream-day id>/report.json``: copies
  of the committed tables (a store has no links), refreshed after the pointer switched; until the
  copying is done a reader of these paths may see tables of two sets: the consistent read goes
  through the pointer.

A reader (:meth:`ObjectPartitionStore.pin`) gets a local file: the table is downloaded into the
working copy and held by a hard link as on a local root, so a commit removing the remote set does
not touch a scan in progress. Replay staging, checkpoints and pins stay in the working copy: a
killed replay resumes on the machine that ran it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

from fsspec.core import url_to_fs
from fsspec.utils import get_protocol

from obrecon_pipeline.atomic import exclusive_lock, temporary_path, write_json
from obrecon_pipeline.storage.warehouse import LOCK, MANIFEST, PartitionStore, hold, plan_manifest

#: the working copy's record of what the mirror downloaded: relative path -> the store's tag
MIRROR_INDEX = ".obrecon/mirror.json"


def is_object_url(root: str | os.PathLike) -> bool:
    """Whether ``root`` names an fsspec file system other than the local one (``s3://…``)."""
    return get_protocol(str(root)) not in ("file", "local")


def _tag(info: dict) -> str:
    """What changes when an object is written again: its ETag, else its size and modification time."""
    return str(info.get("ETag") or f"{info.get('size')}:{info.get('mtime') or info.get('LastModified')}")


@dataclass(frozen=True)
class ObjectRoot:
    """The data root ``url`` on an object store and this machine's working copy ``work``."""

    url: str
    work: Path

    @cached_property
    def _fs_and_prefix(self):
        return url_to_fs(self.url)

    @property
    def fs(self):
        return self._fs_and_prefix[0]

    @cached_property
    def conditional_writes(self) -> bool:
        """Whether the store takes S3's conditional PUTs (``If-Match`` / ``If-None-Match``)."""
        protocol = self.fs.protocol
        return "s3" in (protocol if isinstance(protocol, tuple) else (protocol,))

    def key(self, *parts: str) -> str:
        """The store's path of ``<url>/<parts…>`` (no protocol: what the fsspec calls take)."""
        return "/".join([self._fs_and_prefix[1].rstrip("/"), *parts])

    def url_of(self, key: str) -> str:
        """A key as a URL a user can paste (``s3://bucket/…``)."""
        return self.fs.unstrip_protocol(key)

    def local(self, *parts: str) -> Path:
        return self.work.joinpath(*parts)

    def store(self, stream: str, day: str) -> "ObjectPartitionStore":
        return ObjectPartitionStore(self, stream, day)

    # ------------------------------------------------------------------------------ objects
    def info(self, key: str) -> dict | None:
        """The object's details, read from the store (not a cached listing); None if there is none."""
        self.fs.invalidate_cache()
        try:
            info = self.fs.info(key)
        except FileNotFoundError:
            return None
        return info if info.get("type") == "file" else None

    def upload(self, local: Path, key: str) -> None:
        self.fs.put_file(str(local), key)

    def download(self, key: str, dest: Path) -> Path:
        """The object ``key`` written to ``dest`` whole (a temporary file renamed)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(dest)
        try:
            self.fs.get_file(key, str(tmp))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def fetch(self, key: str, dest: Path) -> Path | None:
        """``dest`` holding the object ``key`` (downloaded unless a copy of the same size is there);
        None if the store has no such object."""
        info = self.info(key)
        if info is None:
            return None
        if dest.exists() and dest.stat().st_size == info.get("size"):
            return dest
        return self.download(key, dest)

    def read_json(self, key: str) -> dict | None:
        try:
            return json.loads(self.fs.cat_file(key))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write_json(self, obj: object, key: str, **conditions) -> None:
        self.fs.pipe_file(key, (json.dumps(obj, indent=2) + "\n").encode(), **conditions)

    # ------------------------------------------------------------------------------ landing zone
    def mirror(self, day: str | None = None) -> Path:
        """Bring ``<work>/raw`` up to date with ``<url>/raw`` (only the ``day`` folders of every
        source when given); returns ``<work>/raw``."""
        raw, base = self.local("raw"), self.key("raw")
        with exclusive_lock(self.local(".obrecon", "mirror.lock")):
            index_path = self.local(MIRROR_INDEX)
            index = json.loads(index_path.read_text()) if index_path.exists() else {}
            self.fs.invalidate_cache()
            try:
                if day is None:
                    listing = self.fs.find(base, detail=True)
                else:
                    listing = {}
                    for source in self.fs.ls(base, detail=False):
                        listing.update(self.fs.find(f"{source}/{day}", detail=True))
            except FileNotFoundError:
                listing = {}
            remote = {name[len(base) + 1:]: (name, info) for name, info in listing.items()
                      if info.get("type") == "file"}
            for rel, (name, info) in remote.items():
                if index.get(rel) != _tag(info) or not (raw / rel).exists():
                    self.download(name, raw / rel)
                    index[rel] = _tag(info)
            in_scope: Callable[[str], bool] = (lambda rel: True) if day is None else (lambda rel: rel.split("/")[1:2] == [day])
            for rel in [r for r in index if in_scope(r) and r not in remote]:
                (raw / rel).unlink(missing_ok=True)
                del index[rel]
            write_json(index, index_path)
        return raw


@dataclass(frozen=True)
class ObjectPartitionStore:
    """One partition's part of a warehouse on an object store (see the module docstring); the
    same methods as :class:`~obrecon_pipeline.storage.warehouse.PartitionStore`, whose layout the
    working copy keeps."""

    root: ObjectRoot
    stream: str
    day: str

    @property
    def local(self) -> PartitionStore:
        """The working copy of this partition (downloads, this machine's run files, staging, pins)."""
        return PartitionStore(self.root.local("warehouse"), self.stream, self.day)

    def _run_key(self, run_id: str, *parts: str) -> str:
        return self.root.key("warehouse", "runs", self.stream, self.day, run_id, *parts)

    @property
    def runs_key(self) -> str:
        return self.root.key("warehouse", "runs", self.stream, self.day)

    @property
    def pointer_key(self) -> str:
        return self.root.key("warehouse", "current", self.stream, f"{self.day}.json")

    def _stable_key(self, table_file: str) -> str:
        stem, _, ext = table_file.partition(".")
        return self.root.key("warehouse", stem, self.stream, f"{self.day}.{ext}")

    def stable(self, table_file: str) -> str:
        """The URL of a committed table's copy: ``<url>/warehouse/<table>/<stream>/<day>.<ext>``."""
        return self.root.url_of(self._stable_key(table_file))

    @property
    def pins(self) -> Path:
        return self.local.pins

    def run_dir(self, run_id: str) -> Path:
        """Where this machine writes run ``run_id``'s tables before :meth:`publish` uploads them."""
        return self.local.run_dir(run_id)

    def replay_staging(self):
        return self.local.replay_staging()

    # ------------------------------------------------------------------------------ reading
    def _pointer(self) -> tuple[dict | None, str | None]:
        """The pointer and its ETag (read in that order, so a stale ETag can only fail a swap)."""
        info = self.root.info(self.pointer_key)
        if info is None:
            return None, None
        return self.root.read_json(self.pointer_key), info.get("ETag")

    def committed_run(self) -> str | None:
        pointer = self._pointer()[0]
        return None if pointer is None else pointer["run_id"]

    def manifest(self) -> dict | None:
        run_id = self.committed_run()
        return None if run_id is None else self.root.read_json(self._run_key(run_id, MANIFEST))

    def has(self, run_id: str, table_file: str) -> bool:
        return self.local.has(run_id, table_file) or self.root.info(self._run_key(run_id, table_file)) is not None

    def locate(self, run_id: str, table_file: str) -> Path | None:
        """A local copy of ``table_file``: the run's own if it stored one (on any machine), else the
        committed set's; None if neither has it."""
        own = self.run_dir(run_id) / table_file
        if own.exists():
            return own
        found = self.root.fetch(self._run_key(run_id, table_file), own)
        if found is not None:
            return found
        committed = self.committed_run()
        if committed is None:
            return None
        return self.root.fetch(self._run_key(committed, table_file), self.run_dir(committed) / table_file)

    def pin(self, run_id: str, table_file: str) -> Path | None:
        return hold(lambda: self.locate(run_id, table_file), self.pins / f"{run_id}.{os.getpid()}" / table_file)

    # ------------------------------------------------------------------------------ writing
    def publish(self, run_id: str, table_file: str) -> None:
        """Upload a file written into :meth:`run_dir` to the run's set in the store."""
        self.root.upload(self.run_dir(run_id) / table_file, self._run_key(run_id, table_file))

    def put(self, run_id: str, table_file: str, written: Path) -> Path:
        dest = self.local.put(run_id, table_file, written)
        self.publish(run_id, table_file)
        return dest

    def _swap(self, pointer: dict, etag: str | None) -> bool:
        """Replace the pointer if it is still the one whose ETag was read (S3's conditional PUT);
        False if another commit replaced it first."""
        conditional = self.root.conditional_writes
        conditions = ({"IfMatch": etag} if etag else {"IfNoneMatch": "*"}) if conditional else {}
        try:
            self.root.write_json(pointer, self.pointer_key, **conditions)
            return True
        except OSError:
            if conditional and self._pointer()[1] != etag:
                return False
            raise

    def commit(self, run_id: str, tables: dict[str, list[str]], extra_links: dict[str, str] | None = None) -> dict:
        """Commit run ``run_id`` whose set holds ``tables`` (table file -> the table files it was
        built from); ``extra_links``: more copies (table file -> key). Idempotent; the manifest."""
        links = {f: str(k) for f, k in (extra_links or {}).items()}
        with exclusive_lock(self.local.runs / LOCK):  # this machine's commits one at a time
            while True:
                pointer, etag = self._pointer()
                if pointer is not None and pointer["run_id"] == run_id:
                    return self.root.read_json(self._run_key(run_id, MANIFEST))
                previous = None if pointer is None else self.root.read_json(self._run_key(pointer["run_id"], MANIFEST))
                manifest, carried = plan_manifest(run_id, tables, previous, links)
                try:
                    for f in carried:
                        self.root.fs.copy(self._run_key(pointer["run_id"], f), self._run_key(run_id, f))
                except FileNotFoundError:
                    continue  # the set carried from was superseded meanwhile: plan over the new one
                self.root.write_json(manifest, self._run_key(run_id, MANIFEST))
                if self._swap({"run_id": run_id, "committed_ns": manifest["committed_ns"]}, etag):
                    self._copy_stable(manifest, previous)
                    return manifest

    def _copy_stable(self, manifest: dict, previous: dict | None) -> None:
        """The committed tables' copies at their stable keys (unless a copy with the same tag, the
        ETag of the same bytes, is there), none for tables the set no longer has; the superseded
        set removed."""
        run_id = manifest["run_id"]
        copies = {f: [self._stable_key(f)] for f in manifest["tables"] if f.endswith(".parquet")}
        for f, key in manifest.get("links", {}).items():
            copies.setdefault(f, []).append(key)
        for f, keys in copies.items():
            tag = _tag(self.root.info(self._run_key(run_id, f)) or {})
            for key in keys:
                if _tag(self.root.info(key) or {}) != tag:
                    self.root.fs.copy(self._run_key(run_id, f), key)
        if previous is not None:
            for f in set(previous["tables"]) - set(manifest["tables"]):
                if f.endswith(".parquet") and self.root.info(self._stable_key(f)) is not None:
                    self.root.fs.rm_file(self._stable_key(f))
            if previous["run_id"] != run_id:
                self._remove_run(previous["run_id"])

    def _remove_run(self, run_id: str) -> None:
        try:
            self.root.fs.rm(self._run_key(run_id), recursive=True)
        except FileNotFoundError:
            pass

    # ------------------------------------------------------------------------------ recovery
    def recover(self, alive: Callable[[str], bool]) -> dict[str, list[str]]:
        """As :meth:`PartitionStore.recover`, on the store: a run whose manifest is newer than the
        committed one and whose tables are all there is rolled forward, a run no longer alive (or
        superseded) is removed, the stable copies are made good; then the working copy's own
        leftovers (staging, pins, downloads of finished runs)."""
        done: dict[str, list[str]] = {"rolled_forward": [], "removed": []}
        with exclusive_lock(self.local.runs / LOCK):
            pointer, etag = self._pointer()
            current = None if pointer is None else self.root.read_json(self._run_key(pointer["run_id"], MANIFEST))
            self.root.fs.invalidate_cache()
            try:
                names = [p.rstrip("/").rpartition("/")[2] for p in self.root.fs.ls(self.runs_key, detail=False)]
            except FileNotFoundError:
                names = []
            runs = sorted((n for n in names if pointer is None or n != pointer["run_id"]),
                          key=lambda n: (self.root.read_json(self._run_key(n, MANIFEST)) or {}).get("committed_ns", 0))
            for name in runs:
                manifest = self.root.read_json(self._run_key(name, MANIFEST))
                newer = manifest is not None and (current is None or manifest["committed_ns"] > current["committed_ns"])
                if newer and all(self.root.info(self._run_key(name, f)) is not None for f in manifest["tables"]):
                    if self._swap({"run_id": name, "committed_ns": manifest["committed_ns"]}, etag):
                        self._copy_stable(manifest, current)
                        if current is not None:
                            done["removed"].append(current["run_id"])
                        current, etag = manifest, self._pointer()[1]
                        done["rolled_forward"].append(name)
                elif manifest is not None or not alive(name):
                    self._remove_run(name)
                    done["removed"].append(name)
            if current is not None:
                self._copy_stable(current, None)
        local = self.local.recover(alive)
        done["removed"] += local["removed"]
        return done
