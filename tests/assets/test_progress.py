"""Progress: the step callback logs at most every few seconds (always the last call) with events
done, events/s and ETA; the shell's bar weighs partitions by raw bytes."""

from __future__ import annotations

import io
from pathlib import Path

from assets.progress import RunProgress, StepProgress, duration, progress_line, raw_weights
from obrecon_pipeline.streams import Stream


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_step_progress_is_throttled_and_says_rate_and_eta():
    lines, clock = [], Clock()
    progress = StepProgress(lines.append, every_s=5.0, clock=clock)
    for t, done in ((1, 1_000_000), (3, 3_000_000), (6, 6_000_000), (8, 8_000_000), (8.5, 10_000_000)):
        clock.now = t
        progress(done, 10_000_000, t)
    assert lines == [
        "events 1,000,000 of 10,000,000 (10.0%), 1.00 M/s, ETA 9 s",
        "events 6,000,000 of 10,000,000 (60.0%), 1.00 M/s, ETA 4 s",
        "events 10,000,000 of 10,000,000 (100.0%), 1.18 M/s, ETA 0 s",
    ]
    assert progress_line(2_500_000, None, 2.0) == "events 2,500,000, 1.25 M/s"
    assert (duration(42.4), duration(185), duration(3725)) == ("42 s", "3 min 05 s", "1 h 02 min")


def test_run_progress_weighs_partitions_by_raw_bytes(tmp_path):
    shared, own = tmp_path / "capture.gz", tmp_path / "day.csv"
    shared.write_bytes(b"x" * 3000)
    own.write_bytes(b"y" * 1000)
    streams = [Stream("cryptofeed", "A", "2021-04-17", (shared,)), Stream("cryptofeed", "B", "2021-04-17", (shared,)),
               Stream("lobster", "C", "2012-06-21", (own,))]
    weights = raw_weights(streams)
    assert weights == {"cryptofeed/A/2021-04-17": 1500.0, "cryptofeed/B/2021-04-17": 1500.0, "lobster/C/2012-06-21": 1000.0}
    clock = Clock()
    bar = RunProgress(weights, file=io.StringIO(), clock=clock)  # not a terminal: no bar drawn
    clock.now = 10.0
    bar.advance("lobster/C/2012-06-21")
    assert bar.status() == "1/3 partitions, 25%, ETA 30 s"
    bar.advance("cryptofeed/A/2021-04-17")
    bar.advance("cryptofeed/B/2021-04-17")
    assert bar.status() == "3/3 partitions, 100%"
    bar.close()
