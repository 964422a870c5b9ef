"""Alert sinks: where an alert about a failed integrity check goes, chosen by configuration.

The ``alert_sinks`` resource (:class:`AlertSinks`) holds every sink's settings; a sink is on when
its address is set. :func:`alert_sinks_from_env` reads them from the environment (what
:func:`resources.resources_for` uses), and a deployment may set any field in resource config instead.

=============================  ==================================================================
``OBRECON_UI_URL``             base URL of the Dagster UI; an alert links ``<url>/runs/<run id>``
                               (default ``http://localhost:3000``)
``OBRECON_ALERT_WEBHOOK_URL``  webhook: an HTTP POST of the alert as JSON
``OBRECON_ALERT_WEBHOOK_FORMAT`` ``json`` (the alert's fields, default) or ``slack`` (a Slack
                               incoming-webhook payload: ``text`` and ``blocks``)
``OBRECON_ALERT_SMTP_HOST``    e-mail over SMTP: server host (port ``OBRECON_ALERT_SMTP_PORT``,
                               default 25)
``OBRECON_ALERT_SMTP_FROM``    sender; ``OBRECON_ALERT_SMTP_TO``: recipients, comma-separated
``OBRECON_ALERT_SMTP_USER``    login (with ``OBRECON_ALERT_SMTP_PASSWORD``), after STARTTLS when
                               ``OBRECON_ALERT_SMTP_STARTTLS=1``
=============================  ==================================================================

An alert is a flat ``dict`` (built by :mod:`assets.alerts`): ``id``, ``kind`` (``check_failed`` or
``partition_blocked``), ``asset``, ``check``, ``partition``, ``stream``, ``trading_day``,
``severity``, ``value``, ``threshold``, ``first_bad_row``, ``blocked_assets``, ``run_id``,
``run_url``, ``evaluated_at``. A sink's :meth:`send` raises on any failure; the sensor
keeps the alert pending for that sink and retries it on its next tick.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from email.message import EmailMessage

import dagster as dg

DEFAULT_UI_URL = "http://localhost:3000"


def title(alert: dict) -> str:
    """One line: what failed where, and what it held back."""
    line = f"[obrecon] {alert['asset']}.{alert['check']} failed on {alert['partition']}"
    if alert.get("blocked_assets"):
        line += f": blocked {', '.join(alert['blocked_assets'])}"
    return line


def body(alert: dict) -> str:
    """The alert as plain text, one field a line, then the run link."""
    rows = [
        ("partition", f"{alert['partition']} (stream {alert['stream']}, trading day {alert['trading_day']})"),
        ("check", f"{alert['asset']}.{alert['check']} ({alert['severity']})"),
        ("value", f"{alert['value']} (threshold {alert['threshold']})"),
        ("first bad row", alert["first_bad_row"]),
        ("blocked", ", ".join(alert["blocked_assets"]) or "nothing"),
        ("evaluated at", alert["evaluated_at"]),
        ("run", alert["run_url"]),
    ]
    return "\n".join(f"{k}: {v}" for k, v in rows) + "\n"


def slack_payload(alert: dict) -> dict:
    """A Slack incoming-webhook message: ``text`` (the fallback) and one section block."""
    fields = (f"*partition* {alert['partition']}\n*value* {alert['value']} (threshold {alert['threshold']})\n"
              f"*first bad row* {alert['first_bad_row']}\n*blocked* {', '.join(alert['blocked_assets']) or 'nothing'}\n"
              f"<{alert['run_url']}|run {alert['run_id'][:8]}>")
    return {"text": title(alert), "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": title(alert)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fields}},
    ]}


class AlertSinks(dg.ConfigurableResource):
    """Alert destinations; each is used when its address is set (see the module docstring)."""

    ui_url: str = DEFAULT_UI_URL  #: base URL of the Dagster UI, for run links
    webhook_url: str | None = None  #: POST each alert here
    webhook_format: str = "json"  #: ``json`` or ``slack``
    smtp_host: str | None = None  #: send each alert by e-mail through this server
    smtp_port: int = 25
    smtp_from: str = "obrecon@localhost"
    smtp_to: list[str] = []
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    timeout_s: float = 10.0  #: per delivery attempt
    max_attempts: int = 100  #: an alert that failed this many attempts (one per tick) is dropped (logged)

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"

    def names(self) -> list[str]:
        """The configured sinks, in delivery order."""
        return [name for name, on in (("webhook", self.webhook_url), ("smtp", self.smtp_host)) if on]

    def send(self, sink: str, alert: dict) -> None:
        """Deliver ``alert`` through ``sink`` (raises on failure)."""
        if sink == "webhook":
            self._post(alert)
        elif sink == "smtp":
            self._mail(alert)
        else:
            raise ValueError(f"unknown alert sink {sink!r}")

    def _post(self, alert: dict) -> None:
        if self.webhook_format not in ("json", "slack"):
            raise ValueError(f"webhook_format {self.webhook_format!r}: expected json or slack")
        payload = slack_payload(alert) if self.webhook_format == "slack" else alert
        request = urllib.request.Request(self.webhook_url, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # raises on 4xx/5xx
            response.read()

    def _mail(self, alert: dict) -> None:
        if not self.smtp_to:
            raise ValueError("smtp_to: no recipient configured")
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = title(alert), self.smtp_from, ", ".join(self.smtp_to)
        message.set_content(body(alert) + "\n" + json.dumps(alert, indent=2) + "\n")
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_s) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(message)


def alert_sinks_from_env(env=os.environ) -> AlertSinks:
    """The sinks configured by the ``OBRECON_UI_URL`` / ``OBRECON_ALERT_*`` variables."""
    def get(name: str, default: str | None = None) -> str | None:
        return env.get(name) or default

    return AlertSinks(
        ui_url=get("OBRECON_UI_URL", DEFAULT_UI_URL),
        webhook_url=get("OBRECON_ALERT_WEBHOOK_URL"),
        webhook_format=get("OBRECON_ALERT_WEBHOOK_FORMAT", "json"),
        smtp_host=get("OBRECON_ALERT_SMTP_HOST"),
        smtp_port=int(get("OBRECON_ALERT_SMTP_PORT", "25")),
        smtp_from=get("OBRECON_ALERT_SMTP_FROM", "obrecon@localhost"),
        smtp_to=[a.strip() for a in get("OBRECON_ALERT_SMTP_TO", "").split(",") if a.strip()],
        smtp_user=get("OBRECON_ALERT_SMTP_USER"),
        smtp_password=get("OBRECON_ALERT_SMTP_PASSWORD"),
        smtp_starttls=get("OBRECON_ALERT_SMTP_STARTTLS", "0") in ("1", "true", "yes"),
    )
