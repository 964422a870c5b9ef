"""An object-store data root (``OBRECON_DATA_DIR=s3://…``, a real S3 API server on 127.0.0.1): the
``reconstruct`` assets and checks of one partition run on one machine, a downstream asset on
another machine that shares only the bucket, and both give exactly what a local root gives."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import dagster as dg
import fsspec
import polars as pl
import pytest

from assets.partitions import partition_key, register
from resources import resources_for
from tests.assets.conftest import materialize_all

REPO = Path(__file__).resolve().parents[2]
AAPL = "lobster/AAPL-L10/2012-06-21"
TABLES = ["events", "reference_book", "book", "spreads", "order_flow_imbalance", "returns", "microstructure",
          "market_impact", "impact_regression", "fidelity_report", "features"]


def _checks(result) -> dict[str, bool]:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()}


def _manifest(fs, url: str) -> dict:
    key = fsspec.core.url_to_fs(url)[1]
    pointer = json.loads(fs.cat_file(f"{key}/warehouse/current/AAPL-L10/2012-06-21.json"))
    return json.loads(fs.cat_file(f"{key}/warehouse/runs/AAPL-L10/2012-06-21/{pointer['run_id']}/MANIFEST.json"))


@pytest.fixture(scope="module")
def runs(object_store, small_landing_zone_module, tmp_path_factory):
    """The partition materialized on the local root, and on the bucket from machine ``a``."""
    local = small_landing_zone_module
    url = object_store.bucket(f"root-{secrets.token_hex(4)}") + "/data"
    object_store.upload(local / "raw", f"{url}/raw")
    mp = pytest.MonkeyPatch()
    mp.setenv("OBRECON_WORK_DIR", str(tmp_path_factory.mktemp("machine-a")))
    try:
        results = {}
        for name, root in (("local", local), ("s3", url)):
            instance = dg.DagsterInstance.ephemeral()
            register(instance, [AAPL])
            results[name] = materialize_all(root, instance, AAPL)
    finally:
        mp.undo()
    return local, url, results


@pytest.fixture(scope="module")
def small_landing_zone_module(tmp_path_factory):
    from tests.conftest import LOBSTER_DAY

    root = tmp_path_factory.mktemp("local")
    day = root / "raw" / "lobster" / "2012-06-21"
    day.mkdir(parents=True)
    for kind in ("message", "orderbook"):
        name = f"AAPL_2012-06-21_34200000_57600000_{kind}_10.csv.gz"
        (day / name).write_bytes((LOBSTER_DAY / name).read_bytes())
    return root


def test_every_table_and_check_on_the_bucket_equals_the_local_roots(runs):
    local, url, results = runs
    assert results["local"].success and results["s3"].success
    assert _checks(results["s3"]) == _checks(results["local"]) and len(_checks(results["s3"])) == 8
    fs, key = fsspec.core.url_to_fs(url)
    manifest = _manifest(fs, url)
    assert set(manifest["tables"]) == {f"{t}.parquet" for t in TABLES} | {"report.json"}
    assert {e["run_id"] for e in manifest["tables"].values()} == {results["s3"].run_id}
    for table in TABLES:  # the stable copies hold what the local root's stable paths hold
        with fs.open(f"{key}/warehouse/{table}/AAPL-L10/2012-06-21.parquet", "rb") as fh:
            stored = pl.read_parquet(fh)
        assert stored.equals(pl.read_parquet(local / "warehouse" / table / "AAPL-L10" / "2012-06-21.parquet")), table
    report = json.loads(fs.cat_file(f"{key}/reports/{AAPL}/report.json"))
    assert report["files"] == [f"{url}/raw/lobster/2012-06-21/AAPL_2012-06-21_34200000_57600000_message_10.csv.gz"]
    assert report == json.loads((local / "reports" / AAPL / "report.json").read_text()) | {
        k: report[k] for k in report if k.endswith(("_s", "_per_s")) or k == "files"}
    assert report["events"] == 999
    book_md = results["s3"].asset_materializations_for_node("replay_partition")
    assert any(m.metadata["path"].value == f"{url}/warehouse/book/AAPL-L10/2012-06-21.parquet" for m in book_md)


def test_a_second_machine_builds_on_the_committed_set_through_the_bucket_alone(runs, tmp_path, monkeypatch):
    _, url, results = runs
    monkeypatch.setenv("OBRECON_WORK_DIR", str(tmp_path / "machine-b"))  # nothing of machine a's copy
    instance = dg.DagsterInstance.ephemeral()
    register(instance, [AAPL])
    again = materialize_all(url, instance, AAPL, selection=dg.AssetSelection.assets("spreads"))
    assert again.success
    fs = fsspec.core.url_to_fs(url)[0]
    manifest = _manifest(fs, url)
    owners = {f: e["run_id"] for f, e in manifest["tables"].items()}
    assert owners == {f: results["s3"].run_id for f in owners} | {"spreads.parquet": again.run_id}  # the rest carried over
    assert len(owners) == len(TABLES) + 1
    assert not (tmp_path / "machine-b" / "raw").exists()  # spreads read the book from the bucket, no raw file
    assert resources_for(url)["landing_zone"].work == str(tmp_path / "machine-b")


def test_the_shell_command_on_a_bucket(runs, tmp_path):
    """``OBRECON_DATA_DIR=s3://… python3 -m assets.materialize``: the README's run command, with the
    instance in the working copy; it prints the bucket's paths and commits there."""
    _, url, _ = runs
    env = {**os.environ, "OBRECON_DATA_DIR": url, "OBRECON_WORK_DIR": str(tmp_path / "machine-c")}
    env.pop("DAGSTER_HOME", None)
    shell = subprocess.run([sys.executable, "-m", "assets.materialize", "--source", "lobster", "--workers", "1"],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert f"book    {url}/warehouse/book/AAPL-L10/2012-06-21.parquet" in shell.stdout
    assert f"no DuckDB warehouse: {url} is an object store" in shell.stdout
    assert "1 of 1 partitions materialized; checks: 8 passed, 0 failed, 0 warnings, 8 not judged" in shell.stdout
    assert (tmp_path / "machine-c" / ".dagster" / "dagster.yaml").exists()
    fs = fsspec.core.url_to_fs(url)[0]
    run_id = _manifest(fs, url)["run_id"]
    assert f"run {run_id[:8]} ok" in shell.stdout
