"""The README's shell path on PostgreSQL: ``python3 -m assets.materialize`` with
``OBRECON_DAGSTER_PG_URL`` set creates an instance whose runs are rows of that database; a
``dagster dev`` started on that instance shows them, and a ``dagster job backfill`` queued from the
shell is run by its daemon (steps in-process: no broker set here)."""

from __future__ import annotations

import shutil
import subprocess

from tests.e2e.conftest import LOBSTER, CUT
from tests.e2e.services import BIN, REPO, Processes, free_port, graphql, http_ok, wait_for

KEY = "lobster/AAPL-L10/2012-06-21"
RUNS = """{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"""


def test_shell_run_and_dagster_dev_share_a_postgres_instance(deployment, tmp_path):
    pg = deployment.postgres
    pg.execute("create database shell")
    url = pg.url.rsplit("/", 1)[0] + "/shell"
    root, home = tmp_path / "data", tmp_path / "home"
    day = root / "raw" / "lobster" / "2012-06-21"
    day.mkdir(parents=True)
    for kind in ("message", "orderbook"):
        shutil.copy(LOBSTER / CUT.format(kind=kind), day)
    env = {k: v for k, v in deployment.env.items() if k != "OBRECON_CELERY_BROKER"}
    env.update(DAGSTER_HOME=str(home), OBRECON_DATA_DIR=str(root), OBRECON_DAGSTER_PG_URL=url)

    shell = subprocess.run([str(BIN / "python"), "-m", "assets.materialize", "--partition", KEY, "--all-checks"],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert shell.returncode == 0, shell.stderr
    out = shell.stdout
    assert "runs recorded in PostgreSQL" in out
    assert f"[1/1 partitions, 100%] {KEY}: run " in out
    assert "checks: 8 passed, 0 failed, 0 warnings, 8 not judged" in out
    assert "PASS book.reference_match: value=1.0, match_rate=1.0, threshold=1.0" in out
    assert f"{root}/warehouse/book/AAPL-L10/2012-06-21.parquet" in out
    assert (root / "reports" / KEY / "report.json").is_file()
    ((shell_run, status),) = pg.query_db(url, "select run_id, status from runs")
    assert status == "SUCCESS"

    procs = Processes(logs=tmp_path)
    try:
        port = free_port()
        procs.start("dagster-dev", [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)], env=env)
        web = f"http://127.0.0.1:{port}"
        wait_for("dagster dev", lambda: http_ok(f"{web}/server_info"), 180)
        wait_for("the shell's run in dagster dev",
                 lambda: shell_run in {r["runId"] for r in graphql(web, RUNS)["runsOrError"]["results"]}, 120)

        queued = subprocess.run([str(BIN / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", "reconstruct",
                                 "--partitions", "AAPL-L10|2012-06-21", "--noprompt"],
                                env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert queued.returncode == 0, queued.stderr

        def backfill_run():
            runs = [r for r in graphql(web, RUNS)["runsOrError"]["results"]
                    if any(t["key"] == "dagster/backfill" for t in r["tags"])]
            return runs if runs and runs[0]["status"] in ("SUCCESS", "FAILURE") else None

        (run,) = wait_for("the shell backfill's run", backfill_run, 600, every_s=2)
        assert run["status"] == "SUCCESS"
        assert {r for (r,) in pg.query_db(url, "select run_id from runs")} == {shell_run, run["runId"]}
    finally:
        procs.stop()
