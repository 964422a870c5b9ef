"""The chunked path end to end (``run_stream`` and ``obrecon replay``): the same book and report as
the whole-day replay, and a run killed mid-day resumes from its checkpoint to an identical book."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from obrecon_pipeline.feeds import get_feed
from obrecon_pipeline.pipeline import OutputPaths, RunOptions, checkpoint_path, replay_stream, run_stream
from obrecon_pipeline.simulate.day import simulate_day

GOOG10 = "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
TIMING = ("replay_wall_s", "events_per_s", "end_to_end_s")


def lobster_stream(day_dir: Path, name: str):
    (stream,) = [s for s in get_feed("lobster").discover(day_dir, day_dir.name) if s.name == name]
    return stream


def test_chunked_run_writes_the_whole_day_book_events_and_reference(lobster_day, tmp_path):
    stream = lobster_stream(lobster_day, "GOOG-L10")
    paths = OutputPaths(tmp_path / "book.parquet", tmp_path / "events.parquet", tmp_path / "reference.parquet")
    report = run_stream("lobster", stream, paths, RunOptions(chunk_events=40_000, checkpoint_every=50_000))
    whole = replay_stream("lobster", get_feed("lobster").load(stream), 10)
    assert pl.read_parquet(paths.book).equals(whole.result.book)
    assert pl.read_parquet(paths.events).equals(whole.loaded.events)
    reference = pl.read_parquet(paths.reference)
    assert reference.height == 147_916 and reference["book_valid"].all()
    assert pl.read_parquet(paths.book).select(reference.columns).drop("book_valid").equals(
        reference.drop("book_valid"))  # re-seeded: every cell is LOBSTER's own
    assert {k: v for k, v in report.items() if k not in TIMING} == {
        k: v for k, v in whole.report.items() if k not in TIMING}
    assert (report["reseeds"], report["reference"]["match_rate"], report["reference"]["mismatched_rows"]) == (44_451, 1.0, 0)
    assert not checkpoint_path(paths.book).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.parquet", "events.parquet", "reference.parquet"]


def test_ignoring_the_reference_reads_only_the_seed_row(lobster_day, tmp_path):
    stream = lobster_stream(lobster_day, "AAPL-L10")
    report = run_stream("lobster", stream, OutputPaths(tmp_path / "book.parquet"),
                        RunOptions(use_reference=False, compare=False))
    assert report["reference"] is None and report["reseeds"] == 0 and report["unknown_cells"] == 27_114
    compared = run_stream("lobster", stream, OutputPaths(tmp_path / "book2.parquet"), RunOptions(use_reference=False))
    assert pl.read_parquet(tmp_path / "book.parquet").equals(pl.read_parquet(tmp_path / "book2.parquet"))
    assert compared["reference"]["cells_matched"] == compared["reference"]["cells_compared"]


def _replay_command(message: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "obrecon_pipeline.cli", "replay", "--format", "lobster", str(message),
            "--out", str(out), "--chunk-events", "65536", "--checkpoint-every", "300000", *extra]


def test_sigkill_mid_day_resumes_to_an_identical_book(tmp_path):
    """A 2,000,000-event simulated level-10 day: the run is killed (SIGKILL) once it has written two
    checkpoints, started again, and its book is byte for byte the book of a run never stopped."""
    day = simulate_day(tmp_path / "data", "SIM", "2024-01-02", events=2_000_000, levels=10, seed=7)
    message = day.message_file
    clean, killed = tmp_path / "clean.parquet", tmp_path / "killed.parquet"
    assert subprocess.run(_replay_command(message, clean, "--report", str(tmp_path / "clean.json")),
                          capture_output=True).returncode == 0

    ckpt = checkpoint_path(killed)
    proc = subprocess.Popen(_replay_command(message, killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen, deadline = set(), time.monotonic() + 120
    while len(seen) < 2 and proc.poll() is None and time.monotonic() < deadline:
        if ckpt.exists():
            seen.add(ckpt.stat().st_mtime_ns)
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not killed.exists() and ckpt.exists()

    resumed = subprocess.run(_replay_command(message, killed, "--report", str(tmp_path / "resumed.json")),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert killed.read_bytes() == clean.read_bytes()
    report = json.loads((tmp_path / "resumed.json").read_text())
    assert report["resumed_from_event"] >= 300_000 and report["events"] == 2_000_000
    clean_report = json.loads((tmp_path / "clean.json").read_text())
    assert {k: v for k, v in report.items() if k not in (*TIMING, "resumed_from_event")} == {
        k: v for k, v in clean_report.items() if k not in TIMING}
    assert not ckpt.exists() and sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".parquet") == [
        "clean.parquet", "killed.parquet"]
    assert not list(tmp_path.glob(".*partial"))


def test_a_checkpoint_another_replayer_version_wrote_is_dropped_and_the_day_replayed(lobster_day, tmp_path, monkeypatch):
    """A run interrupted right after its second checkpoint, whose replayer state is then marked as
    written by another state version: the next run cannot restore it, so it starts over (no resume)
    and writes the book of a run never stopped."""
    import io

    import numpy as np

    from obrecon_pipeline.storage import checkpoint

    stream = lobster_stream(lobster_day, "GOOG-L10")
    paths = OutputPaths(tmp_path / "book.parquet")
    options = RunOptions(chunk_events=20_000, checkpoint_every=20_000)
    save, saves = checkpoint.save, []

    def save_then_stop(*args):
        save(*args)
        saves.append(args[0])
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_stream("lobster", stream, paths, options)
    monkeypatch.setattr(checkpoint, "save", save)
    ckpt = checkpoint_path(paths.book)
    header, blobs = checkpoint.load(ckpt)
    assert header["events"] == 40_000
    state = dict(np.load(io.BytesIO(blobs["replayer"])))
    state["version"] = state["version"] - 1
    buf = io.BytesIO()
    np.savez(buf, **state)
    checkpoint.save(ckpt, header, {**blobs, "replayer": buf.getvalue()})
    report = run_stream("lobster", stream, paths, options)
    assert report.get("resumed_from_event") is None and report["events"] == 147_916
    fresh = run_stream("lobster", stream, OutputPaths(tmp_path / "fresh.parquet"), options)
    assert pl.read_parquet(paths.book).equals(pl.read_parquet(tmp_path / "fresh.parquet"))
