"""Simulated LOBSTER days into the landing zone: :func:`simulate_day`, :func:`simulate_days`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.simulate import layout, stream
from obrecon_pipeline.simulate._engine import Simulator
from obrecon_pipeline.simulate.output import StagedFile
from obrecon_pipeline.simulate.params import ModelParams, tables
from obrecon_pipeline.simulate.seeds import day_seed


@dataclass(frozen=True)
class DayResult:
    symbol: str
    day: str
    levels: int
    message_file: Path
    orderbook_file: Path
    messages: int  #: rows of each file
    steps: int  #: events of the market since 09:30, in the file or beyond its L levels
    type_counts: dict  #: messages per LOBSTER type
    bytes_written: int  #: both files, as stored
    seconds: float  #: wall time, pre-open burn-in and writing included

    @property
    def events_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def simulate_day(root: str | Path, symbol: str, day: str | date, *, events: int, levels: int, seed: int,
                 params: ModelParams = ModelParams(), compress: bool = False) -> DayResult:
    """Write one symbol's simulated day: exactly ``events`` messages at level ``levels``, and the
    book after each one (see :mod:`obrecon_pipeline.simulate.pymodel` for the model)."""
    if events < 1 or levels < 1:
        raise ObreconError(f"--events and --levels must be at least 1, got {events} and {levels}")
    day = str(day)
    message_path, orderbook_path = layout.day_files(Path(root), symbol, day, levels, compress)
    t0 = time.perf_counter()
    sim = Simulator(tables(params), levels, events, day_seed(seed, day, symbol))
    outputs = [StagedFile(message_path, compress), StagedFile(orderbook_path, compress)]
    try:
        stream.run(sim, *outputs)
        for out in reversed(outputs):  # the orderbook file first: the message file names the day
            out.publish()
    finally:
        for out in outputs:
            out.discard()
    return DayResult(symbol, day, levels, message_path, orderbook_path, sim.written, sim.steps,
                     sim.type_counts, sum(out.bytes_written for out in outputs), time.perf_counter() - t0)


def simulate_days(root: str | Path, symbols: Iterable[str], start: date, end: date | None = None, *,
                  events: int, levels: int, seed: int, params: ModelParams = ModelParams(),
                  compress: bool = False, on_day: Callable[[DayResult], None] | None = None) -> list[DayResult]:
    """:func:`simulate_day` for every weekday from ``start`` to ``end`` (default: ``start``) and
    every symbol; ``on_day`` is called after each."""
    results = []
    for d in layout.weekdays(start, end or start):
        for symbol in symbols:
            result = simulate_day(root, symbol, d.isoformat(), events=events, levels=levels, seed=seed,
                                  params=params, compress=compress)
            if on_day is not None:
                on_day(result)
            results.append(result)
    return results
