"""Checkpoint files: what is saved reads back; anything else is no checkpoint."""

from __future__ import annotations

from obrecon_pipeline.storage import checkpoint


def test_round_trip_and_replace(tmp_path):
    path = tmp_path / "run.checkpoint"
    assert checkpoint.load(path) is None
    checkpoint.save(path, {"events": 7, "files": ["a"]}, {"replayer": b"\x00\x01" * 10, "empty": b""})
    assert checkpoint.load(path) == ({"events": 7, "files": ["a"]}, {"replayer": b"\x00\x01" * 10, "empty": b""})
    checkpoint.save(path, {"events": 9}, {"replayer": b"z"})
    assert checkpoint.load(path) == ({"events": 9}, {"replayer": b"z"})
    assert [p.name for p in tmp_path.iterdir()] == ["run.checkpoint"]  # no temporary file left


def test_damaged_files_are_no_checkpoint(tmp_path):
    path = tmp_path / "run.checkpoint"
    checkpoint.save(path, {"events": 7}, {"replayer": b"abcdef"})
    good = path.read_bytes()
    for damaged in (good[:-2], b"OBRECKP0" + good[8:], good[:20], b""):
        path.write_bytes(damaged)
        assert checkpoint.load(path) is None
