"""Airflow-side glue for the school-improvement DAGs: run config from Params, error mapping, alerts.

Kept out of dags/ so the DAG file only wires tasks; kept out of include/ because it needs Airflow.
"""

from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import yaml

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
LAS_FILE = REPO / "include" / "config" / "las.yaml"


def _expand(value: str, default: str) -> str:
    out = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), value or "")
    return out or default


def configured_las() -> list[dict]:
    with open(LAS_FILE, encoding="utf-8") as fh:
        las = (yaml.safe_load(fh) or {}).get("las") or []
    defaults = {"landing": str(REPO / "landing"), "shared_drive": str(REPO / "shared-drive")}
    return [{**la, "la_code": str(la["la_code"]),
             "landing": _expand(la.get("landing", ""), defaults["landing"]),
             "shared_drive": _expand(la.get("shared_drive", ""), defaults["shared_drive"])} for la in las]


def work_dir() -> str:
    return os.environ.get("SI_WORK_DIR") or str(Path(os.environ.get("AIRFLOW_HOME", REPO / ".airflow")) / "si-work")


def history_url() -> str:
    return os.environ.get("SI_HISTORY_URL") or f"sqlite:///{Path(work_dir()) / 'history.sqlite'}"


def run_config(params: dict, context: dict) -> dict:
    """The run's settings: the term comes from the Params, else from the data interval (logical_date may be None)."""
    from school_improvement.pipeline import RunConfig
    from school_improvement.terms import Term, term_for_date

    term = (params.get("term") or "").strip()
    if not term:
        when = context.get("data_interval_start") or context.get("logical_date")
        if when is None:
            dr = context.get("dag_run")
            when = getattr(dr, "run_after", None)
        term = str(term_for_date(when.date()))
    Term.parse(term)  # fail fast on a malformed term
    dr = context.get("dag_run")
    run_id = getattr(dr, "run_id", None) or context.get("run_id") or "manual"
    cfg = RunConfig(la_code=str(params["la_code"]), term=term, landing=params["landing"], work_dir=work_dir(),
                    history_url=history_url(), run_id=run_id, la_name=params.get("la_name", ""),
                    as_of=params.get("as_of") or "")
    return cfg.to_dict()


def run_stage(stage: str, cfg: dict, **kwargs):
    """Run one pipeline stage. Data errors fail at once without retries; anything else may be retried."""
    from airflow.sdk.exceptions import AirflowFailException
    from school_improvement import pipeline
    from school_improvement.errors import FeedError, RulesError, ValidationFailed

    config = pipeline.RunConfig(**cfg)
    try:
        return getattr(pipeline, stage)(config, **kwargs)
    except (FeedError, ValidationFailed, RulesError, FileNotFoundError, ValueError) as exc:
        # Fixing these needs a person: retrying would only repeat the same message.
        raise AirflowFailException(f"{stage} failed for LA {config.la_code} term {config.term}:\n{exc}") from exc


def shared_drive_path(url: str, conn_id: str = ""):
    """The shared drive as an ObjectStoragePath: a local folder, or smb://host/share/... through a Connection."""
    from airflow.sdk import ObjectStoragePath

    if "://" not in url:
        Path(url).mkdir(parents=True, exist_ok=True)
        url = "file://" + str(Path(url).resolve())
    return ObjectStoragePath(url, conn_id=conn_id or None)


# ------------------------------------------------------------------ alerts
def _message(context: dict, headline: str) -> tuple[str, str]:
    ti = context.get("task_instance") or context.get("ti")
    params = context.get("params") or {}
    exc = context.get("exception")
    first = "\n".join(str(exc).splitlines()[:8]) if exc else ""
    log_url = getattr(ti, "log_url", "") if ti else ""
    subject = f"[school improvement] {headline}: {getattr(ti, 'task_id', '?')} LA {params.get('la_code')} term {params.get('term') or '(from run date)'}"
    body = f"{subject}\n\nDAG: {getattr(ti, 'dag_id', '?')}\nRun: {getattr(ti, 'run_id', '?')}\n"
    if first:
        body += f"\nError (first lines):\n{first}\n"
    if log_url:
        body += f"\nLog: {log_url}\n"
    return subject, body


def send_alert(subject: str, body: str) -> list[str]:
    """Email through the `si_smtp` Connection, and a Teams/Slack webhook through `si_webhook`, when configured."""
    sent = []
    try:
        from airflow.sdk import Connection
        smtp = Connection.get("si_smtp")
    except Exception:
        smtp = None
    if smtp is not None:
        extra = smtp.extra_dejson or {}
        msg = EmailMessage()
        msg["Subject"], msg["From"] = subject, extra.get("from_email", smtp.login or "airflow@localhost")
        msg["To"] = extra.get("to", "")
        msg.set_content(body)
        with smtplib.SMTP(smtp.host, smtp.port or 25, timeout=20) as s:
            if extra.get("starttls"):
                s.starttls()
            if smtp.login:
                s.login(smtp.login, smtp.password or "")
            s.send_message(msg)
        sent.append("email")
    try:
        from airflow.sdk import Connection
        hook = Connection.get("si_webhook")
    except Exception:
        hook = None
    if hook is not None:
        url = hook.host if "://" in (hook.host or "") else (hook.extra_dejson or {}).get("url", "")
        req = urllib.request.Request(url, data=json.dumps({"text": f"{subject}\n{body}"}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=20).close()
        sent.append("webhook")
    if not sent:
        log.warning("No si_smtp or si_webhook Connection configured; alert only logged:\n%s", body)
    return sent


def on_task_failure(context: dict) -> None:
    """Task-level callback (DAG-level ones run in the dag-processor and can be lost)."""
    try:
        send_alert(*_message(context, "FAILED"))
    except Exception:  # an alert must never hide the task's own error
        log.exception("could not send the failure alert")
