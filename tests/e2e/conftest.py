"""One deployment for the end-to-end tests (session scope): PostgreSQL, Redis, two Celery workers,
``dagster-webserver`` and ``dagster-daemon`` on 127.0.0.1, a temporary ``DAGSTER_HOME`` and a
temporary landing zone with small real-data copies: the AAPL level-10 LOBSTER cut (999 messages)
landed as stream AAPL-L10 on 2012-06-25, 2012-06-26 and 2012-06-27 (that last copy damaged: one
add message and its orderbook row deleted, so ``reference_match`` fails) and as MSFT-L10 on
2012-06-25 and 2012-06-26."""

from __future__ import annotations

import gzip
import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.services import (BIN, REPO, Postgres, Processes, free_port, graphql, http_ok, start_postgres,
                                start_redis, wait_for)
from tests.conftest import RAW

LOBSTER = RAW / "lobster" / "2012-06-21"
CUT = "AAPL_2012-06-21_34200000_57600000_{kind}_10.csv.gz"
DAMAGED_DAY = "2012-06-27"
LANDED = {"AAPL": ["2012-06-25", "2012-06-26", DAMAGED_DAY], "MSFT": ["2012-06-25", "2012-06-26"]}


def first_add_after(lines: list[bytes], start: int) -> int:
    """The 0-based index of the first add message (LOBSTER type 1) at or after ``start``."""
    return next(i for i in range(start, len(lines)) if lines[i].split(b",")[1] == b"1")


def land(raw: Path) -> int:
    """Land the copies under ``raw``; the deleted message's 0-based index in the damaged copy."""
    victim = None
    for symbol, days in LANDED.items():
        for day in days:
            dest = raw / "lobster" / day
            dest.mkdir(parents=True, exist_ok=True)
            files = {kind: gzip.decompress((LOBSTER / CUT.format(kind=kind)).read_bytes()).split(b"\n")
                     for kind in ("message", "orderbook")}
            if symbol == "AAPL" and day == DAMAGED_DAY:
                victim = first_add_after(files["message"], 10)
                files = {k: v[:victim] + v[victim + 1:] for k, v in files.items()}
            for kind, lines in files.items():
                name = CUT.format(kind=kind).replace("AAPL", symbol).replace("2012-06-21", day)
                (dest / name).write_bytes(gzip.compress(b"\n".join(lines), mtime=0))
    return victim


@dataclass
class Deployment:
    url: str
    env: dict
    root: Path | str  # the data root: a directory, or an s3:// URL
    home: Path
    postgres: Postgres
    procs: Processes
    workers: dict  # name -> Popen
    victim: int
    sensor_runs: list | None = None

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        return graphql(self.url, query, variables)


LOCATION = {"repositoryLocationName": "obrecon_pipeline", "repositoryName": "__repository__"}
LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


@contextmanager
def running_deployment(tmp: Path, object_store=None):
    """Start everything in ``tmp`` (logs: ``tmp/<process>.log``); stop it all on exit. With
    ``object_store`` the data root is a bucket there and every process (each worker, the webserver
    with the daemon) works in a working copy of its own, ``tmp/work/<process>``: they share only
    the bucket."""
    procs = Processes(logs=tmp)
    postgres = start_postgres()
    try:
        broker = start_redis(procs, tmp)
        root, home = tmp / "data", tmp / "dagster_home"
        victim = land(root / "raw")
        if object_store is not None:
            root = object_store.bucket(f"deployment-{os.getpid()}") + "/data"
            object_store.upload(tmp / "data" / "raw", f"{root}/raw")
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DAGSTER_HOME": str(home), "OBRECON_DATA_DIR": str(root),
               "OBRECON_DAGSTER_PG_URL": postgres.url, "OBRECON_CELERY_BROKER": broker, "PYTHONUNBUFFERED": "1",
               "OBRECON_WORK_DIR": str(tmp / "work" / "control")}
        # the README's commands: write the instance and worker config, start the workers
        out = subprocess.run([str(BIN / "python"), "-m", "resources.deployment"], env=env, cwd=REPO,
                             capture_output=True, text=True, check=True, timeout=120).stdout
        assert "PostgreSQL" in out and "Celery workers" in out, out
        workers = {name: procs.start(name, [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                                            "-y", str(home / "celery.yaml"), "-n", name, "--", "--concurrency=1"],
                                     env={**env, "OBRECON_WORK_DIR": str(tmp / "work" / name)})
                   for name in ("worker1", "worker2")}
        port = free_port()
        procs.start("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                                  "-w", str(REPO / "workspace.yaml")], env=env)
        procs.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")], env=env)
        url = f"http://127.0.0.1:{port}"
        wait_for("dagster-webserver", lambda: http_ok(f"{url}/server_info"), 120)

        def loaded():
            (entry,) = graphql(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
            assert entry["locationOrLoadError"]["__typename"] != "PythonError", entry
            return entry["loadStatus"] == "LOADED" and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"

        wait_for("the code location", loaded, 180)
        for name in workers:
            procs.wait_for_line(name, "ready.", 120)
        yield Deployment(url, env, root, home, postgres, procs, workers, victim)
    finally:
        procs.stop()
        postgres.stop()


SENSOR_RUNS = """{ runsOrError(filter: {tags: [{key: "obrecon/automation", value: "landing_zone_sensor"}]}) {
  ... on Runs { results { runId status tags { key value } } } } }"""


def finished(runs: list[dict]) -> bool:
    return bool(runs) and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs)


@contextmanager
def after_the_sensor(tmp: Path, object_store=None):
    """The running deployment after the landing-zone sensor, switched on through GraphQL, has
    registered the landed stream-days and its runs have finished."""
    with running_deployment(tmp, object_store) as d:
        started = d.graphql("""mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }""",
                            {"s": {**LOCATION, "sensorName": "landing_zone_sensor"}})
        assert started["startSensor"]["__typename"] == "Sensor"
        n = sum(len(days) for days in LANDED.values())

        def sensor_runs():
            runs = d.graphql(SENSOR_RUNS)["runsOrError"]["results"]
            return runs if len(runs) == n and finished(runs) else None

        d.sensor_runs = wait_for("the sensor's runs", sensor_runs, 900, every_s=2)
        yield d


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    """The deployment on a local data root, after the sensor's runs."""
    with after_the_sensor(tmp_path_factory.mktemp("deployment")) as d:
        yield d


@pytest.fixture(scope="session")
def bucket_deployment(tmp_path_factory, object_store):
    """The deployment on a data root in a bucket (S3 API server on 127.0.0.1), after the sensor's runs."""
    with after_the_sensor(tmp_path_factory.mktemp("bucket_deployment"), object_store) as d:
        yield d
