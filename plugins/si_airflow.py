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
    import pendulum
    from school_improvement.pipeline import RunConfig
    from school_improvement.terms import Term, term_for_date

    term = (params.get("term") or "").strip()
    if not term:
        when = context.get("data_interval_start") or context.get("logical_date")
        if when is None:
            dr = context.get("dag_run")
            when = getattr(dr, "run_after", None)
        # Data intervals are UTC: 1 September 00:00 in London is still 31 August in UTC.
        term = str(term_for_date(pendulum.instance(when).in_timezone("Europe/London").date()))
    Term.parse(term)  # fail fast on a malformed term
    dr = context.get("dag_run")
    run_id = getattr(dr, "run_id", None) or context.get("run_id") or "manual"
    la = next((x for x in configured_las() if x["la_code"] == str(params["la_code"])), {})
    cfg = RunConfig(la_code=str(params["la_code"]), term=term, landing=params["landing"], work_dir=work_dir(),
                    history_url=history_url(), run_id=run_id, la_name=la.get("la_name", ""),
                    as_of=params.get("as_of") or "")
    return cfg.to_dict()


def run_stage(stage: str, cfg: dict, **kwargs):
    """Run one pipeline stage. Data errors fail at once without retries; anything else may be retried.

    Publishing's only data error is a conflict with the history (another run of the term overlapped); whatever
    else stops it (an unreachable or unmounted drive, a lock held by another run) is worth a retry.
    """
    from airflow.sdk.exceptions import AirflowFailException
    from school_improvement import pipeline
    from school_improvement.errors import FeedError, RulesError, ValidationFailed
    from school_improvement.publish import PublishConflict

    config = pipeline.RunConfig(**cfg)
    data_errors = (FeedError, ValidationFailed, RulesError, FileNotFoundError, ValueError) if stage != "publish" \
        else (PublishConflict,)
    try:
        return getattr(pipeline, stage)(config, **kwargs)
    except data_errors as exc:
        # Fixing these needs a person: retrying would only repeat the same message.
        raise AirflowFailException(f"{stage} failed for LA {config.la_code} term {config.term}:\n{exc}") from exc


def _attach_smb(url: str, conn_id: str) -> None:
    """Attach fsspec's SMBFileSystem for `conn_id`: Airflow 3.3 registers no filesystem for smb://.

    The Connection (any conn_type, e.g. "samba") gives host (else the URL's), port (else 445), login and
    password; extra may set "encrypt" (bool) and "timeout" (seconds). ObjectStoragePath(url, conn_id=conn_id)
    then finds this filesystem through airflow.sdk.io.attach's store for ("smb", conn_id).
    """
    from urllib.parse import urlsplit

    from airflow.sdk import Connection
    from airflow.sdk.io import attach
    from fsspec.implementations.smb import SMBFileSystem

    conn = Connection.get(conn_id)
    extra = conn.extra_dejson or {}
    fs = SMBFileSystem(host=conn.host or urlsplit(url).hostname, port=conn.port or None,
                       username=conn.login or None, password=conn.password or None,
                       encrypt=extra.get("encrypt"), timeout=int(extra.get("timeout", 60)))
    # attach() caches one store per (protocol, conn_id); set its fs each time so a changed Connection applies
    # (fsspec reuses the connected instance while the settings are the same).
    attach(protocol="smb", conn_id=conn_id).fs = fs


def shared_drive_path(url: str, conn_id: str = ""):
    """The shared drive as an ObjectStoragePath: a local folder, or smb://host/share/... through a Connection."""
    from airflow.sdk import ObjectStoragePath

    if "://" not in url:
        # Never create the drive's parents: an unmounted share must fail (and retry), not fill the local disk.
        Path(url).mkdir(exist_ok=True)
        url = "file://" + str(Path(url).resolve())
    elif url.lower().startswith("smb://"):
        if not conn_id:
            raise ValueError(f"{url}: an smb:// shared drive needs shared_drive_conn_id (an Airflow Connection)")
        _attach_smb(url, conn_id)
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


# ------------------------------------------------------------------ success summary
LEVELS = ("high", "medium", "low")


def _summary_message(context: dict, summary: dict) -> tuple[str, str]:
    """Counts per level, letters flagged and where the reports are, from what the DAG's tasks returned.

    `summary` is the publish task's result: {"cfg": run config, "counts": {"rule_set": ..., "high": n, ...},
    "letters": {"letters": {letter: n}, "academies_of_concern": n, "member_alerts": n},
    "published": {"status", "edition", "edition_path", ...}}. Missing parts are left out of the message.
    """
    ti = context.get("task_instance") or context.get("ti")
    params = context.get("params") or {}
    cfg = summary.get("cfg") or {}
    la = cfg.get("la_code") or params.get("la_code") or "?"
    term = cfg.get("term") or params.get("term") or "(from run date)"
    counts = dict(summary.get("counts") or {})
    rule_set = counts.pop("rule_set", "")
    letters = summary.get("letters") or {}
    per_letter = letters.get("letters", letters if all(isinstance(v, int) for v in letters.values()) else {})
    published = summary.get("published") or {}
    edition = published.get("edition", "")

    subject = f"[school improvement] DONE: LA {la} term {term}" + (f" ({edition})" if edition else "")
    lines = [subject, "", f"DAG: {getattr(ti, 'dag_id', '?')}", f"Run: {getattr(ti, 'run_id', '?')}", ""]
    if counts:
        order = [lv for lv in LEVELS if lv in counts] + sorted(k for k in counts if k not in LEVELS)
        lines.append("Schools per level: " + ", ".join(f"{lv} {counts[lv]}" for lv in order)
                     + f" ({sum(int(v) for v in counts.values())} maintained schools)")
        if rule_set:
            lines.append(f"Rule set: {rule_set}")
    if per_letter:
        lines.append(f"Letters flagged: {sum(int(v) for v in per_letter.values())} ("
                     + ", ".join(f"{name} {n}" for name, n in sorted(per_letter.items())) + ")")
    elif "letters" in summary:
        lines.append("Letters flagged: none")
    for key, label in (("academies_of_concern", "Academies giving cause for concern"),
                       ("member_alerts", "Elected-member alerts")):
        if key in letters:
            lines.append(f"{label}: {letters[key]}")
    where = published.get("edition_path")
    if where:
        status = published.get("status", "")
        note = " (inputs unchanged: the current edition is kept)" if status == "unchanged" else ""
        lines.append("")
        lines.append(f"Reports: {where}{note}")
        lines.append(f"Current edition: {str(where).rstrip('/').rsplit('/', 1)[0]}/current.json")
    if published.get("message"):
        lines.append(str(published["message"]))
    for w in published.get("warnings") or []:  # leftovers tidied, corrupt JSON of an older edition
        lines.append(f"Note: {w}")
    log_url = getattr(ti, "log_url", "") if ti else ""
    if log_url:
        lines.append(f"\nLog: {log_url}")
    return subject, "\n".join(lines) + "\n"


def send_success_summary(context: dict, summary: dict) -> list[str]:
    """Send the run's summary through the same Connections as the failure alerts. Never fails the task."""
    try:
        return send_alert(*_summary_message(context, summary))
    except Exception:
        log.exception("could not send the success summary")
        return []
