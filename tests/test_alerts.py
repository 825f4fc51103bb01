"""Failure alerts and the success summary (plugins/notifiers.py) through real local servers.

A tiny SMTP server and a tiny HTTP server run on 127.0.0.1 (standard library only). The Connections
si_smtp and si_webhook are defined the way a deployment can define them, as AIRFLOW_CONN_* environment
variables in JSON form, which airflow.sdk's Connection.get reads outside a task as well as inside one.
Email goes through the SMTP provider's SmtpNotifier (a plain relay: disable_ssl and disable_tls in the
Connection's extra), the webhook through WebhookNotifier.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

si_airflow = None  # plugins/si_airflow.py, imported by the module's first test (below), not at collection


@pytest.fixture(autouse=True, scope="module")
def _si_airflow():
    """Collecting this module would otherwise import Airflow in every test process, 2-3 s of CPU each, though only
    this module's tests and a few others need it (tests/import_groups.py keeps those in one process)."""
    global si_airflow
    import si_airflow as module

    si_airflow = module


# ------------------------------------------------------------------ servers
class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        sender, rcpts = None, []
        self.reply("220 127.0.0.1 test SMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-127.0.0.1")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)  # dot-unstuffing
                self.server.messages.append({"from": sender, "to": rcpts, "data": b"".join(lines)})
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[dict] = []


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                  "json": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *args):  # keep pytest output clean
        pass


def _serve(server):
    # shutdown() waits for serve_forever's next poll: every 0.5 s by default, half a second idle per server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def smtp_server():
    server = _serve(_SMTPServer())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hook_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
    server.posts = []
    _serve(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def connections(monkeypatch, smtp_server, hook_server):
    smtp_server.messages.clear()
    hook_server.posts.clear()
    monkeypatch.setenv("AIRFLOW_CONN_SI_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": smtp_server.server_address[1],
        "extra": {"to": "si-team@la.example", "from_email": "airflow@la.example", "disable_ssl": True,
                  "disable_tls": True, "retry_limit": 0}}))
    port = hook_server.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_SI_WEBHOOK", json.dumps({
        "conn_type": "http", "host": f"http://127.0.0.1:{port}/webhook/abc123"}))
    return smtp_server, hook_server


def _email(server) -> email.message.EmailMessage:
    assert len(server.messages) == 1, server.messages
    return email.message_from_bytes(server.messages[0]["data"], policy=email.policy.default)


def _text(msg: email.message.EmailMessage) -> str:
    """The message's text: SmtpNotifier sends HTML, which we send as the escaped plain text in a <pre>."""
    part = msg.get_body(preferencelist=("html", "plain"))
    content = part.get_content()
    assert content.startswith("<pre>") and content.rstrip().endswith("</pre>"), content[:200]
    return html.unescape(content.strip()[len("<pre>"):-len("</pre>")])


# ------------------------------------------------------------------ a failing task's context
LOG_URL = "http://localhost:8080/dags/termly_school_improvement/runs/manual__2026-01-20/tasks/validate?try_number=1"
ERROR_LINES = [f"line {i}: ks2_2025.csv row {i + 1} column PTRWM_EXP: text in a number column" for i in range(1, 13)]


def failure_context(**over):
    ti = SimpleNamespace(task_id="validate", dag_id="termly_school_improvement", run_id="manual__2026-01-20",
                         log_url=LOG_URL)
    exc = RuntimeError("validate failed for LA 999 term 2025-26-spring:\n" + "\n".join(ERROR_LINES))
    return {"task_instance": ti, "params": {"la_code": "999", "term": "2025-26-spring"}, "exception": exc, **over}


def test_message_has_task_term_first_lines_and_log_link():
    subject, body = si_airflow._message(failure_context(), "FAILED")
    assert subject == "[school improvement] FAILED: validate LA 999 term 2025-26-spring"
    assert "DAG: termly_school_improvement" in body and "Run: manual__2026-01-20" in body
    assert "validate failed for LA 999 term 2025-26-spring" in body
    assert ERROR_LINES[0] in body and ERROR_LINES[6] in body  # the first eight lines of the error
    assert ERROR_LINES[7] not in body and ERROR_LINES[-1] not in body  # not the whole traceback
    assert f"Log: {LOG_URL}" in body


def test_message_with_blank_term_and_no_exception():
    ctx = failure_context(params={"la_code": "999", "term": ""})
    del ctx["exception"]
    subject, body = si_airflow._message(ctx, "FAILED")
    assert "term (from run date)" in subject
    assert "Error (first lines)" not in body


def test_on_task_failure_sends_email_and_webhook(connections):
    smtp, hook = connections
    si_airflow.on_task_failure(failure_context())

    msg = _email(smtp)
    assert msg["Subject"] == "[school improvement] FAILED: validate LA 999 term 2025-26-spring"
    assert msg["To"] == "si-team@la.example" and msg["From"] == "airflow@la.example"
    assert "si-team@la.example" in smtp.messages[0]["to"][0]
    text = _text(msg)
    for expected in ("validate", "2025-26-spring", ERROR_LINES[0], ERROR_LINES[6], f"Log: {LOG_URL}"):
        assert expected in text, expected
    assert ERROR_LINES[7] not in text

    assert len(hook.posts) == 1
    post = hook.posts[0]
    assert post["path"] == "/webhook/abc123" and post["content_type"] == "application/json"
    card = post["json"]["text"]
    for expected in ("FAILED: validate", "term 2025-26-spring", ERROR_LINES[0], LOG_URL):
        assert expected in card, expected


def test_send_alert_reports_what_it_sent(connections, monkeypatch):
    assert si_airflow.send_alert("s", "b") == ["email", "webhook"]
    monkeypatch.delenv("AIRFLOW_CONN_SI_WEBHOOK")
    assert si_airflow.send_alert("s", "b") == ["email"]


def test_no_connections_only_logs(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_SI_SMTP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SI_WEBHOOK", raising=False)
    with caplog.at_level("WARNING", logger="si_airflow"):
        assert si_airflow.send_alert("subject", "the body") == []
    assert "No si_smtp or si_webhook Connection" in caplog.text and "the body" in caplog.text


def test_failure_alert_never_raises_when_the_mail_server_is_down(monkeypatch, caplog):
    import socket
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_SI_SMTP", json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": dead,
                                                           "extra": {"to": "x@la.example", "disable_ssl": True,
                                                                     "retry_limit": 0}}))
    monkeypatch.delenv("AIRFLOW_CONN_SI_WEBHOOK", raising=False)
    si_airflow.on_task_failure(failure_context())  # the task's own error must stay the one reported
    assert "could not send the failure alert" in caplog.text


# ------------------------------------------------------------------ success summary
PUBLISH_RESULT = {
    "cfg": {"la_code": "999", "term": "2025-26-spring", "run_id": "scheduled__2026-01-20"},
    "counts": {"rule_set": "cambs-2025-report-cards", "medium": 96, "low": 81, "high": 23},
    "letters": {"letters": {"warning_notice": 2, "significant_concerns_letter": 5}, "academies_of_concern": 4,
                "member_alerts": 9},
    "published": {"status": "published", "edition": "edition-002",
                  "edition_path": "/opt/airflow/shared-drive/999/2025-26/spring/edition-002", "message": ""},
}


def success_context():
    ti = SimpleNamespace(task_id="publish", dag_id="termly_school_improvement", run_id="scheduled__2026-01-20",
                         log_url="http://localhost:8080/dags/termly_school_improvement/runs/scheduled__2026-01-20")
    return {"task_instance": ti, "params": {"la_code": "999", "term": ""}}


def test_summary_message_counts_letters_and_where():
    subject, body = si_airflow._summary_message(success_context(), PUBLISH_RESULT)
    assert subject == "[school improvement] DONE: LA 999 term 2025-26-spring (edition-002)"
    assert "Schools per level: high 23, medium 96, low 81 (200 maintained schools)" in body
    assert "Rule set: cambs-2025-report-cards" in body
    assert "Letters flagged: 7 (significant_concerns_letter 5, warning_notice 2)" in body
    assert "Academies giving cause for concern: 4" in body and "Elected-member alerts: 9" in body
    assert "Reports: /opt/airflow/shared-drive/999/2025-26/spring/edition-002" in body
    assert "Current edition: /opt/airflow/shared-drive/999/2025-26/spring/current.json" in body


def test_summary_message_unchanged_and_no_letters():
    result = {**PUBLISH_RESULT, "letters": {"letters": {}, "academies_of_concern": 0, "member_alerts": 0},
              "published": {**PUBLISH_RESULT["published"], "status": "unchanged", "edition": "edition-001",
                            "edition_path": "/sd/999/2025-26/spring/edition-001"}}
    subject, body = si_airflow._summary_message(success_context(), result)
    assert subject.endswith("(edition-001)")
    assert "Letters flagged: none" in body
    assert "inputs unchanged" in body


def test_summary_message_from_partial_results():
    subject, body = si_airflow._summary_message(success_context(), {"counts": {"low": 3}})
    assert subject == "[school improvement] DONE: LA 999 term (from run date)"
    assert "Schools per level: low 3 (3 maintained schools)" in body
    assert "Reports:" not in body


def test_send_success_summary_by_email_and_webhook(connections):
    smtp, hook = connections
    assert si_airflow.send_success_summary(success_context(), PUBLISH_RESULT) == ["email", "webhook"]
    msg = _email(smtp)
    assert msg["Subject"] == "[school improvement] DONE: LA 999 term 2025-26-spring (edition-002)"
    text = _text(msg)
    assert "high 23, medium 96, low 81" in text and "Letters flagged: 7" in text
    assert "/opt/airflow/shared-drive/999/2025-26/spring/edition-002" in text
    card = hook.posts[0]["json"]["text"]
    assert "DONE: LA 999 term 2025-26-spring" in card and "current.json" in card


def test_send_success_summary_never_raises(monkeypatch, caplog):
    monkeypatch.setenv("AIRFLOW_CONN_SI_WEBHOOK", json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9/x"}))
    monkeypatch.delenv("AIRFLOW_CONN_SI_SMTP", raising=False)
    assert si_airflow.send_success_summary(success_context(), PUBLISH_RESULT) == []
    assert "could not send the success summary" in caplog.text


# ------------------------------------------------------------------ notifiers, not hand-written clients
def test_alerts_go_through_airflow_notifiers(connections):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier
    from airflow.sdk import BaseNotifier

    import notifiers

    chosen = notifiers.notifiers("s", "b")
    assert isinstance(chosen["email"], SmtpNotifier) and isinstance(chosen["webhook"], BaseNotifier)
    assert isinstance(chosen["webhook"], notifiers.WebhookNotifier)
    assert "smtplib" not in open(notifiers.__file__).read()


def test_error_text_from_the_data_is_sent_as_it_is_never_rendered_as_a_template(connections):
    smtp, hook = connections
    exc = RuntimeError("validate failed: ks2.csv row 3 column school_name: {{ 7 * 7 }} <b>not bold</b>")
    si_airflow.on_task_failure(failure_context(exception=exc))
    msg = _email(smtp)
    text = _text(msg)
    assert "{{ 7 * 7 }} <b>not bold</b>" in text and "49" not in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in msg.get_body(preferencelist=("html",)).get_content()  # escaped HTML
    assert "{{ 7 * 7 }} <b>not bold</b>" in hook.posts[0]["json"]["text"]


def test_the_webhook_retries_a_server_error_then_delivers(hook_server, monkeypatch):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import notifiers

    calls = []

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            calls.append(self.path)
            self.send_response(503 if len(calls) == 1 else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = _serve(ThreadingHTTPServer(("127.0.0.1", 0), Flaky))
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SI_WEBHOOK", json.dumps(
            {"conn_type": "http", "host": f"http://127.0.0.1:{server.server_address[1]}/hook"}))
        notifiers.WebhookNotifier("hello").notify({})
        assert calls == ["/hook", "/hook"]
    finally:
        server.shutdown()
        server.server_close()
