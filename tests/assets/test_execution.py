"""assets.execution: a partition's run in process, the step outputs not kept."""

from __future__ import annotations

import warnings

import dagster as dg
import pytest

from assets import book
from assets.execution import execute_uncaptured
from assets.partitions import partition_key, register
from resources import resources_for

AAPL = "lobster/AAPL-L10/2012-06-21"


def _job(root) -> dg.JobDefinition:
    defs = dg.Definitions(assets=[book.replay_partition], resources=resources_for(root),
                          jobs=[dg.define_asset_job("replay", selection=[book.replay_partition])])
    return defs.resolve_job_def("replay")


def test_the_run_materializes_the_partition_and_keeps_no_step_output(small_landing_zone):
    job = _job(small_landing_zone)
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [AAPL])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = job.execute_in_process(partition_key=partition_key(AAPL), instance=instance)
        result = execute_uncaptured(job, partition_key(AAPL), instance, tags={"who": "test"})
    assert result.success
    materialized = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    assert materialized == sorted(e.asset_key.to_user_string() for e in kept.get_asset_materialization_events())
    assert materialized == ["book", "events", "reference_book", "report"]
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["who"] == "test"
    partition_tags = {k: v for k, v in run.tags.items() if k.startswith("dagster/partition")}
    assert partition_tags and partition_tags == {k: v for k, v in instance.get_run_by_id(kept.run_id).tags.items()
                                                 if k.startswith("dagster/partition")}
    kept.output_for_node("replay_partition", "book")  # execute_in_process keeps it ...
    with pytest.raises(dg.DagsterInvariantViolationError):
        result.output_for_node("replay_partition", "book")  # ... the run here does not
