"""The alert sensor against a real webhook (``http.server``) and a real SMTP server (``aiosmtpd``) on
127.0.0.1: the damaged AAPL-L10 day run twice (two failed ``reference_match`` evaluations) and the
good day once (every check passes) on one instance. One alert per failed evaluation reaches each
sink with the partition, the check, value vs threshold, the first bad row, what it blocked and the
run link; none for the passing evaluations; none twice after a restart (a new sensor context
given the stored cursor); a sink that is down is retried on the next tick, the other sink is not
sent the alert again."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading
from contextlib import contextmanager

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from assets.alerts import alert_sensor
from assets.partitions import register
from resources.alerts import AlertSinks
from tests.assets.conftest import DAMAGED_DAY, GOOD_DAY, land_good_and_damaged, materialize_all
from tests.assets.test_breaker import DOWNSTREAM

UI = "http://dagster.example:3000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def webhook(port: int = 0):
    """An HTTP server on 127.0.0.1 recording the JSON body of every POST; yields (url, bodies)."""
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_server():
    """An SMTP server on 127.0.0.1 (aiosmtpd) keeping every message; yields (port, messages)."""
    messages: list[email.message.Message] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, messages
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """The instance after damaged, good, damaged runs; the failed ERROR evaluations of those runs."""
    root = tmp_path_factory.mktemp("alerts")
    victim = land_good_and_damaged(root)
    with dg.instance_for_test() as instance:
        register(instance, [GOOD_DAY, DAMAGED_DAY])
        runs = [materialize_all(root, instance, key) for key in (DAMAGED_DAY, GOOD_DAY, DAMAGED_DAY)]
        failed = [(r.run_id, e) for r in runs for e in r.get_asset_check_evaluations()
                  if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
        yield instance, runs, failed, victim


def _tick(instance, sinks: AlertSinks, cursor: str | None = None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alert_sinks": sinks}) as context:
        return alert_sensor(context)


def test_one_alert_per_failed_error_evaluation_to_each_sink_and_none_twice(evaluated):
    instance, runs, failed, victim = evaluated
    damaged_runs = [runs[0].run_id, runs[2].run_id]
    assert [(run_id, e.check_name) for run_id, e in failed] == [(r, "reference_match") for r in damaged_runs]
    assert all(e.passed for e in runs[1].get_asset_check_evaluations())
    with webhook() as (url, posts), smtp_server() as (port, mails):
        sinks = AlertSinks(ui_url=UI, webhook_url=url, smtp_host="127.0.0.1", smtp_port=port,
                           smtp_to=["desk@example.com"])
        first = _tick(instance, sinks)
        assert [p["run_id"] for p in posts] == damaged_runs
        for post, (run_id, evaluation) in zip(posts, failed):
            md = {k: v.value for k, v in evaluation.metadata.items()}
            assert post["kind"] == "partition_blocked" and post["check"] == "reference_match" and post["asset"] == "book"
            assert (post["partition"], post["stream"], post["trading_day"]) == ("AAPL-L10|2012-06-26", "AAPL-L10", "2012-06-26")
            assert post["severity"] == "ERROR"
            assert post["value"] == md["match_rate"] < post["threshold"] == 1.0
            assert post["first_bad_row"] == md["first_bad_row"]
            assert post["first_bad_row"].startswith(f"book row {md['first_mismatch_row']} (")
            assert md["first_mismatch_row"] >= victim - 1
            assert post["blocked_assets"] == sorted(DOWNSTREAM)
            assert post["run_url"] == f"{UI}/runs/{run_id}"
        assert len({p["id"] for p in posts}) == 2
        assert [m["To"] for m in mails] == ["desk@example.com"] * 2
        assert mails[0]["Subject"] == ("[obrecon] book.reference_match failed on AAPL-L10|2012-06-26: blocked "
                                       + ", ".join(sorted(DOWNSTREAM)))
        text = mails[0].get_content()
        assert f"run: {UI}/runs/{damaged_runs[0]}" in text and f"first bad row: {posts[0]['first_bad_row']}" in text
        assert f"value: {posts[0]['value']} (threshold 1.0)" in text
        n = sum(len(r.get_asset_check_evaluations()) for r in runs)  # every evaluation was read once
        assert first.skip_reason.skip_message == f"{n} evaluation(s) read, 2 new alert(s); nothing pending"

        # a restart: a new sensor context from the stored cursor sends nothing again
        again = _tick(instance, sinks, first.cursor)
        assert (len(posts), len(mails)) == (2, 2)
        assert again.skip_reason.skip_message.startswith("0 evaluation(s) read, 0 new alert(s)")
        # so does a sensor that read nothing new but is handed an old cursor twice
        assert _tick(instance, sinks, first.cursor).cursor == again.cursor


def test_a_sink_that_is_down_is_retried_on_the_next_tick(evaluated, capfd):
    instance, _, failed, _ = evaluated
    port = _free_port()  # nothing listens here yet
    with smtp_server() as (smtp_port, mails):
        sinks = AlertSinks(ui_url=UI, webhook_url=f"http://127.0.0.1:{port}/hook", smtp_host="127.0.0.1",
                           smtp_port=smtp_port, smtp_to=["desk@example.com"])
        down = _tick(instance, sinks)  # the webhook is down: logged, kept, the sensor carries on
        assert len(mails) == 2
        assert "pending: {'webhook': 2}" in down.skip_reason.skip_message
        log = capfd.readouterr().err  # the sensor's log (Dagster writes it to stderr)
        assert log.count("via webhook: attempt 1 failed, will retry: URLError(ConnectionRefusedError(") == 1
        assert log.count("via smtp: sent") == 2
        with webhook(port) as (_, posts):
            up = _tick(instance, sinks, down.cursor)
            assert [p["run_id"] for p in posts] == [run_id for run_id, _ in failed]
            assert len(mails) == 2  # e-mail was delivered on the first tick, not again
            assert "nothing pending" in up.skip_reason.skip_message
            _tick(instance, sinks, up.cursor)
            assert (len(posts), len(mails)) == (2, 2)


def test_an_alert_a_sink_never_takes_is_dropped_after_max_attempts(evaluated, capfd):
    instance, _, _, _ = evaluated
    sinks = AlertSinks(webhook_url=f"http://127.0.0.1:{_free_port()}/hook", max_attempts=2)
    first = _tick(instance, sinks)
    assert json.loads(first.cursor)["pending"]["webhook"][0]["attempts"] == 1
    second = _tick(instance, sinks, first.cursor)  # the first alert's 2nd attempt: dropped; the next one waits
    assert [item["attempts"] for item in json.loads(second.cursor)["pending"]["webhook"]] == [1]
    assert "via webhook: dropped after 2 attempts: URLError(ConnectionRefusedError(" in capfd.readouterr().err


def test_slack_payload(evaluated):
    instance, runs, _, _ = evaluated
    with webhook() as (url, posts):
        _tick(instance, AlertSinks(ui_url=UI, webhook_url=url, webhook_format="slack"))
    assert len(posts) == 2 and set(posts[0]) == {"text", "blocks"}
    assert posts[0]["text"].startswith("[obrecon] book.reference_match failed on AAPL-L10|2012-06-26: blocked ")
    section = posts[0]["blocks"][1]["text"]["text"]
    assert f"<{UI}/runs/{runs[0].run_id}|run {runs[0].run_id[:8]}>" in section and "*first bad row* book row " in section


def test_no_sink_configured_sends_nothing_and_says_so(evaluated, capfd):
    instance, _, _, _ = evaluated
    result = _tick(instance, AlertSinks())
    assert "2 alert(s) and no sink configured" in capfd.readouterr().err
    assert json.loads(result.cursor)["pending"] == {}
