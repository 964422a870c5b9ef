"""Shared by the asset tests: materialize one stream-day partition through the Dagster layer."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets import book
from assets.feed_integrity import feed_integrity
from assets.partitions import discover_streams, partition_key, register
from resources import resources_for


def _materialize_check(root: Path, key: str, check):
    """Materialize ``book.replay_partition`` and the asset check ``check`` for partition ``key`` of the
    data root ``root`` (the key must be one the landing zone there yields); the check's evaluation
    and its metadata values."""
    assert key in [s.partition_key for s in discover_streams(root / "raw")]
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [key])
    result = dg.materialize([book.replay_partition, check], partition_key=partition_key(key), resources=resources_for(root),
                            instance=instance)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation, {k: v.value for k, v in evaluation.metadata.items()}


@pytest.fixture
def materialize_check():
    """``materialize_check(root, key, check) -> (evaluation, metadata values)``."""
    return _materialize_check


@pytest.fixture
def materialize_integrity():
    """``materialize_integrity(root, key) -> (evaluation, metadata values)`` of the feed_integrity check."""
    return lambda root, key: _materialize_check(root, key, feed_integrity)
