"""Fidelity asset checks: one per statistic of ``fidelity_report`` (one per entry of
:data:`obrecon_pipeline.fidelity.compare.RULES`, with its description), judged against the
``fidelity_thresholds`` resource.

Each check re-judges the stored value with the same rule the core uses
(:func:`obrecon_pipeline.fidelity.compare.result`), so changing a threshold in config changes the
verdict without recomputing the report. Severity is WARN (these are statistics, not integrity).
Metadata: value, threshold, n, minimum n, verdict, the supporting figures, and for a failure where
it went wrong: the first divergent row / interval / order with its UTC time and the raw message
behind it, and a small table of the first divergent rows. A comparison on a partition without a
reference book passes as "not applicable".

A statistic with too few observations is **not judged**: all checks run in one
``multi_asset_check`` that may leave a check without a result (``can_subset=True``); it logs the
reason (``n = 30 < 500 required``) and yields nothing for that check, which Dagster records and the
UI shows as *skipped*, never as a failure.
"""


import json

import dagster as dg
import polars as pl

from assets.metadata import describe_event, iso, markdown_table
from assets.partitions import STREAM_DAYS
from obrecon_pipeline.fidelity.compare import RULES, result
from obrecon_pipeline.fidelity.verdict import Verdict
from resources.fidelity import FidelityThresholds

#: details that are a ``seq`` / ``arrival`` of an event (their raw message goes into the metadata)
EVENT_KEYS = ("first_divergent_seq", "first_bad_order_arrival", "first_flagged_seq")


def _scalar(value):
    if isinstance(value, bool) or value is None:
        return dg.MetadataValue.text(str(value))
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    return dg.MetadataValue.text(str(value))


def _readable(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows)
    return frame.with_columns(
        [pl.col(c).map_elements(iso, return_dtype=pl.Utf8) for c in frame.columns if c.startswith("ts_")]
    )


def _judge(name: str, report: pl.DataFrame, events: pl.LazyFrame, settings: FidelityThresholds) -> dg.AssetCheckResult | str:
    """The check's result, or the reason it cannot be judged (too few observations)."""
    row = report.row(0, named=True)
    details = json.loads(row[f"{name}_details"])
    rows = json.loads(row[f"{name}_rows"])
    stored = Verdict(row[f"{name}_verdict"])
    th = settings.thresholds()
    metadata: dict = {"verdict": stored.value}
    if stored is Verdict.NO_REFERENCE:
        return dg.AssetCheckResult(
            check_name=name,
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description="not applicable: this partition has no reference book",
            metadata={"verdict": stored.value, "threshold": RULES[name].threshold(th)},
        )
    judged = result(name, row[f"{name}_value"], row[f"{name}_n"], th, details, rows)
    metadata.update({
        "verdict": judged.verdict.value,
        "value": _scalar(judged.value),
        "threshold": judged.threshold,
        "n": judged.n,
        "min_n": judged.min_n,
    })
    metadata.update({k: _scalar(v) for k, v in judged.details.items()})
    if judged.verdict is not Verdict.PASS:
        for key in EVENT_KEYS:
            if key in details:
                seq = int(details[key])
                metadata[key.replace("seq", "message").replace("arrival", "message")] = describe_event(
                    events.slice(seq, 1).collect(), 0
                )
        for key, value in details.items():
            if key.endswith(("ts_event", "interval_end")):
                metadata[f"{key}_utc"] = iso(value)
        if rows:
            metadata["first_divergent_rows"] = dg.MetadataValue.md(markdown_table(_readable(rows)))
    if judged.verdict is Verdict.TOO_FEW:
        return f"{judged.details['reason']}: not judged (no verdict on noise)"
    return dg.AssetCheckResult(
        check_name=name,
        passed=judged.verdict is Verdict.PASS,
        severity=dg.AssetCheckSeverity.WARN,
        description=RULES[name].description,
        metadata=metadata,
    )


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name, asset="fidelity_report", additional_deps=["events"], description=rule.description,
                            partitions_def=STREAM_DAYS)
           for name, rule in RULES.items()],
    ins={"fidelity_report": dg.AssetIn("fidelity_report"), "events": dg.AssetIn("events")},
    can_subset=True,
)
def fidelity_checks(
    context: dg.AssetCheckExecutionContext,
    fidelity_report: pl.DataFrame,
    events: pl.LazyFrame,
    fidelity_thresholds: FidelityThresholds,
):
    """Every fidelity statistic of ``fidelity_report`` judged; too few observations: skipped."""
    for key in sorted(context.selected_asset_check_keys, key=lambda k: list(RULES).index(k.name)):
        judged = _judge(key.name, fidelity_report, events, fidelity_thresholds)
        if isinstance(judged, str):
            context.log.info(f"{key.name}: {judged}; skipped")
            continue
        yield judged


FIDELITY_CHECKS = [fidelity_checks]
