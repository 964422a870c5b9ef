"""Throughput of the Databento MBO path on the ESH4 day, beside the pure-Python order map.

Phases, each in a fresh subprocess so that its peak RSS is its own:

* ``decode``: ``.dbn.zst`` -> normalized event table (zstd, NumPy view, Polars; sequence analysis);
* ``replay``: normalized events -> top-10 book at every F_LAST (Cython order map + ladders);
* ``pipeline``: both plus the integrity report (located failures, crossed classification);
* ``reference``: databento-dbn record objects -> pure-Python order map -> top-10 at every F_LAST
  (``tests/reference/mbo_order_map.py``, the independent check).

events/s = records / best wall time over ``--repeat`` runs. Usage::

    python benchmarks/replay_databento.py [--repeat 5] [--file PATH.dbn.zst]

:func:`run` returns the rows for a combined benchmark table.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _harness import ROOT, best_of, phase_main, phase_result, phases

DEFAULT_FILE = ROOT / "data" / "raw" / "databento" / "2023-12-25" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
LEVELS = 10
PHASES = ("decode", "replay", "pipeline", "reference")


def _phase(name: str, path: Path, repeat: int) -> dict:
    """Run one phase in this process; return its timing and peak RSS."""
    from obrecon_pipeline.feeds.databento import from_files, load
    from obrecon_pipeline.report import integrity_summary
    from obrecon_pipeline.replay import replay

    (stream,) = from_files([path])
    if name == "decode":
        wall, loaded = best_of(lambda: load(stream), repeat)
        n = loaded.events.height
    elif name == "replay":
        loaded = load(stream)
        n = loaded.events.height
        wall, _ = best_of(lambda: replay(loaded.events, LEVELS, loaded.options), repeat)
    elif name == "pipeline":
        def everything():
            loaded = load(stream)
            result = replay(loaded.events, LEVELS, loaded.options)
            integrity_summary(result.counters, result.integrity)
            return loaded

        wall, loaded = best_of(everything, repeat)
        n = loaded.events.height
    else:  # "reference" (argparse allows only PHASES)
        sys.path.insert(0, str(ROOT / "tests" / "reference"))
        from mbo_order_map import mbo_records, replay_reference

        def reference():
            records = mbo_records(path)
            replay_reference(records, LEVELS)
            return records

        wall, records = best_of(reference, max(1, repeat // 2))
        n = len(records)
    return phase_result(name, "events", n, wall)


def run(path: Path = DEFAULT_FILE, repeat: int = 5) -> list[dict]:
    """Every phase in its own subprocess; one dict per phase."""
    return phases(__file__, PHASES, "--file", path, "--repeat", repeat)


if __name__ == "__main__":
    phase_main(__file__, __doc__, PHASES, DEFAULT_FILE, _phase, "events",
               lambda path, rows: f"Databento MBO {path.name}: {rows[0]['events']:,} records, top-{LEVELS} at every F_LAST")
