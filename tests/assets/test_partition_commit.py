"""A partition's outputs form one commit: files are created with the umask, two runs of one
partition never interleave, and a materialization killed (SIGKILL) at any moment leaves the
previous complete set or the new one, every table of one run, and nothing behind once the next
start has recovered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from assets import book, book_checks, feed_integrity
from assets.materialize import fail_killed_runs, recover_warehouse
from assets.partitions import partition_key, register
from obrecon_pipeline.simulate.day import simulate_day
from obrecon_pipeline.storage.warehouse import LOCK, MANIFEST, PartitionStore
from resources import LandingZone, resources_for

REPO = Path(__file__).resolve().parents[2]
AAPL = "lobster/AAPL-L10/2012-06-21"
REPLAY_TABLES = {"events.parquet", "reference_book.parquet", "book.parquet", "report.json"}
ALL_TABLES = REPLAY_TABLES | {f"{n}.parquet" for n in (
    "spreads", "order_flow_imbalance", "returns", "microstructure", "market_impact", "impact_regression",
    "fidelity_report", "features")}


def _store(root: Path, key: str) -> PartitionStore:
    return LandingZone(root=str(root)).store(str(partition_key(key)))


def _materialize(root: Path, instance: dg.DagsterInstance, key: str = AAPL):
    register(instance, [key])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.materialize([book.replay_partition, book_checks.no_crossed_book, feed_integrity.feed_integrity],
                              partition_key=partition_key(key), resources=resources_for(root), instance=instance)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("umask", [0o022, 0o002], ids=["umask-022", "umask-002"])
def test_tables_and_report_are_created_with_the_process_umask(small_landing_zone, umask):
    before = os.umask(umask)
    try:
        assert _materialize(small_landing_zone, dg.DagsterInstance.ephemeral()).success
    finally:
        os.umask(before)
    written = [p for p in _files(small_landing_zone / "warehouse") if p.name != LOCK]
    assert {p.name for p in written} == REPLAY_TABLES | {MANIFEST}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == dict.fromkeys(
        (p.name for p in written), oct(0o666 & ~umask))
    report = small_landing_zone / "reports" / AAPL / "report.json"
    assert json.loads(report.read_text())["events"] == 999 and report.stat().st_mode & 0o777 == 0o666 & ~umask


def _committed(store: PartitionStore) -> dict:
    """The committed manifest, after checking that every table in it is there, was built by the
    run that committed (no table of another run beside it) and is what the stable paths show."""
    manifest = store.manifest()
    assert manifest is not None
    current = store.committed()
    assert current.name == manifest["run_id"]
    for f, entry in manifest["tables"].items():
        assert entry["run_id"] == manifest["run_id"], f
        assert (current / f).is_file(), f
        stable = store.stable(f) if f.endswith(".parquet") else Path(manifest["links"][f])
        assert stable.resolve() == current / f
    return manifest


def _no_strays(store: PartitionStore) -> None:
    committed = store.committed()
    assert sorted(p.name for p in store.runs.iterdir()) == sorted([LOCK, committed.name])
    assert sorted(p.name for p in store.staging.iterdir()) == [LOCK]
    assert not list(store.warehouse.rglob("*.tmp")) and not list(store.warehouse.rglob("*.partial"))


def test_two_runs_of_a_partition_at_once_commit_one_after_the_other_never_mixed(small_landing_zone, tmp_path):
    """Both runs are started while the test holds the partition's replay lock, so both are waiting
    in the replay when it is released: the later commit wins, whole, and the other run's files go."""
    import fcntl

    store = _store(small_landing_zone, AAPL)
    store.staging.mkdir(parents=True)
    script = (
        "import sys, warnings; warnings.simplefilter('ignore'); import dagster as dg; from pathlib import Path; "
        "from tests.assets.test_partition_commit import _materialize; "
        "r = _materialize(Path(sys.argv[1]), dg.DagsterInstance.get()); print(r.run_id); sys.exit(0 if r.success else 1)"
    )
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    (tmp_path / "home").mkdir()
    # the instance's SQLite tables and the partition exist before the runs start: two processes
    # creating a fresh instance at once race on its schema ("table runs already exists")
    instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
    register(instance, [AAPL])
    with open(store.staging / LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        runs = [subprocess.Popen([sys.executable, "-c", script, str(small_landing_zone)], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        # a run that ends before both wait on the lock is a failure, reported once the lock is
        # released (reading its sibling's output under the lock would wait forever)
        while (len(instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))) < 2
               and all(r.poll() is None for r in runs)):
            time.sleep(0.05)
        both_waited = all(r.poll() is None for r in runs)
        fcntl.flock(held, fcntl.LOCK_UN)
    outs = [r.communicate() for r in runs]
    said = "\n".join(f"run {i}: exit {r.returncode}\n{err[-4000:]}" for i, (r, (_, err)) in enumerate(zip(runs, outs)))
    if not both_waited:
        pytest.fail(f"a run ended before the lock was released\n{said}")
    assert [r.returncode for r in runs] == [0, 0], said
    run_ids = {out.strip().splitlines()[-1] for out, _ in outs}
    manifest = _committed(store)
    assert set(manifest["tables"]) == REPLAY_TABLES and manifest["run_id"] in run_ids
    _no_strays(store)


def test_a_bad_row_fails_with_its_one_located_line_first_and_the_committed_set_stays(small_landing_zone):
    import gzip

    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(small_landing_zone, instance).success
    store = _store(small_landing_zone, AAPL)
    before = _committed(store)
    msg = small_landing_zone / "raw" / "lobster" / "2012-06-21" / "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"
    lines = gzip.decompress(msg.read_bytes()).split(b"\n")
    lines[5] = b"34200.1,1,abc,100,5850000,1"
    msg.write_bytes(gzip.compress(b"\n".join(lines)))
    register(instance, [AAPL])
    failed = dg.materialize([book.replay_partition], partition_key=partition_key(AAPL), instance=instance,
                            resources=resources_for(small_landing_zone), raise_on_error=False)
    error = next(e for e in failed.all_events if e.is_step_failure).event_specific_data.error
    assert error.message == f"dagster._core.definitions.events.Failure: {msg}, row 6: order_id 'abc' is not an integer\n"
    assert error.cause is None  # no chain of wrapped exceptions below it
    assert _committed(store) == before
    _no_strays(store)


# --------------------------------------------------------------------------- SIGKILL
KEY = "lobster/SIM-L10/2024-01-02"
OLD_EVENTS, NEW_EVENTS = 500_000, 2_000_000


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def _materialize_command() -> list[str]:
    return [sys.executable, "-m", "assets.materialize", "--partition", KEY, "--workers", "1"]


def _new_run_dirs(store: PartitionStore, old: str) -> list[Path]:
    return [p for p in store.runs.iterdir() if p.is_dir() and p.name != old] if store.runs.is_dir() else []


#: moments to kill at: (what the test waits for, a predicate on the warehouse)
MOMENTS = {
    "replaying": lambda s, old: any(p.stat().st_size > 1 << 20 for p in s.staging.glob(".*.partial")),
    "replay tables in the run set": lambda s, old: any((p / "report.json").exists() for p in _new_run_dirs(s, old)),
    "half the downstream tables written": lambda s, old: any(
        len(set(os.listdir(p)) & ALL_TABLES) >= 8 for p in _new_run_dirs(s, old)),
}


def _check_set(store: PartitionStore, versions: dict[str, int]) -> str:
    """One complete run's set: every table, from one run, of one version of the day; its run id."""
    manifest = _committed(store)
    assert set(manifest["tables"]) == ALL_TABLES
    current = store.committed()
    report = json.loads((current / "report.json").read_text())
    assert report["events"] in versions.values()
    assert pq.read_metadata(current / "events.parquet").num_rows == report["events"]
    rows = pq.read_metadata(current / "book.parquet").num_rows
    assert rows == report["rows"] == pq.read_metadata(current / "spreads.parquet").num_rows
    assert pq.read_metadata(current / "reference_book.parquet").num_rows == report["events"]
    return manifest["run_id"]


def test_sigkill_at_any_moment_leaves_one_complete_run_and_the_next_run_completes(tmp_path, monkeypatch):
    """A 500 k-event version of a simulated level-10 day is materialized whole; the day is re-landed
    as a 2 M-event version and ``python -m assets.materialize`` is SIGKILLed (the parent only: its
    worker must die with it) while replaying, once the replay's tables are in the run set, and with
    half the downstream tables written. After each kill the partition holds the old set, whole; the
    next start marks the killed run failed and removes every file it left; the last run completes
    and the partition holds the new set, whole."""
    root = tmp_path / "data"
    monkeypatch.setenv("OBRECON_DATA_DIR", str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(root / ".dagster"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    simulate_day(root, "SIM", "2024-01-02", events=OLD_EVENTS, levels=10, seed=1)
    first = subprocess.run(_materialize_command(), cwd=REPO, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-3000:]
    store = _store(root, KEY)
    old = _check_set(store, {"old": OLD_EVENTS})

    simulate_day(root, "SIM", "2024-01-02", events=NEW_EVENTS, levels=10, seed=2)
    instance = dg.DagsterInstance.get()
    for moment, reached in MOMENTS.items():
        proc = subprocess.Popen(_materialize_command(), cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not reached(store, old):
            assert proc.poll() is None, f"the run ended before '{moment}'"
            time.sleep(0.02)
        workers = _descendants(proc.pid)
        assert workers, "materialize runs its partitions in worker processes"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 60
        while not all(_dead(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(_dead(pid) for pid in workers), f"{moment}: a worker outlived its killed parent"

        assert _check_set(store, {"old": OLD_EVENTS}) == old, moment  # the previous set, whole
        killed = fail_killed_runs(instance)  # what the next start does first
        assert len(killed) == 1, moment
        assert instance.get_run_by_id(killed[0]).status == dg.DagsterRunStatus.FAILURE
        recover_warehouse(instance, LandingZone(root=str(root)), [KEY])
        assert _check_set(store, {"old": OLD_EVENTS}) == old, moment
        _no_strays(store)

    last = subprocess.run(_materialize_command(), cwd=REPO, env=env, capture_output=True, text=True)
    assert last.returncode == 0, last.stderr[-3000:]
    new = _check_set(store, {"new": NEW_EVENTS})
    assert new != old and json.loads((store.committed() / "report.json").read_text())["events"] == NEW_EVENTS
    _no_strays(store)
    assert not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))


RESUME = (
    "import sys, warnings; warnings.simplefilter('ignore'); import dagster as dg; from pathlib import Path; "
    "from assets import book; from assets.partitions import partition_key, register; from resources import resources_for; "
    "instance = dg.DagsterInstance.get(); register(instance, [sys.argv[2]]); "
    "r = dg.materialize([book.replay_partition], partition_key=partition_key(sys.argv[2]), instance=instance, "
    "resources=resources_for(Path(sys.argv[1])), run_config={'ops': {'replay_partition': {'config': "
    "{'chunk_events': 65536, 'checkpoint_every': 300000}}}}); sys.exit(0 if r.success else 1)"
)


def test_a_replay_killed_after_a_checkpoint_resumes_through_dagster_to_the_same_book(tmp_path):
    """A 2 M-event day replayed through Dagster with a checkpoint every 300 k events: killed once
    two checkpoints were written, the next run resumes from the last one and commits the book, events
    and report a run never stopped commits (the report says where it resumed)."""
    root, clean = tmp_path / "data", tmp_path / "clean"
    simulate_day(root, "SIM", "2024-01-02", events=NEW_EVENTS, levels=10, seed=7)
    simulate_day(clean, "SIM", "2024-01-02", events=NEW_EVENTS, levels=10, seed=7)
    (tmp_path / "home").mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}

    def replay(data: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", RESUME, str(data), KEY], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    assert replay(clean).wait() == 0
    store = _store(root, KEY)
    ckpt = store.staging / ".book.parquet.checkpoint"
    proc, seen = replay(root), set()
    while len(seen) < 2:
        assert proc.poll() is None, "the run ended before it could be killed"
        if ckpt.exists():
            seen.add(ckpt.stat().st_mtime_ns)
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    assert store.committed() is None and ckpt.exists()

    resumed = replay(root)
    assert resumed.wait() == 0, resumed.stderr.read()
    ours, theirs = store.committed(), _store(clean, KEY).committed()
    report = json.loads((ours / "report.json").read_text())
    assert report["resumed_from_event"] >= 300_000 and report["events"] == NEW_EVENTS
    for table in ("book.parquet", "events.parquet", "reference_book.parquet"):
        assert (ours / table).read_bytes() == (theirs / table).read_bytes(), table
    assert not ckpt.exists() and sorted(os.listdir(store.staging)) == [LOCK]
