"""``cross_venue``: per trading day, every configured pair of venues' books of one instrument compared
(:mod:`obrecon_pipeline.metrics.cross_venue`), and the check that each book keeps following the other.

**Partitions: one per trading day** (the ``trading_day`` dimension of the stream-day partitions,
the same dynamic set the landing-zone sensor registers), not per stream-day and not per pair:

* the asset reads two streams of the same day, so a (stream, day) key has no pair to compare; the
  day is what both books share. Its input is every ``book`` partition of that day
  (:class:`dagster.MultiToSingleDimensionPartitionMapping` on ``trading_day``, missing ones
  allowed: a stream that did not land that day is simply absent), so lineage and staleness follow
  the books it read;
* the pairs are configuration (:class:`resources.cross_venue.CrossVenuePairs`), not data: adding a
  pair changes what a day computes, not the partition set, and needs no partition re-registration.
  A pair whose two books are not both there, or share less than ``min_overlap_s`` of usable time,
  is reported in the table and **not judged** (the check is skipped when no pair is judged);
* the table is small (one row per pair), so one file per day (``warehouse/cross_venue/<day>.parquet``)
  holds every pair.

Because its partitions differ from the stream-day assets', it runs in its own job
(``compare_venues``, one run per day after the books) rather than in ``reconstruct``.

The check ``books_follow_each_other`` fails when, in any judged pair, one book froze (its best
quotes unchanged for ``freeze_s`` while the other venue's mid moved) or the basis drifted
``drift_bp`` from its trailing median; its metadata names the pair, the venue, the kind, when it
started (UTC), the first grid point that showed it, its length, and lists the episodes.
"""

import json
import warnings

import dagster as dg
import polars as pl

from assets.metadata import iso, markdown_table
from assets.partitions import DAY_DIM, DAYS, STREAM_DIM, STREAM_DAYS
from obrecon_pipeline.metrics.cross_venue import cross_venue as compare_books
from obrecon_pipeline.metrics.cross_venue import figures_row
from resources.cross_venue import CrossVenuePairs

GROUP = "cross_venue"
#: bump when the table changes for the same books (stored partitions show stale)
CODE_VERSION = "1"
CHECK = "books_follow_each_other"


with warnings.catch_warnings():  # a Dagster beta; nothing for a user to act on
    warnings.simplefilter("ignore", dg.BetaWarning)
    #: a day's partition reads every stream's book of that day
    BOOKS_OF_THE_DAY = dg.MultiToSingleDimensionPartitionMapping(DAY_DIM)


def _stream(partition_key: str) -> str:
    return STREAM_DAYS.get_partition_key_from_str(partition_key).keys_by_dimension[STREAM_DIM]


@dg.asset(
    partitions_def=DAYS,
    ins={"book": dg.AssetIn("book", partition_mapping=BOOKS_OF_THE_DAY, metadata={"allow_missing_partitions": True})},
    group_name=GROUP,
    compute_kind="polars",
    code_version=CODE_VERSION,
)
def cross_venue(context: dg.AssetExecutionContext, book: dict[str, pl.LazyFrame],
                cross_venue_pairs: CrossVenuePairs) -> dg.Output[pl.DataFrame]:
    """One row per configured pair: mid basis (bp) distribution and stability, share of time each
    book is stale relative to the other, lead-lag of mid returns, frozen/drift episodes."""
    try:
        spec = cross_venue_pairs.spec()
    except ValueError as exc:
        raise dg.Failure(description=f"cross_venue_pairs: {exc}") from None
    books = {_stream(k): frame for k, frame in book.items()}
    rows = []
    for a, b in cross_venue_pairs.stream_pairs():
        missing = [name for name in (a, b) if name not in books]
        if missing:
            rows.append({"venue_a": a, "venue_b": b, "judged": False,
                         "reason": f"no book of {', '.join(missing)} on {context.partition_key}"})
            continue
        row = figures_row(compare_books(books[a], books[b], spec, (a, b)))
        overlap_s = row["usable_points"] * spec.step_s
        judged = overlap_s >= cross_venue_pairs.min_overlap_s
        row.update(judged=judged, reason=None if judged else
                   f"{overlap_s:g} s of usable overlap < {cross_venue_pairs.min_overlap_s:g} s required")
        rows.append(row)
    table = pl.DataFrame(rows, infer_schema_length=None)
    shown = [c for c in ("venue_a", "venue_b", "judged", "basis_p50_bp", "basis_std_bp", "stale_share_a",
                         "stale_share_b", "lead_lag_peak_s", "leader", "episodes", "reason") if c in table.columns]
    return dg.Output(table, metadata={"pairs": table.height, "judged_pairs": int(table["judged"].sum()),
                                      "figures": dg.MetadataValue.md(markdown_table(table.select(shown)))})


def _episode_table(episodes: list[dict], pair: str) -> pl.DataFrame:
    return pl.DataFrame([{"pair": pair, "kind": e["kind"], "venue": e["venue"], "started": iso(e["start_ns"]),
                          "seen_at": iso(e["first_point_ns"]), "ended": iso(e["end_ns"]), "points": e["points"],
                          "peak": round(e["peak"], 3)} for e in episodes])


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(CHECK, asset="cross_venue", partitions_def=DAYS,
                             description="Each venue's book keeps following the other's (no frozen book, no basis drift)")],
    can_subset=True,
)
def books_follow_each_other(context: dg.AssetCheckExecutionContext, cross_venue: pl.DataFrame,
                            cross_venue_pairs: CrossVenuePairs):
    """Fails on the first frozen-book or basis-drift episode of a judged pair; skipped when no pair
    could be judged that day."""
    judged = cross_venue.filter("judged")
    if judged.height == 0:
        reasons = "; ".join(f"{r['venue_a']}/{r['venue_b']}: {r['reason']}" for r in cross_venue.iter_rows(named=True))
        context.log.info(f"{CHECK}: no pair judged ({reasons or 'no pair configured'}); skipped")
        return
    episodes = [(f"{r['venue_a']}/{r['venue_b']}", e) for r in judged.iter_rows(named=True)
                for e in json.loads(r["episode_list"])]
    metadata: dict = {
        "pairs_judged": judged.height,
        "episodes": len(episodes),
        "freeze_s": dg.MetadataValue.float(cross_venue_pairs.freeze_s),
        "drift_bp": dg.MetadataValue.float(cross_venue_pairs.drift_bp),
        "grid_points": int(judged["usable_points"].sum()),
    }
    if episodes:
        pair, first = min(episodes, key=lambda pe: pe[1]["start_ns"])
        metadata.update(
            first_pair=pair, first_kind=first["kind"], first_venue=first["venue"],
            first_started=iso(first["start_ns"]), first_started_ns=first["start_ns"],
            first_seen_at=iso(first["first_point_ns"]), first_duration_s=(first["end_ns"] - first["start_ns"]) / 1e9,
            first_peak=dg.MetadataValue.float(first["peak"]),
            episode_table=dg.MetadataValue.md(markdown_table(pl.concat(
                [_episode_table([e], p) for p, e in sorted(episodes, key=lambda pe: pe[1]["start_ns"])]))),
        )
    yield dg.AssetCheckResult(check_name=CHECK, passed=not episodes, severity=dg.AssetCheckSeverity.ERROR,
                              metadata=metadata)
