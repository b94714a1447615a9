"""The service's access log: who asked what, one INFO line a request on the `sovereign.access` logger (to
standard error and `--log-file`). Who is the holder of the bearer token (never the token itself), or the
person signed in to the console, else "anonymous". Off with SOVEREIGN_ACCESS_LOG=off.

A request never waits for the log: lines go through a bounded queue to a thread that writes them, so a
slow or blocked log sink (a full pipe, a stalled disk) costs log lines, counted and said, never answers."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from logging.handlers import QueueHandler

from fastapi import FastAPI, Request, Response

from sovereign.settings import Settings

log = logging.getLogger("sovereign.access")
QUEUE_LINES = 10_000


class Dropping(QueueHandler):
    """Puts a line on the queue, or drops it (counted) when the writer has fallen that far behind."""

    dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


def drain(lines: queue.Queue) -> None:
    """The writer thread: each line to the root logger's handlers (standard error, --log-file) until told to stop."""
    while (record := lines.get()) is not None:
        logging.getLogger().handle(record)


def who(settings: Settings, authorization: str | None) -> str:
    if not authorization:
        return "anonymous"
    from sovereign import store
    from sovereign.api.deps import person_of

    try:
        with store.reader(settings.db) as conn:
            return person_of(conn, authorization) or "unauthenticated"
    except Exception:  # the log line never fails the request it describes
        return "unknown"


def install(app: FastAPI, settings: Settings) -> None:
    if not settings.access_log:
        return
    lines: queue.Queue[logging.LogRecord | None] = queue.Queue(QUEUE_LINES)
    handler = Dropping(lines)
    writer = threading.Thread(target=drain, args=(lines,), name="access-log", daemon=True)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    writer.start()

    def stop() -> None:
        """Flush what the sink takes within two seconds; a blocked sink does not hold the shutdown."""
        log.removeHandler(handler)
        try:
            lines.put(None, timeout=2)
        except queue.Full:
            pass
        writer.join(2)
        if handler.dropped:
            logging.getLogger("sovereign").warning("access log: %d line(s) dropped, the log was not written fast "
                                                   "enough", handler.dropped)

    app.router.add_event_handler("shutdown", stop)

    @app.middleware("http")
    async def access(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            query = f"?{request.url.query}" if request.url.query else ""
            log.info("%s %s %s%s %d %.0fms by %s", request.client.host if request.client else "-", request.method,
                     request.url.path, query[:500], status, (time.perf_counter() - started) * 1000,
                     getattr(request.state, "person", None) or who(settings, request.headers.get("authorization")))
