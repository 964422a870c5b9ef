"""Real services for the end-to-end tests, each on 127.0.0.1 with a free port and a temporary
directory, started and stopped by the tests: PostgreSQL (Debian ``postgresql``), Redis (Debian
``redis-server``), Celery workers, ``dagster-webserver`` and ``dagster-daemon``.

A missing binary is a test failure naming the README's test command, never a skip. Every process
is started in its own session and stopped through its own process group (SIGTERM, then SIGKILL
after a deadline). Waits poll with a deadline; no fixed sleeps.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INSTALL_HINT = "install what the README's test command installs (apt-get install -y postgresql redis-server chromium)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe, timeout_s: float, every_s: float = 0.25):
    """Poll ``probe()`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # the service is not up yet
            last_error = exc
        time.sleep(every_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what} (last error: {last_error!r})")


def executable(name: str, pattern: str | None = None) -> str:
    found = shutil.which(name) or (next(iter(sorted(glob.glob(pattern))), None) if pattern else None)
    if not found:
        pytest.fail(f"{name} not found: {INSTALL_HINT}")
    return found


@dataclass
class Processes:
    """Processes started by a test, stopped in reverse order."""

    logs: Path
    started: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict | None = None, cwd: Path = REPO) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
        self.started.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def wait_for_line(self, name: str, marker: str, timeout_s: float) -> None:
        """Wait until process ``name`` writes ``marker`` to its log; fail at once if it exits first,
        and at the deadline, showing the end of its log either way."""
        proc = dict(self.started)[name]

        def written():
            if marker in self.log(name):
                return True
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with status {proc.returncode} before {marker!r}:\n{self.tail(name)}")
            return False

        try:
            wait_for(name, written, timeout_s)
        except pytest.fail.Exception as exc:
            if "timed out" not in str(exc):
                raise
            pytest.fail(f"{exc}\nend of {name}.log:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        return "\n".join(self.log(name).splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> None:
        for _, proc in reversed(self.started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for _, proc in reversed(self.started):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Postgres:
    url: str
    data_dir: Path
    pg_ctl: str

    def query(self, sql: str) -> list[tuple]:
        return self.query_db(self.url, sql)

    @staticmethod
    def query_db(url: str, sql: str) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            conn.close()

    def execute(self, sql: str) -> None:
        """A statement outside a transaction (``create database``)."""
        import psycopg2

        conn = psycopg2.connect(self.url)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def stop(self) -> None:
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]),
                       check=False, capture_output=True, timeout=60)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start_postgres() -> Postgres:
    """A new cluster in a directory of its own under the system temp dir (pytest's are private to
    root, and the server runs as ``postgres``); :meth:`Postgres.stop` removes it."""
    initdb = executable("initdb", "/usr/lib/postgresql/*/bin/initdb")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    data = Path(tempfile.mkdtemp(prefix="obrecon-e2e-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    subprocess.run(_as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
                                 "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True, timeout=90)
    pg = Postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", data, pg_ctl)
    pg.query("select 1")
    return pg


def start_redis(procs: Processes, tmp: Path) -> str:
    port = free_port()
    procs.start("redis", [executable("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", str(tmp)])

    def ping():
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_for("redis-server", ping, 30)
    return f"redis://127.0.0.1:{port}/0"


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (a Celery worker's main process and its pool)."""
    parent_of = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            parent_of[int(Path(stat).parent.name)] = int(Path(stat).read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parent_of.items() if parent in frontier} - found
        found |= frontier
    return found


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200
