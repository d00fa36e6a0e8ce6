"""Alerts for the nightly run, through Airflow's notifier mechanism, configured by environment.

``PipelineNotifier`` is a ``BaseNotifier``: the DAGs pass it as ``on_failure_callback``
and ``on_retry_callback`` (on every task: the alert names the task and its error) and
as the DAG's ``on_success_callback`` / ``on_failure_callback`` (the run as a whole).

Where alerts go is read from the environment when an alert is sent, never at parse
time and never from the repository:

| variable | meaning |
| --- | --- |
| ``SAFEGUARDING_ALERT_WEBHOOK_URL`` | POST each alert as JSON to this URL (Teams/Slack/Mattermost bridge, an incident tool) |
| ``SAFEGUARDING_ALERT_EMAIL_TO`` | comma-separated addresses: send each alert by email |
| ``SAFEGUARDING_SMTP_HOST`` / ``_PORT`` | the mail relay (default localhost:25) |
| ``SAFEGUARDING_SMTP_USER`` / ``_PASSWORD`` | SMTP login, if the relay needs one |
| ``SAFEGUARDING_SMTP_STARTTLS`` | ``true`` to upgrade the connection with STARTTLS |
| ``SAFEGUARDING_ALERT_EMAIL_FROM`` | the sender (default safeguarding-warehouse@localhost) |

Neither set: alerts are only logged. A failing channel is logged and does not
hide the other channel or the task's own error.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.request
from email.message import EmailMessage

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

WEBHOOK_SETTING = "SAFEGUARDING_ALERT_WEBHOOK_URL"
EMAIL_SETTING = "SAFEGUARDING_ALERT_EMAIL_TO"


def alert_from_context(event: str, context, scope: str = "task") -> dict:
    """The facts an on-call analyst needs, from an Airflow callback context.

    scope "task": a task's callback (the task and its error). scope "run": the DAG
    run's callback; Airflow passes the context of the run's last relevant task, so
    the alert still names the task the run failed at, and the reason.
    """
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    exception = context.get("exception")
    alert = {
        "event": event,  # failed | retrying | succeeded
        "scope": scope,  # task | run
        "dag_id": getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None) or context.get("run_id"),
        "logical_date": str(context.get("logical_date") or getattr(dag_run, "logical_date", "") or ""),
        "task_id": getattr(ti, "task_id", None) if ti is not None else None,
        "try_number": getattr(ti, "try_number", None) if ti is not None and scope == "task" else None,
        "error": str(exception) if exception else None,
        "reason": context.get("reason") if scope == "run" else None,
    }
    conf = getattr(dag_run, "conf", None) or {}
    if conf.get("extract_date"):
        alert["extract_date"] = conf["extract_date"]
    return alert


def alert_text(alert: dict) -> tuple[str, str]:
    """A subject line and a plain-text body for people."""
    if alert.get("scope") == "run":
        at = f" at task {alert['task_id']}" if alert.get("task_id") and alert["event"] == "failed" else ""
        subject = f"[safeguarding] {alert['dag_id']}: run {alert['event']}{at}"
    else:
        subject = f"[safeguarding] {alert['dag_id']}: task {alert['task_id']} {alert['event']}"
    lines = [f"{k}: {v}" for k, v in alert.items() if v not in (None, "")]
    return subject, "\n".join(lines) + "\n"


def send_webhook(url: str, alert: dict, timeout: float = 10.0) -> None:
    subject, text = alert_text(alert)
    body = json.dumps({"text": subject + "\n" + text, **alert}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")


def send_email(recipients: list[str], alert: dict, environ: dict[str, str]) -> None:
    subject, text = alert_text(alert)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = environ.get("SAFEGUARDING_ALERT_EMAIL_FROM", "safeguarding-warehouse@localhost")
    message["To"] = ", ".join(recipients)
    message.set_content(text)
    host = environ.get("SAFEGUARDING_SMTP_HOST", "localhost")
    port = int(environ.get("SAFEGUARDING_SMTP_PORT", "25"))
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        if environ.get("SAFEGUARDING_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"):
            smtp.starttls()
        if environ.get("SAFEGUARDING_SMTP_USER"):
            smtp.login(environ["SAFEGUARDING_SMTP_USER"], environ.get("SAFEGUARDING_SMTP_PASSWORD", ""))
        smtp.send_message(message)


def send_alert(alert: dict, environ: dict[str, str] | None = None) -> list[str]:
    """Send to every configured channel; returns the channels that accepted the alert."""
    env = os.environ if environ is None else environ
    subject, _ = alert_text(alert)
    log.warning("ALERT %s | error: %s", subject, alert.get("error"))
    sent = []
    url = env.get(WEBHOOK_SETTING, "").strip()
    if url:
        try:
            send_webhook(url, alert)
            sent.append("webhook")
        except Exception as exc:  # an alert channel being down must not mask the task's own error
            log.error("could not send the alert to the webhook (%s): %s", WEBHOOK_SETTING, exc)
    recipients = [a.strip() for a in env.get(EMAIL_SETTING, "").split(",") if a.strip()]
    if recipients:
        try:
            send_email(recipients, alert, env)
            sent.append("email")
        except Exception as exc:
            log.error("could not send the alert by email to %s: %s", ", ".join(recipients), exc)
    return sent


class PipelineNotifier(BaseNotifier):
    """Airflow notifier: one instance per event ("failed", "retrying", "succeeded") and scope ("task", "run")."""

    def __init__(self, event: str, scope: str = "task"):
        super().__init__()
        self.event = event
        self.scope = scope

    def render_template_fields(self, context, jinja_env=None) -> None:
        # Nothing to template; and DAG-level callbacks can hand over a serialized DAG
        # that has no Jinja environment (seen with `airflow dags test` in Airflow 3.3).
        return None

    def notify(self, context) -> None:
        send_alert(alert_from_context(self.event, context, self.scope))


# For tasks (default_args in orchestration/shared.py) and for DAG runs (the @dag decorator).
on_task_failure = PipelineNotifier("failed", "task")
on_task_retry = PipelineNotifier("retrying", "task")
on_run_failure = PipelineNotifier("failed", "run")
on_run_success = PipelineNotifier("succeeded", "run")
