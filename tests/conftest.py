"""Shared fixtures: a committed copy of the shipped landing zone (``tests/fixtures/raw``) is the test data, so a user adding days to ``data/raw`` never changes a test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "tests" / "fixtures" / "raw"
LOBSTER_DAY = RAW / "lobster" / "2012-06-21"
TARDIS_INCREMENTAL = REPO / "tests" / "fixtures" / "tardis" / "tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"


@pytest.fixture
def lobster_day() -> Path:
    return LOBSTER_DAY


@pytest.fixture
def small_landing_zone(tmp_path: Path) -> Path:
    """A data root holding only the small AAPL level-10 LOBSTER cut (999 messages)."""
    day = tmp_path / "raw" / "lobster" / "2012-06-21"
    day.mkdir(parents=True)
    for name in (
        "AAPL_2012-06-21_34200000_57600000_message_10.csv.gz",
        "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv.gz",
    ):
        shutil.copy(LOBSTER_DAY / name, day / name)
    return tmp_path


def write_tardis_reconnect(directory: Path) -> Path:
    """Into ``directory``: the Tardis incremental sample with constructed rows appended (not market data): a live update
    at t1 (two rows), then a new snapshot block at t2 of one bid and one ask, as after a reconnect."""
    path = directory / TARDIS_INCREMENTAL.name
    path.write_text(TARDIS_INCREMENTAL.read_text() + "\n".join([
        "deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,ask,6421.5,0",
        "deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,bid,6420,500",
        "deribit,BTC-PERPETUAL,1585699200900000,1585699201000000,true,bid,6419.5,10",
        "deribit,BTC-PERPETUAL,1585699200900000,1585699201000000,true,ask,6425,20",
    ]) + "\n")
    return path


@pytest.fixture
def tardis_reconnect(tmp_path: Path) -> Path:
    """:func:`write_tardis_reconnect` into the test's ``tmp_path``."""
    return write_tardis_reconnect(tmp_path)


class ObjectStore:
    """A real S3 API server on 127.0.0.1 (moto's ``moto.server``, started by the tests), reached the
    way a deployment reaches S3: the standard ``AWS_*`` variables name the endpoint and the keys."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def bucket(self, name: str) -> str:
        """A new, empty bucket; its ``s3://`` URL."""
        import s3fs

        s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
        return f"s3://{name}"

    def upload(self, local: Path, url: str) -> None:
        """``local`` (a directory) copied under ``url``."""
        import fsspec

        fs, key = fsspec.core.url_to_fs(url)
        for path in sorted(local.rglob("*")):
            if path.is_file():
                fs.put_file(str(path), f"{key}/{path.relative_to(local).as_posix()}")


@pytest.fixture(scope="session")
def object_store(tmp_path_factory):
    """The S3 server for the whole session, stopped at its end."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.e2e.services import free_port, wait_for

    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "obrecon",
           "AWS_SECRET_ACCESS_KEY": "obrecon", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(f"the S3 server on port {port} (log {log})",
                 lambda: server.poll() is None and urllib.request.urlopen(env["AWS_ENDPOINT_URL"], timeout=2).status, 30)
        os.environ.update(env)
        yield ObjectStore(env["AWS_ENDPOINT_URL"])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.terminate()
        server.wait(timeout=10)
