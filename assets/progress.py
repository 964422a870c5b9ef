"""Progress a person can see: throttled step logs and the shell's progress bar.

:class:`StepProgress` is the ``progress(events_done, events_total | None, elapsed_s)`` callback a
chunked replay calls after every chunk; it writes a Dagster log line at most every
``every_s`` seconds (and always for the last call): events done, events/s, and the ETA when the
total is known. ``ETA = (total - done) / rate`` with ``rate = done / elapsed``.

:class:`RunProgress` is the shell's bar across partitions (``assets.materialize``), on ``tqdm``
(a dependency of Dagster). Partitions differ in size by orders of magnitude, so the bar advances
by each stream-day's share of the raw bytes and the ETA is ``elapsed × (bytes left / bytes
done)``; a file shared by several streams (a cryptofeed capture) is split evenly among them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Callable, TextIO

from obrecon_pipeline.streams import Stream


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def progress_line(done: int, total: int | None, elapsed_s: float) -> str:
    """``events 1,234,567 of 5,000,000 (24.7%), 2.31 M/s, ETA 1 min 38 s``."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    text = f"events {done:,}"
    if total:
        text += f" of {total:,} ({100 * done / total:.1f}%)"
    text += f", {rate / 1e6:.2f} M/s"
    if total and rate > 0:
        text += f", ETA {duration((total - done) / rate)}"
    return text


class StepProgress:
    """The throttled ``progress(events_done, events_total, elapsed_s)`` callback of one step."""

    def __init__(self, log: Callable[[str], None], every_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self._log, self._every, self._clock = log, every_s, clock
        self._last: float | None = None

    def __call__(self, events_done: int, events_total: int | None, elapsed_s: float) -> None:
        now = self._clock()
        final = events_total is not None and events_done >= events_total
        if final or self._last is None or now - self._last >= self._every:
            self._log(progress_line(events_done, events_total, elapsed_s))
            self._last = now


def raw_weights(streams: list[Stream]) -> dict[str, float]:
    """Stream-day id -> its share of the raw bytes (shared files split among their streams)."""
    sharing = Counter(path for s in streams for path in s.files)
    return {s.partition_key: sum(os.path.getsize(p) / sharing[p] for p in s.files) or 1.0 for s in streams}


class RunProgress:
    """A progress bar over partitions weighted by raw bytes, with ETA (``tqdm`` on ``file`` when
    it is a terminal; :meth:`status` gives the same figures for a log line)."""

    def __init__(self, weights: dict[str, float], file: TextIO, clock: Callable[[], float] = time.monotonic):
        from tqdm import tqdm

        self._weights, self._clock, self._t0 = weights, clock, clock()
        self._total, self._bytes_done = sum(weights.values()), 0.0
        self._bar = tqdm(total=self._total, file=file, unit="B", unit_scale=True, disable=not file.isatty(),
                         mininterval=1.0, dynamic_ncols=True,
                         bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed} elapsed, ETA {remaining}]")
        self._done = 0
        self._bar.set_description_str(f"0/{len(weights)} partitions", refresh=False)

    def write(self, text: str) -> None:
        """Print ``text`` above the bar."""
        self._bar.write(text)

    def status(self) -> str:
        """``12/321 partitions, 37%, ETA 4 min 10 s`` (ETA = elapsed × bytes left / bytes done)."""
        share = self._bytes_done / self._total if self._total else 1.0
        text = f"{self._done}/{len(self._weights)} partitions, {100 * share:.0f}%"
        if 0 < share < 1:
            text += f", ETA {duration((self._clock() - self._t0) * (1 - share) / share)}"
        return text

    def advance(self, stream_day: str) -> None:
        self._done += 1
        self._bytes_done += self._weights[stream_day]
        self._bar.set_description_str(f"{self._done}/{len(self._weights)} partitions", refresh=False)
        self._bar.update(self._weights[stream_day])

    def close(self) -> None:
        self._bar.close()
