"""Shared by the asset tests: materialize one stream-day partition through the Dagster layer."""

from __future__ import annotations

import gzip
import shutil
import warnings
from pathlib import Path

import dagster as dg
import pytest

from assets import book
from assets.feed_integrity import feed_integrity
from assets.partitions import discover_streams, partition_key, register
from resources import resources_for
from tests.conftest import LOBSTER_DAY, RAW

CUT = "AAPL_2012-06-21_34200000_57600000_{kind}_10.csv.gz"
#: the AAPL level-10 cut (999 messages) as AAPL-L10 on a good day and, one add message deleted, on a damaged day
GOOD_DAY, DAMAGED_DAY = "lobster/AAPL-L10/2012-06-25", "lobster/AAPL-L10/2012-06-26"


def land_good_and_damaged(root: Path, good: str = GOOD_DAY, damaged: str = DAMAGED_DAY) -> int:
    """Land the cut in ``root/raw`` as stream-day ``good`` and, with its first add message from row 10
    on (and that orderbook row) deleted, as ``damaged``; the deleted message's 0-based index."""
    files = {k: gzip.decompress((LOBSTER_DAY / CUT.format(kind=k)).read_bytes()).split(b"\n")
             for k in ("message", "orderbook")}
    victim = next(i for i in range(10, len(files["message"])) if files["message"][i].split(b",")[1] == b"1")
    for key, lines in ((good, files), (damaged, {k: v[:victim] + v[victim + 1:] for k, v in files.items()})):
        day = key.rsplit("/", 1)[1]
        dest = root / "raw" / "lobster" / day
        dest.mkdir(parents=True)
        for kind, body in lines.items():
            (dest / CUT.format(kind=kind).replace("2012-06-21", day)).write_bytes(gzip.compress(b"\n".join(body)))
    return victim


def materialize_all(root: Path, instance: dg.DagsterInstance, key: str, selection=None):
    """One run of every asset and check of the code location (or ``selection``) for partition
    ``key`` (a stream-day id) of the data root ``root``; failures are returned, not raised."""
    from assets.definitions import ASSETS, CHECKS, STREAM_DAY_ASSETS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.materialize([*ASSETS, *CHECKS], partition_key=partition_key(key), instance=instance,
                              resources=resources_for(root), raise_on_error=False,
                              selection=selection or STREAM_DAY_ASSETS - dg.AssetSelection.assets("raw_files"))


def _materialize_check(root: Path, key: str, check):
    """Materialize ``book.replay_partition`` and the asset check ``check`` for partition ``key`` of the
    data root ``root`` (the key must be one the landing zone there yields); the check's evaluation
    and its metadata values (a failed blocking check fails the run, as it should)."""
    assert key in [s.partition_key for s in discover_streams(root / "raw")]
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [key])
    result = dg.materialize([book.replay_partition, check], partition_key=partition_key(key), resources=resources_for(root),
                            instance=instance, raise_on_error=False)
    # a blocking check that fails fails its step (assets.breaker); nothing else may fail
    assert [e.event_specific_data.error.cls_name for e in result.all_events if e.is_step_failure] in (
        [], ["DagsterAssetCheckFailedError"])
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


def landing_day(root: Path, key: str) -> Path:
    """The landing-zone folder ``root/raw/<source>/<day>`` of stream-day ``key``, made empty."""
    source, _, day = key.split("/")
    folder = root / "raw" / source / day
    folder.mkdir(parents=True)
    return folder


def land_shipped(root: Path, key: str) -> None:
    """Land under ``root/raw`` a copy of the test data's day that holds stream-day ``key`` (tests
    never read the live landing zone)."""
    source, _, day = key.split("/")
    shutil.copytree(RAW / source / day, root / "raw" / source / day)


@pytest.fixture
def shipped_integrity():
    """``shipped_integrity(root, key) -> (evaluation, metadata values)``: the feed_integrity check of
    stream-day ``key`` as shipped, landed under ``root`` by :func:`land_shipped`."""
    def run(root: Path, key: str):
        land_shipped(root, key)
        return _materialize_check(root, key, feed_integrity)
    return run
