"""POST /api/v1/admin/*: refresh, publish, overrides. Behind a person's bearer token; who decided is the
authenticated person, never a name in the request body. Every action is recorded in `admin_actions`
whatever its outcome, errors included."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from fiw.errors import Unavailable, UserError
from sovereign import store
from sovereign.api.deps import AdminDep, SettingsDep
from sovereign.api.models import ADMIN_ERRORS, OverrideRequest, PublishRequest, RefreshRequest, RevokeRequest
from sovereign.settings import Settings
from sovereign.store import writes
from sovereign.store.schema import OperationalError, busy_or

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ADMIN_ERRORS)
log = logging.getLogger("sovereign.api")
RECORD_ATTEMPTS, RECORD_PAUSE = 300, 2.0  # a failure's record waits up to ten minutes for the lock


def recorded(settings: Settings, actor: str, action: str, payload: dict, work: Callable[[Any], Any]) -> Any:
    """Run `work` on a write connection and record the action: ok, refused (a user error) or failed. A database
    another writer keeps locked past the busy timeout is a 503 with Retry-After, and recorded as failed too."""
    outcome, message = "failed", ""
    try:
        with store.writer(settings.db, create=False, key_file=settings.key_file) as db:
            result = work(db)
        outcome, message = "ok", json.dumps(result, default=str)[:2000]
        return result
    except OperationalError as exc:
        message = busy_or(exc)
        raise Unavailable(message) from None
    except Unavailable as exc:
        message = str(exc)
        raise
    except UserError as exc:
        outcome, message = "refused", str(exc)
        raise
    except Exception as exc:
        message = f"{exc.__class__.__name__}: {exc}"
        raise
    finally:
        record_action(settings, actor, action, payload, outcome, message)


def record_action(settings: Settings, actor: str, action: str, payload: dict, outcome: str, message: str,
                  attempts: int = RECORD_ATTEMPTS) -> None:
    """The action's row in `admin_actions` and, unless it succeeded (the action wrote its own), in the audit
    trail. While another writer holds the lock the row is written by a thread that tries again, so a failure
    for want of the lock is recorded once the lock is free."""
    def write() -> bool:
        try:
            with store.writer(settings.db, create=False, key_file=settings.key_file) as db, db.atomic():
                writes.record_admin_action(db, actor, action, payload, outcome, message)
                if outcome != "ok":  # what succeeded is in the trail already, written by the action itself
                    writes.audit(db, actor, f"api {action}", None, None, None,
                                 {"outcome": outcome, "message": message, "request": payload})
            return True
        except (OperationalError, Unavailable):
            return False

    def retry() -> None:
        for _ in range(attempts):
            time.sleep(RECORD_PAUSE)
            if write():
                return
        log.error("admin %s by %s (%s) could not be recorded: the database stayed locked", action, actor, outcome)

    if not write():
        threading.Thread(target=retry, name=f"record {action}", daemon=True).start()


@router.post("/refresh")
def refresh(body: RefreshRequest, settings: SettingsDep, person: AdminDep) -> dict:
    from sovereign import refresh as refreshing

    def work(db: Any) -> dict:
        if body.base_url is not None and body.base_url.rstrip("/") != settings.base_url.rstrip("/"):
            raise UserError(f"base_url: this service fetches only from its configured site ({settings.base_url}); "
                            "an operator changes that with SOVEREIGN_BASE_URL")
        outcome = refreshing.run(db, settings, body.source, trigger="api", command=f"refresh --source {body.source}",
                                 actor=person)
        report = refreshing.report(db, outcome)
        return {k: report[k] for k in ("editions", "versions", "held", "revisions", "next")}

    return recorded(settings, person, "refresh", body.model_dump(), work)


@router.post("/publish")
def publish(body: PublishRequest, settings: SettingsDep, person: AdminDep) -> dict:
    from sovereign import pipeline

    def work(db: Any) -> dict:
        done = pipeline.publish(db, settings.policy, person, body.effective_from, body.edition, body.accept_held,
                                body.backdate_reason, person, body.minutes, f"api: {person}")
        return {"list_version": done.version, "in_force": done.in_force, "approvers": done.approvers,
                "moved_from": done.moved_from,
                "required": done.required, "effective_from": body.effective_from.isoformat()}

    return recorded(settings, person, "publish", body.model_dump(), work)


@router.get("/overrides")
def list_overrides(settings: SettingsDep, person: AdminDep) -> list[dict]:
    """Every override with its state today, as `sovereign override list --json` (internal notes included)."""
    from sovereign import overrides

    with store.reader(settings.db) as conn:
        return overrides.listed(conn)


@router.get("/people")
def list_people(settings: SettingsDep, person: AdminDep) -> list[dict]:
    """The register of people who decide, as `sovereign people list --format json`."""
    from sovereign import people

    with store.reader(settings.db) as conn:
        return people.listed(conn)


@router.post("/overrides")
def add_override(body: OverrideRequest, settings: SettingsDep, person: AdminDep) -> dict:
    from sovereign import overrides

    return recorded(settings, person, "override add", body.model_dump(), lambda db: overrides.add(
        db, body.country, body.reason, person, body.valid_from, body.valid_to, body.backdate_reason, person,
        body.public_reason_nl, body.public_reason_en))


@router.post("/overrides/{override_id}/revoke")
def revoke_override(body: RevokeRequest, settings: SettingsDep, person: AdminDep,
                    override_id: int = PathParam(ge=1, le=2**62)) -> dict:
    from sovereign import overrides

    def work(db: Any) -> dict:
        done = overrides.revoke(db, override_id, person, body.reason, body.revoked_from, body.backdate_reason, person,
                                body.entered_in_error, settings.policy.approvals_required, f"api: {person}")
        return {"revoked": override_id} | done

    return recorded(settings, person, "override revoke", {"id": override_id} | body.model_dump(), work)
