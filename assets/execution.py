"""Running a job in this process without keeping its step outputs.

``JobDefinition.execute_in_process`` keeps the value every step returned until the run ends (its
``output_capture``, for ``result.output_for_node``; Dagster turns it on unconditionally). The
outputs are already in the warehouse, so for a partition's run that is the ``features`` grid, the
OFI table, the marketable orders, ... held on top of every later step (on a 10 M-event day the
last step, ``fidelity_checks``, peaked at 697 MiB with them and 545 without;
``benchmarks/dagster_scale.py``, figures in the README).
:func:`execute_uncaptured` is the same execution (in-process executor, the job's resources, the
partition's run config and tags) with the capture off; the result's events, checks and
materializations are all there, only ``output_for_node`` is empty. It uses Dagster's internals
(``core_execute_in_process``), the ones ``execute_in_process`` calls.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.execute_in_process import (
    core_execute_in_process,
    merge_run_tags,
    type_check_and_normalize_args,
)
from dagster._core.definitions.partitions.context import partition_loading_context


def execute_uncaptured(job: dg.JobDefinition, partition_key: str, instance: dg.DagsterInstance,
                       run_config: Mapping | None = None, tags: Mapping[str, str] | None = None,
                       raise_on_error: bool = False) -> dg.ExecuteInProcessResult:
    """``job.execute_in_process(partition_key=..., instance=..., ...)`` without the step outputs kept."""
    run_config, _, asset_selection, resource_defs, partition_key, input_values = type_check_and_normalize_args(
        run_config=run_config, partition_key=partition_key)
    ephemeral = job.as_ephemeral_job(resource_defs=resource_defs, input_values=input_values)
    if ephemeral.partitions_def:
        with partition_loading_context(dynamic_partitions_store=instance) as ctx:
            ephemeral.validate_partition_key(partition_key=partition_key, selected_asset_keys=set(asset_selection),
                                             context=ctx)
    if not run_config and ephemeral.partitioned_config:
        run_config = ephemeral.partitioned_config.get_run_config_for_partition_key(partition_key)
    return core_execute_in_process(
        job=InMemoryJob(job_def=ephemeral), run_config=run_config, instance=instance,
        output_capturing_enabled=False, raise_on_error=raise_on_error,
        run_tags=merge_run_tags(job_def=job, partition_key=partition_key, tags=tags, asset_selection=asset_selection,
                                instance=instance, run_config=run_config),
        asset_selection=frozenset(asset_selection))
