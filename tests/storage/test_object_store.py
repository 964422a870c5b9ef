"""The warehouse's commit protocol on an object store (a real S3 API server on 127.0.0.1): the same
guarantees as on a local root, between machines that share nothing but the bucket, and the
landing zone's local mirror."""

from __future__ import annotations

import json
import os
import secrets

import pytest

from obrecon_pipeline.storage.objects import MIRROR_INDEX, ObjectRoot
from obrecon_pipeline.storage.warehouse import MANIFEST

#: table file -> the table files it is built from (the shape of the Dagster graph)
GRAPH = {"book.parquet": [], "report.json": [], "spreads.parquet": ["book.parquet"],
         "fidelity_report.parquet": ["book.parquet", "spreads.parquet"]}
STREAM, DAY = "GOOG-L10", "2012-06-21"


@pytest.fixture
def bucket(object_store):
    return object_store.bucket(f"wh-{secrets.token_hex(4)}")


def _machine(bucket: str, tmp_path, name: str) -> ObjectRoot:
    """A worker: the shared bucket and a working copy of its own."""
    return ObjectRoot(f"{bucket}/root", tmp_path / name)


def _write(root: ObjectRoot, run_id: str, tables: list[str]):
    store = root.store(STREAM, DAY)
    for f in tables:
        path = store.run_dir(run_id) / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{f} of {run_id}")
        store.publish(run_id, f)
    return store


def _read(root: ObjectRoot, f: str) -> str:
    """A committed table as a reader on any machine sees it: at its stable copy (a table) or in the
    set the pointer names (the report)."""
    store = root.store(STREAM, DAY)
    key = store._stable_key(f) if f.endswith(".parquet") else store._run_key(store.committed_run(), f)
    return root.fs.cat_file(key).decode()


def _runs(root: ObjectRoot) -> list[str]:
    root.fs.invalidate_cache()
    return sorted(p.rpartition("/")[2] for p in root.fs.ls(root.store(STREAM, DAY).runs_key, detail=False))


def test_a_commit_switches_the_whole_set_and_removes_the_superseded_run(bucket, tmp_path):
    a = _machine(bucket, tmp_path, "a")
    report = a.key("reports", "lobster", STREAM, DAY, "report.json")
    _write(a, "r1", list(GRAPH)).commit("r1", GRAPH, {"report.json": report})
    assert {f: _read(a, f) for f in GRAPH} == {f: f"{f} of r1" for f in GRAPH}
    assert a.fs.cat_file(report) == b"report.json of r1"
    manifest = _write(a, "r2", list(GRAPH)).commit("r2", GRAPH, {"report.json": report})
    assert {f: _read(a, f) for f in GRAPH} == {f: f"{f} of r2" for f in GRAPH}
    assert a.fs.cat_file(report) == b"report.json of r2"
    assert {e["run_id"] for e in manifest["tables"].values()} == {"r2"}
    assert _runs(a) == ["r2"]
    assert json.loads(a.fs.cat_file(a.store(STREAM, DAY).pointer_key)) == {"run_id": "r2", "committed_ns": manifest["committed_ns"]}
    assert a.store(STREAM, DAY).commit("r2", GRAPH) == manifest  # committing twice changes nothing


def test_a_partial_run_carries_over_what_it_did_not_make_stale(bucket, tmp_path):
    a = _machine(bucket, tmp_path, "a")
    _write(a, "r1", list(GRAPH)).commit("r1", GRAPH)
    manifest = _write(a, "s", ["spreads.parquet"]).commit("s", {"spreads.parquet": GRAPH["spreads.parquet"]})
    assert {f: e["run_id"] for f, e in manifest["tables"].items()} == {
        "book.parquet": "r1", "report.json": "r1", "spreads.parquet": "s"}
    assert _read(a, "book.parquet") == "book.parquet of r1" and _read(a, "spreads.parquet") == "spreads.parquet of s"
    assert a.info(a.store(STREAM, DAY)._stable_key("fidelity_report.parquet")) is None
    assert _runs(a) == ["s"]  # the carried tables were copied into the new set


def test_of_two_machines_committing_over_the_same_set_one_wins_and_the_other_plans_again(bucket, tmp_path):
    a, b = _machine(bucket, tmp_path, "a"), _machine(bucket, tmp_path, "b")
    _write(a, "r1", list(GRAPH)).commit("r1", GRAPH)
    late = _write(a, "s", ["spreads.parquet"])
    pointer, etag = late._pointer()  # machine a reads the pointer ...
    _write(b, "r2", ["book.parquet", "report.json"]).commit("r2", {"book.parquet": [], "report.json": []})  # ... b commits
    assert late._swap({"run_id": "s", "committed_ns": 0}, etag) is False  # a's swap over what it read fails
    manifest = late.commit("s", {"spreads.parquet": ["book.parquet"]})  # and its commit plans over b's set
    assert {f: e["run_id"] for f, e in manifest["tables"].items()} == {
        "book.parquet": "r2", "report.json": "r2", "spreads.parquet": "s"}
    assert b.store(STREAM, DAY).committed_run() == "s" and _read(b, "book.parquet") == "book.parquet of r2"


def test_a_reader_on_another_machine_gets_the_runs_own_tables_then_the_committed_set_and_keeps_its_pin(bucket, tmp_path):
    a, b = _machine(bucket, tmp_path, "a"), _machine(bucket, tmp_path, "b")
    _write(a, "r1", ["book.parquet"])
    reader = b.store(STREAM, DAY)
    own = reader.pin("r1", "book.parquet")  # a step of run r1 on machine b, before the commit
    assert own.read_text() == "book.parquet of r1" and own.parent == reader.pins / f"r1.{os.getpid()}"
    assert reader.has("r1", "book.parquet") and not reader.has("r1", "spreads.parquet")
    a.store(STREAM, DAY).commit("r1", {"book.parquet": []})
    held = reader.pin("r9", "book.parquet")  # another run reads the committed set
    assert held.read_text() == "book.parquet of r1"
    _write(a, "r2", ["book.parquet"]).commit("r2", {"book.parquet": []})  # removes r1's set from the bucket
    assert "r1" not in _runs(a) and held.read_text() == "book.parquet of r1"
    assert reader.pin("r9", "spreads.parquet") is None


def test_recovery_rolls_a_written_manifest_forward_and_a_dead_run_back(bucket, tmp_path):
    a = _machine(bucket, tmp_path, "a")
    store = _write(a, "r1", ["book.parquet"])
    store.commit("r1", {"book.parquet": []})
    _write(a, "r2", ["book.parquet"])  # killed between its manifest and the switch:
    a.write_json({"run_id": "r2", "committed_ns": store._pointer()[0]["committed_ns"] + 1,
                  "tables": {"book.parquet": {"run_id": "r2", "upstream": []}}, "links": {}},
                 store._run_key("r2", MANIFEST))
    _write(a, "dead", ["book.parquet"])  # killed before its commit
    _write(a, "alive", ["book.parquet"])  # still running
    done = store.recover(lambda run_id: run_id == "alive")
    assert done["rolled_forward"] == ["r2"] and {"r1", "dead"} <= set(done["removed"])
    assert store.committed_run() == "r2" and _read(a, "book.parquet") == "book.parquet of r2"
    assert _runs(a) == ["alive", "r2"]
    assert store.recover(lambda run_id: run_id == "alive") == {"rolled_forward": [], "removed": []}


def test_the_mirror_follows_the_landing_zone_and_one_day_mirrors_only_that_day(bucket, tmp_path):
    a = _machine(bucket, tmp_path, "a")
    for rel, body in {"lobster/2012-06-21/m.csv": b"1", "lobster/2012-06-22/m.csv": b"2",
                      "tardis/2012-06-21/t.csv.gz": b"3"}.items():
        a.fs.pipe_file(a.key("raw", rel), body)
    raw = a.mirror(day="2012-06-21")
    assert sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()) == [
        "lobster/2012-06-21/m.csv", "tardis/2012-06-21/t.csv.gz"]
    a.mirror()
    assert (raw / "lobster/2012-06-22/m.csv").read_bytes() == b"2"
    a.fs.pipe_file(a.key("raw", "lobster/2012-06-21/m.csv"), b"re-landed")  # same name, new content
    a.fs.rm_file(a.key("raw", "tardis/2012-06-21/t.csv.gz"))  # removed from the landing zone
    a.mirror(day="2012-06-22")  # another day's mirror leaves this day as it was
    assert (raw / "lobster/2012-06-21/m.csv").read_bytes() == b"1" and (raw / "tardis/2012-06-21/t.csv.gz").exists()
    a.mirror(day="2012-06-21")
    assert (raw / "lobster/2012-06-21/m.csv").read_bytes() == b"re-landed"
    assert not (raw / "tardis/2012-06-21/t.csv.gz").exists()
    assert sorted(json.loads(a.local(MIRROR_INDEX).read_text())) == ["lobster/2012-06-21/m.csv", "lobster/2012-06-22/m.csv"]
