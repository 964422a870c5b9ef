"""Cost of the fidelity layer on the GOOG level-10 LOBSTER day, beside the replay it sits on.

Phases, each in a fresh subprocess so that its peak RSS is its own (the book is rebuilt in every
phase outside the timed part):

* ``replay``: normalized events -> top-10 book after every event (Cython), reference reseeding on;
* ``metrics``: spreads, OFI (1 s, 10 s; levels 1..10; depth-normalised), returns, micro-price and
  imbalance, marketable orders walked through the book, OFI impact regressions, square-root law;
* ``fidelity``: every fidelity statistic against LOBSTER's own book (correlations, KS, Ljung-Box,
  Hill, GARCH(1,1) on both books, VWAP prediction) -- what ``fidelity_report`` computes;
* ``all``: ``metrics`` + ``fidelity``.

The issue's target: computing all of this takes well under 10 x the replay time. Usage::

    python benchmarks/fidelity.py [--repeat 5]
"""

from __future__ import annotations

from _harness import ROOT, best_of, emit, peak_rss_mib, phase_arguments, phases

DAY = ROOT / "data" / "raw" / "lobster" / "2012-06-21"
STREAM = "GOOG-L10"
LEVELS = 10
PHASES = ("replay", "metrics", "fidelity", "all")


def _phase(name: str, repeat: int) -> dict:
    from obrecon_pipeline.feeds import get_feed
    from obrecon_pipeline.fidelity.evaluate import evaluate
    from obrecon_pipeline.fidelity.thresholds import Thresholds
    from obrecon_pipeline.metrics.impact import impact_regressions, marketable_orders, square_root_law
    from obrecon_pipeline.metrics.microstructure import microstructure
    from obrecon_pipeline.metrics.ofi import ofi_table
    from obrecon_pipeline.metrics.returns import returns_table
    from obrecon_pipeline.metrics.spreads import spreads
    from obrecon_pipeline.pipeline import reference_frame, replay_stream

    feed = get_feed("lobster")
    (stream,) = [s for s in feed.discover(DAY, DAY.name) if s.name == STREAM]
    loaded = feed.load(stream)
    th = Thresholds()
    book = replay_stream("lobster", loaded, LEVELS).result.book
    reference = reference_frame(loaded)

    def metrics():
        spreads(book).collect()
        ofi_table(book, th.intervals_s)
        returns_table(book, th.intervals_s).collect()
        microstructure(book).collect()
        square_root_law(marketable_orders(loaded.events, book))
        impact_regressions(book, th.intervals_s)

    def fidelity():
        evaluate(book, loaded.events, reference, th)

    def everything():
        metrics()
        fidelity()

    fn = {"replay": lambda: replay_stream("lobster", loaded, LEVELS), "metrics": metrics,
          "fidelity": fidelity, "all": everything}[name]
    wall, _ = best_of(fn, repeat)
    return {"phase": name, "events": loaded.events.height, "best_wall_s": wall, "peak_rss_mib": peak_rss_mib()}


def run(repeat: int = 5) -> list[dict]:
    return phases(__file__, PHASES, "--repeat", repeat)


def main() -> None:
    args = phase_arguments(__doc__, PHASES)
    if args.phase:
        emit(_phase(args.phase, args.repeat))
        return
    rows = run(args.repeat)
    replay_s = rows[0]["best_wall_s"]
    print(f"LOBSTER {STREAM} 2012-06-21: {rows[0]['events']:,} events, top-{LEVELS} book after every event")
    print(f"{'phase':<10} {'best wall s':>12} {'events/s':>14} {'x replay':>9} {'peak RSS MiB':>13}")
    for r in rows:
        print(f"{r['phase']:<10} {r['best_wall_s']:>12.4f} {r['events'] / r['best_wall_s']:>14,.0f} "
              f"{r['best_wall_s'] / replay_s:>9.2f} {r['peak_rss_mib']:>13.1f}")


if __name__ == "__main__":
    main()
