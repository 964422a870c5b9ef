"""The warehouse's commit protocol on its own: a run's set replaces the committed one whole, carries
over only what it did not make stale, and recovery rolls a half-finished commit forward and a
dead run's files back."""

from __future__ import annotations

import json
import os

from obrecon_pipeline.storage.warehouse import LOCK, MANIFEST, PartitionStore, release

#: table file -> the table files it is built from (the shape of the Dagster graph)
GRAPH = {"book.parquet": [], "report.json": [], "spreads.parquet": ["book.parquet"],
         "fidelity_report.parquet": ["book.parquet", "spreads.parquet"]}


def _write(store: PartitionStore, run_id: str, tables: list[str]) -> None:
    run = store.run_dir(run_id)
    run.mkdir(parents=True)
    for f in tables:
        (run / f).write_text(f"{f} of {run_id}")


def _read(store: PartitionStore, f: str) -> str:
    return store.stable(f).read_text() if f.endswith(".parquet") else (store.committed() / f).read_text()


def test_a_commit_switches_the_whole_set_and_removes_the_superseded_run(tmp_path):
    store = PartitionStore(tmp_path, "GOOG-L10", "2012-06-21")
    _write(store, "a", list(GRAPH))
    store.commit("a", GRAPH, {"report.json": tmp_path / "reports" / "report.json"})
    assert {f: _read(store, f) for f in GRAPH} == {f: f"{f} of a" for f in GRAPH}
    assert (tmp_path / "reports" / "report.json").read_text() == "report.json of a"
    _write(store, "b", list(GRAPH))
    manifest = store.commit("b", GRAPH, {"report.json": tmp_path / "reports" / "report.json"})
    assert {f: _read(store, f) for f in GRAPH} == {f: f"{f} of b" for f in GRAPH}
    assert (tmp_path / "reports" / "report.json").read_text() == "report.json of b"
    assert {e["run_id"] for e in manifest["tables"].values()} == {"b"}
    assert sorted(p.name for p in store.runs.iterdir()) == [LOCK, "b"]
    assert store.commit("b", GRAPH) == manifest  # committing twice changes nothing


def test_a_partial_run_carries_over_what_it_did_not_make_stale(tmp_path):
    store = PartitionStore(tmp_path, "GOOG-L10", "2012-06-21")
    _write(store, "a", list(GRAPH))
    store.commit("a", GRAPH)
    _write(store, "s", ["spreads.parquet"])  # re-running spreads alone keeps the book ...
    manifest = store.commit("s", {"spreads.parquet": GRAPH["spreads.parquet"]})
    assert {f: e["run_id"] for f, e in manifest["tables"].items()} == {
        "book.parquet": "a", "report.json": "a", "spreads.parquet": "s"}  # ... and drops what used the old spreads
    assert _read(store, "book.parquet") == "book.parquet of a" and _read(store, "spreads.parquet") == "spreads.parquet of s"
    assert not store.stable("fidelity_report.parquet").exists()
    _write(store, "b", ["book.parquet", "report.json"])  # a new book makes every table built on it stale
    manifest = store.commit("b", {"book.parquet": [], "report.json": []})
    assert set(manifest["tables"]) == {"book.parquet", "report.json"}
    assert not store.stable("spreads.parquet").exists()


def test_recovery_rolls_a_written_manifest_forward_and_a_dead_run_back(tmp_path):
    store = PartitionStore(tmp_path, "GOOG-L10", "2012-06-21")
    _write(store, "a", list(GRAPH))
    store.commit("a", GRAPH)
    # killed between its manifest and the switch: complete, so it becomes the committed set
    _write(store, "b", list(GRAPH))
    manifest = {"run_id": "b", "committed_ns": json.loads((store.run_dir("a") / MANIFEST).read_text())["committed_ns"] + 1,
                "tables": {f: {"run_id": "b", "upstream": up} for f, up in GRAPH.items()}, "links": {}}
    (store.run_dir("b") / MANIFEST).write_text(json.dumps(manifest))
    # killed while writing: a dead run's half set and a temporary file
    _write(store, "c", ["book.parquet"])
    (store.run_dir("c") / ".spreads.parquet.1234abcd.tmp").write_text("")
    # still running: its files are left alone
    _write(store, "d", ["book.parquet"])
    store.staging.mkdir(parents=True)
    (store.staging / ".book.parquet.partial").write_text("no checkpoint resumes this")
    done = store.recover(alive=lambda run_id: run_id == "d")
    assert done["rolled_forward"] == ["b"] and {"a", "c"} <= set(done["removed"])
    assert store.committed() == store.run_dir("b").resolve()
    assert {f: _read(store, f) for f in GRAPH} == {f: f"{f} of b" for f in GRAPH}
    assert sorted(p.name for p in store.runs.iterdir()) == [LOCK, "b", "d"]
    assert sorted(os.listdir(store.staging)) == [LOCK]


def test_a_pinned_table_outlives_the_commit_that_removes_its_set_and_goes_with_its_reader(tmp_path):
    """The CI failure this guards against: run a committed, run b superseded it and removed a's
    directory while a's check still had a lazy scan of a's book to collect."""
    store = PartitionStore(tmp_path, "GOOG-L10", "2012-06-21")
    _write(store, "a", list(GRAPH))
    store.commit("a", GRAPH)
    held = store.pin("a", "book.parquet")
    assert held == store.pins / f"a.{os.getpid()}" / "book.parquet"
    _write(store, "b", list(GRAPH))
    store.commit("b", GRAPH)
    assert not store.run_dir("a").exists() and held.read_text() == "book.parquet of a"
    assert store.pin("a", "book.parquet").read_text() == "book.parquet of b"  # a's set gone: the committed one
    assert store.pin("a", "missing.parquet") is None
    release(held.parent)
    assert not (tmp_path / ".pins").exists()


def test_recovery_removes_the_pins_of_dead_runs_only(tmp_path):
    store = PartitionStore(tmp_path, "GOOG-L10", "2012-06-21")
    _write(store, "a", list(GRAPH))
    store.commit("a", GRAPH)
    store.pin("a", "book.parquet")
    store.pin("b", "report.json")
    done = store.recover(lambda run_id: run_id == "b")
    assert done["removed"] == [str(store.pins / f"a.{os.getpid()}")]
    assert [p.name for p in store.pins.iterdir()] == [f"b.{os.getpid()}"]
