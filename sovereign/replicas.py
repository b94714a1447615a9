"""Read replicas: consistent copies of the database that `serve --read-only` answers from.

After every write (publish, refresh, import, an override, the register, people...) the primary pushes a copy to
each path in `SOVEREIGN_REPLICAS` (separated by the OS path separator, `:` on Linux): SQLite's online backup into
a file beside the replica, renamed over it in one step, so a replica's reader sees the old copy or the new one,
never half of one. `serve` notices a replaced file at the next request. A replica that cannot be written is
reported in one line; the write itself stands (it is committed on the primary) and the next write pushes again.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from sovereign import store
from sovereign.store.files import copy_to

log = logging.getLogger("sovereign.replicas")
ENV = "SOVEREIGN_REPLICAS"
READ_ONLY_ENV = "SOVEREIGN_READ_ONLY"


def targets(primary: Path | None = None) -> list[Path]:
    """The configured replica paths; the primary itself is never its own replica."""
    raw = os.environ.get(ENV, "")
    paths = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    if primary is not None:
        paths = [p for p in paths if p.resolve() != Path(primary).resolve()]
    return paths


def push(primary: Path, to: list[Path] | None = None) -> list[tuple[Path, str | None]]:
    """Copy the primary to every replica path: (path, None) when done, (path, why) when not."""
    done: list[tuple[Path, str | None]] = []
    for target in targets(primary) if to is None else to:
        tmp = target.with_name(f".{target.name}.replica-partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)
            with store.reader(primary) as source:
                copy_to(source, tmp)
            os.replace(tmp, target)
            done.append((target, None))
        except Exception as exc:  # a replica's disk, a missing mount: said, never the primary's write undone
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            why = getattr(exc, "strerror", None) or (str(exc).splitlines() or [exc.__class__.__name__])[0]
            log.warning("replica %s not updated: %s", target, why)
            done.append((target, why))
    return done


def after_write(primary: Path) -> None:
    """The store's hook after a write connection that changed something closes."""
    if not targets(primary):
        return
    for target, why in push(primary):
        if why:
            import sys

            print(f"warning: replica {target} not updated: {why}; the next write pushes it again", file=sys.stderr)


def read_only() -> bool:
    return os.environ.get(READ_ONLY_ENV, "").strip().lower() in ("1", "true", "yes", "on")


READ_POSTS = frozenset({"/api/v1/screen", "/api/v1/screen/file", "/api/v1/impact/file"})  # answers, not writes
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSAL = (b'{"detail":"this service answers from a read-only replica and never writes: send changes to the '
           b'primary, whose writes reach the replicas"}')


class ReadOnly:
    """Pure ASGI, in front of every route of `serve --read-only`: reads pass, every other request (a write route,
    and any route added later that is not known to be a read) is refused with 403 before it runs."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or (
                scope["method"] == "POST" and scope["path"].rstrip("/") in READ_POSTS):
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 403, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(REFUSAL)).encode()),
            (b"x-sovereign-read-only", b"1")]})
        await send({"type": "http.response.body", "body": REFUSAL})


def copy_age_seconds(db: Path) -> float:
    """How old the copy a replica answers from is: since its file was last written (the push's rename)."""
    import time

    try:
        return max(0.0, time.time() - db.stat().st_mtime)
    except OSError:
        return -1.0
