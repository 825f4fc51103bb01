"""Alerts: failure alerts from tasks and the run's success summary, through Airflow notifiers.

Email goes through the SMTP provider's `SmtpNotifier` on the `si_smtp` Connection (the Connection's extra gives
`to` and `from_email`, and the SmtpHook's own settings: `disable_ssl`, `disable_tls`, `timeout`, `retry_limit`).
Teams/Slack go through `WebhookNotifier` on the `si_webhook` Connection (the webhook URL as host, or extra.url),
with a timeout and retries. Failure alerts are sent by each task's own on_failure_callback, in the task's
process: DAG-level callbacks run in the dag-processor and can be lost.

The messages carry error text that comes from the data (file names, cell values): they are sent as they are,
never rendered as Jinja templates, and escaped for HTML.
"""

from __future__ import annotations

import html
import logging
import re

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)
SMTP_CONN_ID = "si_smtp"
WEBHOOK_CONN_ID = "si_webhook"


class WebhookNotifier(BaseNotifier):
    """POST {"text": message} as JSON to an incoming webhook (Teams, Slack) named by an Airflow Connection."""

    template_fields = ()  # the text is sent as it is: never rendered, so data in an error cannot run as Jinja

    def __init__(self, text: str, webhook_conn_id: str = WEBHOOK_CONN_ID, timeout: float = 20, retries: int = 2,
                 **kwargs):
        super().__init__(**kwargs)
        self.text, self.webhook_conn_id, self.timeout, self.retries = text, webhook_conn_id, timeout, retries

    def url(self) -> str:
        from airflow.sdk import Connection

        conn = Connection.get(self.webhook_conn_id)
        url = conn.host if "://" in (conn.host or "") else (conn.extra_dejson or {}).get("url", "")
        if not url.lower().startswith(("https://", "http://")):
            raise ValueError(f"Connection {self.webhook_conn_id} has no http(s) webhook URL (host or extra.url)")
        return url

    def notify(self, context) -> None:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        retry = Retry(total=self.retries, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504),
                      allowed_methods=frozenset({"POST"}))
        with requests.Session() as http:
            http.mount("http://", HTTPAdapter(max_retries=retry))
            http.mount("https://", HTTPAdapter(max_retries=retry))
            http.post(self.url(), json={"text": self.text}, timeout=self.timeout).raise_for_status()


def _connection(conn_id: str):
    try:
        from airflow.sdk import Connection
        return Connection.get(conn_id)
    except Exception:  # not defined: that channel is simply not used
        return None


def email_notifier(subject: str, body: str):
    """The SMTP provider's SmtpNotifier for this message, or None when `si_smtp` is not defined."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    smtp = _connection(SMTP_CONN_ID)
    if smtp is None:
        return None
    extra = smtp.extra_dejson or {}
    return SmtpNotifier(to=extra.get("to", ""), from_email=extra.get("from_email") or smtp.login or "airflow@localhost",
                        subject=subject, html_content=f"<pre>{html.escape(body)}</pre>", smtp_conn_id=SMTP_CONN_ID)


def notifiers(subject: str, body: str) -> dict[str, BaseNotifier]:
    """The notifiers configured for this deployment: "email" (si_smtp) and "webhook" (si_webhook)."""
    out = {}
    mail = email_notifier(subject, body)
    if mail is not None:
        out["email"] = mail
    if _connection(WEBHOOK_CONN_ID) is not None:
        out["webhook"] = WebhookNotifier(f"{subject}\n{body}")
    return out


def send_alert(subject: str, body: str, context: dict | None = None) -> list[str]:
    """Send through every configured notifier; return the channels used. Raises if a channel fails."""
    sent = []
    for channel, notifier in notifiers(subject, body).items():
        # notify(), not __call__: __call__ would render the message as a Jinja template (see the module doc).
        notifier.notify(context or {})
        sent.append(channel)
    if not sent:
        log.warning("No si_smtp or si_webhook Connection configured; alert only logged:\n%s", body)
    return sent


# ------------------------------------------------------------------ failure alerts
def _la_of(ti) -> str:
    """The LA a per-LA DAG is bound to (termly_school_improvement_<la>); a regional DAG's error text names it."""
    m = re.search(r"_(\d{3})$", str(getattr(ti, "dag_id", "")))
    return m.group(1) if m else "?"


def _message(context: dict, headline: str) -> tuple[str, str]:
    ti = context.get("task_instance") or context.get("ti")
    params = context.get("params") or {}
    exc = context.get("exception")
    first = "\n".join(str(exc).splitlines()[:8]) if exc else ""
    log_url = getattr(ti, "log_url", "") if ti else ""
    la = _la_of(ti)  # the DAG's own LA first: a run's conf can put any la_code into params
    la = params.get("la_code") or "?" if la == "?" else la
    subject = f"[school improvement] {headline}: {getattr(ti, 'task_id', '?')} LA {la} term {params.get('term') or '(from run date)'}"
    body = f"{subject}\n\nDAG: {getattr(ti, 'dag_id', '?')}\nRun: {getattr(ti, 'run_id', '?')}\n"
    if first:
        body += f"\nError (first lines):\n{first}\n"
    if log_url:
        body += f"\nLog: {log_url}\n"
    return subject, body


def on_task_failure(context: dict) -> None:
    """Task-level callback (DAG-level ones run in the dag-processor and can be lost)."""
    try:
        send_alert(*_message(context, "FAILED"), context=context)
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
    """Send the run's summary through the same notifiers as the failure alerts. Never fails the task."""
    try:
        return send_alert(*_summary_message(context, summary), context=context)
    except Exception:
        log.exception("could not send the success summary")
        return []
