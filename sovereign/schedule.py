"""The annual refresh on a schedule (APScheduler 3): weekly from 1 February to 30 April, when FH
publishes, and monthly the rest of the year, for revisions.

One instance only (an exclusive lock beside the database). A poll missed while the daemon was down
runs once at start. A new edition gets its proposed (or held) list, the committee report in the
reports folder, and a notification: a log line always, a webhook or a command when configured.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from apscheduler.triggers.cron import CronTrigger

from fiw import words
from fiw.errors import UserError
from sovereign import clock, store
from sovereign.settings import Settings

if TYPE_CHECKING:
    from sovereign.pipeline import Outcome

log = logging.getLogger("sovereign.schedule")
UTC = UTC
TRIGGERS = {
    "season": CronTrigger(month="2-4", day_of_week="mon", hour=6, minute=0, timezone=UTC),   # weekly, Feb-Apr
    "rest": CronTrigger(month="1,5-12", day=1, hour=6, minute=0, timezone=UTC),             # monthly otherwise
}
MISFIRE_GRACE = {"season": int(timedelta(days=6).total_seconds()), "rest": int(timedelta(days=27).total_seconds())}


def previous_poll(now: datetime) -> datetime | None:
    """The latest scheduled poll at or before `now` (a pure function of the calendar)."""
    start = now - timedelta(days=32)
    latest = None
    for trigger in TRIGGERS.values():
        t = trigger.get_next_fire_time(None, start)
        while t is not None and t <= now:
            latest = t if latest is None or t > latest else latest
            t = trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    return latest


def missed(last_run: datetime | None, now: datetime) -> bool:
    """True when a scheduled poll fell between the last run and now (the daemon was down)."""
    due = previous_poll(now)
    return due is not None and (last_run is None or last_run < due)


class Lock:
    """An exclusive, non-blocking lock: a second `sovereign schedule` exits with a message."""

    def __init__(self, path: Path):
        self.path = path
        self.handle: TextIO | None = None

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"sovereign schedule is already running ({holder}); lock {self.path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


def poll(settings: Settings, trigger: str = "schedule") -> dict:
    """One scheduled refresh from the web through the one refresh flow; every run is recorded in `runs`."""
    from sovereign import refresh

    def report(outcome: Outcome) -> dict:
        """The committee's report and the notices, inside the run: what the run keeps is this result."""
        done = refresh.report(db, outcome)
        new, revised = done["new"], done["revised"]
        result = {"outcome": "new edition" if new else ("revised" if outcome.changed else "unchanged"),
                  "editions": done["editions"], "versions": done["versions"], "http_status": done["http_status"]}
        if outcome.versions:
            result |= committee_report(settings, outcome.versions[-1])
        if new or revised:
            kind = "held" if result.get("state") == "held" else "new edition" if new else "revision"
            notify(settings, result | {"notice": kind, "edition": result.get("edition", (new or revised)[-1])})
        for held in outcome.held:  # a table whose label and numbers disagree: nothing stored, a person looks
            result["outcome"] = "held"
            notify(settings, {"notice": "held", "edition": held["edition"], "reason": held["reason"]})
        kept.update(result)
        return result

    kept: dict = {}
    try:
        with store.writer(settings.db, key_file=settings.key_file) as db:
            refresh.run(db, settings, "web", trigger=trigger,
                        command=f"refresh --source web --base-url {settings.base_url}", actor=settings.actor,
                        then=report)
    except Exception as exc:  # recorded in `runs`; the daemon retries within hours and goes on
        log.error("scheduled refresh failed: %s", exc)
        notify(settings, {"notice": "failure", "message": str(exc)})
        return {"outcome": "failed", "message": str(exc)}
    log.info("scheduled refresh: %s", kept["outcome"])
    return kept


def committee_report(settings: Settings, version_id: int) -> dict:
    """The report of a new list version, HTML and XLSX, in the reports folder: written whole and read back
    before a notice names it, as the command line writes it."""
    from sovereign import present, report

    with store.reader(settings.db, key_file=settings.key_file) as conn:
        version = store.reads.version(conn, version_id) or {}
        built = report.build(conn, settings.policy, None, f"v{version['id']}")
        page = report.to_html(report.with_charts(conn, built))
    target = settings.reports / f"report-{version['edition']}-v{version['id']}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    present.document(present.Output("html", target), lambda _: page, say=log.info)
    present.document(present.Output("xlsx", target.with_suffix(".xlsx")), lambda _: "",
                     lambda: report.to_sheets(built), say=log.info)
    return {"edition": version["edition"], "list_version": version["id"], "state": version["state"],
            "reason": version["reason"], "report": str(target.resolve()),
            "moves_out": [r["name"] for r in built["newly_excluded"]],
            "moves_in": [r["name"] for r in built["newly_eligible"]], "anchor": built["anchor"]["line"]}


def notice_text(settings: Settings, notice: dict) -> str:
    """One short paragraph: what happened, who moves out and in, where the report is."""
    kind = notice["notice"]
    if kind == "failure":
        return f"sovereign: the scheduled refresh failed: {notice['message']}. The list in force stays in force."
    head = {"new edition": "a new edition", "revision": "FH revised an edition", "held": "a new edition HELD by the gate"
            }[kind]
    text = f"sovereign: {head}: {words.title(notice['edition'])}"
    if notice.get("reason") and not notice.get("list_version"):
        text += f"; nothing was stored ({notice['reason']}); the list in force stays in force"
    if notice.get("list_version"):
        text += f"; list version {notice['list_version']} is {notice['state']}"
        if notice.get("reason"):
            text += f" ({notice['reason']})"
        text += (f". Would move out: {', '.join(notice['moves_out']) or 'none'}; "
                 f"in: {', '.join(notice['moves_in']) or 'none'}")
    if notice.get("report"):
        text += f". Report: {notice['report']}"
    if settings.public_url and notice.get("edition"):
        text += f" and {settings.public_url.rstrip('/')}/reports/{notice['edition']}"
    return text + "." + (f" {notice['anchor']}" if notice.get("anchor") else "")


def redacted(url: str) -> str:
    """A webhook's address as a log may show it: scheme, host and port. Its path and query often carry the
    secret that lets anyone post to the channel, and its user part a password; neither is ever logged."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    hidden = "/..." if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}{hidden}"


def notify(settings: Settings, notice: dict) -> None:
    """Always a log line; a webhook POST, a command and an e-mail when configured. A failing notifier is
    logged, never fatal: what the refresh stored stays stored."""
    text = notice_text(settings, notice)
    (log.error if notice["notice"] in ("failure", "held") else log.warning)("%s", text)
    if settings.webhook:
        import requests

        try:
            requests.post(settings.webhook, json=notice | {"text": text}, timeout=10,
                          allow_redirects=False).raise_for_status()
        except requests.RequestException as exc:
            status = getattr(exc.response, "status_code", None)
            log.error("webhook %s failed: %s", redacted(settings.webhook),
                      f"HTTP {status}" if status else exc.__class__.__name__)
    if settings.notify_command:
        env = os.environ | {"SOVEREIGN_NOTICE": notice["notice"], "SOVEREIGN_EDITION": str(notice.get("edition", "")),
                            "SOVEREIGN_REPORT": notice.get("report", ""), "SOVEREIGN_STATE": notice.get("state", ""),
                            "SOVEREIGN_MESSAGE": text}
        done = subprocess.run(settings.notify_command, shell=True, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode:
            log.error("notify command exited %s: %s", done.returncode, done.stderr.strip()[:500])
    if settings.smtp and settings.mail_to:
        send_mail(settings, f"sovereign: {notice['notice']}", text)


def send_mail(settings: Settings, subject: str, body: str) -> None:
    """SMTP to `SOVEREIGN_MAIL_TO`: `smtp://host:port` (or `smtps://` for TLS from the start)."""
    import smtplib
    from email.message import EmailMessage
    from urllib.parse import urlsplit

    url = urlsplit(settings.smtp or "")
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.mail_from, settings.mail_to
    message.set_content(body)
    try:
        client = (smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP)(url.hostname or "localhost",
                                                                                  url.port or 25, timeout=30)
        with client:
            if url.username:
                client.login(url.username, url.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s failed: %s", settings.mail_to, exc)


RETRY_AFTER = (timedelta(hours=1), timedelta(hours=2), timedelta(hours=4))


def retry_at(attempt: int, now: datetime) -> datetime | None:
    """After a failed poll: retry in 1, 2, then 4 hours; after that, the next scheduled poll."""
    return now + RETRY_AFTER[attempt] if attempt < len(RETRY_AFTER) else None


def scheduled_poll(settings: Settings, scheduler: Any = None, attempt: int = 0, trigger: str = "schedule") -> dict:
    """A poll that, when it fails, asks the scheduler for a retry within hours instead of waiting for the
    next slot (a week or a month away)."""
    result = poll(settings, trigger)
    if result["outcome"] == "failed" and scheduler is not None:
        when = retry_at(attempt, clock.now())
        if when is not None:
            scheduler.add_job(scheduled_poll, "date", run_date=when, args=[settings, scheduler, attempt + 1, "retry"],
                              id=f"retry-{attempt + 1}", replace_existing=True)
            log.info("retrying the failed poll at %s", when.isoformat())
    return result


def last_scheduled_run(db_path: Path) -> datetime | None:
    if not Path(db_path).exists():
        return None
    with store.reader(db_path) as conn:
        started = store.reads.last_scheduled_start(conn)
    return datetime.fromisoformat(started) if started else None


def run_daemon(settings: Settings, once: bool = False) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    with Lock(settings.db.with_name(settings.db.name + ".schedule.lock")):
        if once:
            result = poll(settings, "manual")
            if result["outcome"] == "failed":
                raise UserError(f"the poll failed (recorded in runs): {result['message']}")
            return
        scheduler = BlockingScheduler(timezone=UTC)
        if missed(last_scheduled_run(settings.db), clock.now()):
            log.info("a scheduled poll was missed while the scheduler was down: polling now")
            scheduled_poll(settings, scheduler, 0, "catch-up")
        for name, trigger in TRIGGERS.items():
            scheduler.add_job(scheduled_poll, trigger, args=[settings, scheduler], id=name, coalesce=True,
                              max_instances=1, misfire_grace_time=MISFIRE_GRACE[name])
        log.info("scheduler started; next polls: %s",
                 ", ".join(f"{j.id} {j.trigger.get_next_fire_time(None, clock.now())}" for j in scheduler.get_jobs()))
        scheduler.start()
