"""The warehouse: every partition's tables as one committed set, switched whole or not at all.

Layout under ``<warehouse>/`` for the partition ``<stream>/<day>``:

* ``runs/<stream>/<day>/<run_id>/``: one run's set: ``<table>.parquet``, ``report.json`` and, written
  last, ``MANIFEST.json`` (the tables of the set, the run that built each, what each was built from);
* ``current/<stream>/<day>``: a symbolic link to the committed run directory, the **one** place that
  says which set is the partition's;
* ``staging/<stream>/<day>/``: where the replay writes its tables row group by row group, with its
  checkpoint (held by the ``.lock`` beside them while a replay runs; a killed replay resumes here);
* ``.pins/<stream>/<day>/<run_id>.<pid>/``: hard links to the tables a reader was handed
  (:meth:`PartitionStore.pin`), so a commit that removes the set it read from (a later run
  superseding it) cannot pull a file from under a lazy scan; released when the reading step ends;
* ``<table>/<stream>/<day>.parquet``: the stable path of each Parquet table (a symbolic link
  through ``current``), which is what users read; other files (``report.json``) get the stable
  paths the committer names (``links``).

Commit protocol (:meth:`PartitionStore.commit`): a run writes every table into its own run
directory (each file atomically, under a temporary name renamed into place); when its last planned
table is there it takes the partition's lock, carries over the committed tables it did not rebuild
and that depend on nothing it rebuilt (hard links), writes ``MANIFEST.json`` (fsynced), and switches
``current`` with one ``rename(2)`` of a new link over the old: readers see the previous set or the
new one, whole. The superseded run directory is then removed. Two runs of one partition never
write into one directory; whichever commits later wins, whole.

Recovery (:meth:`PartitionStore.recover`, on the next start): a run directory with a manifest newer
than the committed one is rolled forward (the kill came between manifest and switch); a run
directory of a run no longer alive, or superseded, is removed (rolled back); temporary files of
killed writers are removed, and so are the pins of runs no longer alive; the stable links are rebuilt from the committed manifest. Staged replay
files are kept only when a checkpoint can resume them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from obrecon_pipeline.atomic import TMP_SUFFIX, exclusive_lock, temporary_path, write_json

MANIFEST = "MANIFEST.json"
LOCK = ".lock"
#: what the streaming writers and checkpoints leave beside their tables (storage.parquet, pipeline)
STAGED_SUFFIXES = (".partial", ".checkpoint")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link(target: Path, link: Path) -> None:
    """Point ``link`` at ``target`` (relative), replacing whatever is there in one rename."""
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(link)
    tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)


def release(pins: Path) -> None:
    """Drop a reader's pins (:meth:`PartitionStore.pin`: the directory ``<run_id>.<pid>``) and the
    folders of ``.pins`` left empty."""
    shutil.rmtree(pins, ignore_errors=True)
    for folder in pins.parents:
        try:
            folder.rmdir()
        except OSError:
            break
        if folder.name == ".pins":
            break


def hold(locate: Callable[[], Path | None], held: Path) -> Path | None:
    """A reader's pin: a hard link ``held`` to the file ``locate()`` finds (None if it finds none),
    located again if a commit removed it between locating and linking."""
    for _ in range(3):
        found = locate()
        if found is None:
            return None
        held.parent.mkdir(parents=True, exist_ok=True)
        held.unlink(missing_ok=True)
        try:
            os.link(found, held)
            return held
        except FileNotFoundError:
            continue
    return None


def plan_manifest(run_id: str, tables: dict[str, list[str]], previous: dict | None,
                  links: dict[str, str]) -> tuple[dict, list[str]]:
    """The manifest committing run ``run_id`` (its ``tables``: table file -> the table files it was
    built from) over the ``previous`` committed manifest, and the table files carried over from
    the previous set: those the run did not rebuild and that depend on nothing it rebuilt (or
    dropped), transitively."""
    entries = {f: {"run_id": run_id, "upstream": sorted(up)} for f, up in tables.items()}
    carried: dict[str, dict] = {}
    if previous is not None:
        carried = {f: e for f, e in previous["tables"].items() if f not in tables}
        stale = set(tables)
        while True:
            drop = {f for f, e in carried.items() if stale & set(e["upstream"])}
            if not drop:
                break
            stale |= drop
            carried = {f: e for f, e in carried.items() if f not in drop}
    manifest = {"run_id": run_id, "committed_ns": time.time_ns(), "tables": {**entries, **carried}, "links": links}
    return manifest, list(carried)


def read_manifest(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / MANIFEST).read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None


@dataclass(frozen=True)
class PartitionStore:
    """One partition's part of the warehouse (see the module docstring)."""

    warehouse: Path
    stream: str
    day: str

    # ------------------------------------------------------------------------------ paths
    @property
    def runs(self) -> Path:
        return self.warehouse / "runs" / self.stream / self.day

    @property
    def pointer(self) -> Path:
        return self.warehouse / "current" / self.stream / self.day

    @property
    def staging(self) -> Path:
        return self.warehouse / "staging" / self.stream / self.day

    @property
    def pins(self) -> Path:
        return self.warehouse / ".pins" / self.stream / self.day

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def stable(self, table_file: str) -> Path:
        """The stable path of a table: ``<warehouse>/<table>/<stream>/<day>.<ext>``."""
        stem, _, ext = table_file.partition(".")
        return self.warehouse / stem / self.stream / f"{self.day}.{ext}"

    def committed(self) -> Path | None:
        """The committed run directory (resolved), or None before the first commit."""
        if not self.pointer.is_symlink():
            return None
        target = self.pointer.resolve()
        return target if target.is_dir() else None

    def manifest(self) -> dict | None:
        committed = self.committed()
        return None if committed is None else read_manifest(committed)

    def locate(self, run_id: str, table_file: str) -> Path | None:
        """Where a reader in run ``run_id`` finds ``table_file``: the run's own copy if it wrote one,
        else the committed set's; None if neither has it."""
        own = self.run_dir(run_id) / table_file
        if own.exists():
            return own
        committed = self.committed()
        if committed is not None and (committed / table_file).exists():
            return committed / table_file
        return None

    def pin(self, run_id: str, table_file: str) -> Path | None:
        """:meth:`locate`'s file, held by a hard link under :attr:`pins` that the caller reads instead
        (and releases with :func:`release`): the set it came from may be superseded and removed
        while a lazy scan of it is still to be collected. None if there is no such table."""
        return hold(lambda: self.locate(run_id, table_file), self.pins / f"{run_id}.{os.getpid()}" / table_file)

    def has(self, run_id: str, table_file: str) -> bool:
        """Whether run ``run_id`` has stored ``table_file`` in its set."""
        return (self.run_dir(run_id) / table_file).exists()

    def publish(self, run_id: str, table_file: str) -> None:
        """A file written into :meth:`run_dir` is in the run's set already (the object store's
        counterpart uploads it)."""

    # ------------------------------------------------------------------------------ writing
    @contextmanager
    def replay_staging(self) -> Iterator[Path]:
        """The staging directory, held exclusively (a second run of the partition waits here)."""
        self.staging.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.staging / LOCK):
            yield self.staging

    def put(self, run_id: str, table_file: str, written: Path) -> Path:
        """Move a finished file into the run's set (same file system: a rename)."""
        dest = self.run_dir(run_id) / table_file
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(written, dest)
        _fsync_dir(dest.parent)
        return dest

    def commit(self, run_id: str, tables: dict[str, list[str]], extra_links: dict[str, Path] | None = None) -> dict:
        """Commit run ``run_id`` whose set holds ``tables`` (table file -> the table files it was built
        from); ``extra_links``: more stable paths (table file -> path). Idempotent; the manifest."""
        run = self.run_dir(run_id)
        with exclusive_lock(self.runs / LOCK):
            done = read_manifest(run)
            if done is not None:
                return done
            previous_dir = self.committed()
            previous = read_manifest(previous_dir) if previous_dir is not None else None
            manifest, carried = plan_manifest(run_id, tables, previous, {f: str(p) for f, p in (extra_links or {}).items()})
            for f in carried:
                os.link(previous_dir / f, run / f)
            write_json(manifest, run / MANIFEST)
            _fsync_dir(run)
            self._switch(run, manifest, previous_dir)
            return manifest

    def _switch(self, run: Path, manifest: dict, previous_dir: Path | None) -> None:
        _link(run, self.pointer)
        _fsync_dir(self.pointer.parent)
        self._refresh_links(manifest, previous_dir)
        if previous_dir is not None and previous_dir != run:
            shutil.rmtree(previous_dir, ignore_errors=True)

    def _refresh_links(self, manifest: dict, previous_dir: Path | None = None) -> None:
        """Stable paths for the committed tables; none for tables the set no longer has."""
        links = {f: [self.stable(f)] for f in manifest["tables"] if f.endswith(".parquet")}
        for f, extra in manifest.get("links", {}).items():
            links.setdefault(f, []).append(Path(extra))
        for f, paths in links.items():
            for path in paths:
                _link(self.pointer / f, path)
        gone = set(read_manifest(previous_dir)["tables"]) if previous_dir and read_manifest(previous_dir) else set()
        for f in gone - set(manifest["tables"]):
            if f.endswith(".parquet"):
                self.stable(f).unlink(missing_ok=True)

    # ------------------------------------------------------------------------------ recovery
    def recover(self, alive: Callable[[str], bool]) -> dict[str, list[str]]:
        """Roll forward or back what a killed run left (see the module docstring); ``alive(run_id)``
        says whether a run may still be writing. What was done: {"rolled_forward", "removed"}."""
        done: dict[str, list[str]] = {"rolled_forward": [], "removed": []}
        if not self.runs.is_dir():
            self._clean_staging(done)
            return done
        with exclusive_lock(self.runs / LOCK):
            committed = self.committed()
            current = read_manifest(committed) if committed is not None else None
            runs = sorted((p for p in self.runs.iterdir() if p.is_dir() and not p.name.startswith(".")),
                          key=lambda p: (read_manifest(p) or {}).get("committed_ns", 0))
            for run in runs:
                if committed is not None and run == committed:
                    continue
                manifest = read_manifest(run)
                newer = manifest is not None and (current is None or manifest["committed_ns"] > current["committed_ns"])
                if newer and all((run / f).exists() for f in manifest["tables"]):
                    self._switch(run, manifest, committed)
                    if committed is not None:
                        done["removed"].append(committed.name)
                    committed, current = run, manifest
                    done["rolled_forward"].append(run.name)
                elif manifest is not None or not alive(run.name):
                    shutil.rmtree(run, ignore_errors=True)
                    done["removed"].append(run.name)
            if current is not None:
                self._refresh_links(current)
            stable = [self.stable(f) for f in (current or {}).get("tables", {})] + [
                Path(p) for p in (current or {}).get("links", {}).values()]
            for folder in {self.runs, self.pointer.parent, *(p.parent for p in stable)}:
                for tmp in folder.glob(f".*{TMP_SUFFIX}"):
                    tmp.unlink(missing_ok=True)
                    done["removed"].append(str(tmp))
        self._clean_staging(done)
        self._clean_pins(alive, done)
        return done

    def _clean_pins(self, alive: Callable[[str], bool], done: dict[str, list[str]]) -> None:
        """Pins of runs no longer alive (a reader killed before it released them)."""
        if not self.pins.is_dir():
            return
        for held in self.pins.iterdir():
            if not alive(held.name.rpartition(".")[0]):
                shutil.rmtree(held, ignore_errors=True)
                done["removed"].append(str(held))

    def _clean_staging(self, done: dict[str, list[str]]) -> None:
        """Staged replay files without a checkpoint to resume them are of no use: removed (unless a
        replay holds the staging lock)."""
        if not self.staging.is_dir():
            return
        with exclusive_lock(self.staging / LOCK, blocking=False) as free:
            if not free:
                return
            resumable = any(self.staging.glob(".*.checkpoint"))
            for path in self.staging.iterdir():
                if path.name == LOCK:
                    continue
                if path.name.endswith(TMP_SUFFIX) or (not resumable and path.name.endswith(STAGED_SUFFIXES)):
                    path.unlink(missing_ok=True)
                    done["removed"].append(str(path))
