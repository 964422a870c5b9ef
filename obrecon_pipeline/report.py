"""``report.json``: the counters of one replayed stream (a public contract; keys are only added).

Contract keys (0 where not applicable to the feed): ``events``, ``rows``, ``unknown_cells``,
``reseeds``, ``crossed_rows``, ``gaps``, ``duplicates``, ``reordered``, ``checksum_ok``,
``checksum_failed``, ``resyncs``, ``replay_wall_s``, ``events_per_s``.
Extensions: ``stream``, ``format``, ``files``, ``levels``, ``reference`` (the cell-by-cell match
against the feed's reference book, when it has one), ``quarantined`` and everything else the
parser and the replayer counted (``locked_rows``, ``integrity_errors``, ``first_integrity_error``, ...),
and :func:`obrecon_pipeline.integrity.summary.integrity_report` (``integrity_failure_list``,
``crossed_rows_pre_open``, ``crossed_rows_continuous``, ``crossed_episode_list``, ...).
"""

from __future__ import annotations

from obrecon_pipeline.integrity.reference import Match
from obrecon_pipeline.integrity.summary import integrity_report
from obrecon_pipeline.replay import ReplayResult
from obrecon_pipeline.streams import LoadedStream

CONTRACT_KEYS = (
    "events", "rows", "unknown_cells", "reseeds", "crossed_rows", "gaps", "duplicates",
    "reordered", "checksum_ok", "checksum_failed", "resyncs", "replay_wall_s", "events_per_s",
)


def build_report(fmt: str, loaded: LoadedStream, result: ReplayResult, levels: int, match: Match | None) -> dict:
    report: dict = {key: 0 for key in CONTRACT_KEYS}
    report.update(loaded.stats)
    report.update(result.counters)
    # located integrity failures and the crossed-book classification (pre-open vs continuous)
    report.update(integrity_report(loaded.events, result)[0])
    report["stream"] = loaded.stream.partition_key
    report["format"] = fmt
    report["files"] = [str(f) for f in loaded.stream.files]
    report["levels"] = levels
    report["quarantined"] = 0 if loaded.quarantine is None else loaded.quarantine.height
    report["reference"] = None if match is None else match.to_dict()
    return report
