"""Committee overrides: exclusions only, append-only, dated. Shared by the CLI and the API."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fiw.errors import NotFound, UserError
from sovereign import clock
from sovereign.decisions import check_backdate, one_line
from sovereign.resolve import Resolver
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils


def add(db: sqlite_utils.Database, country: str, reason: str, decided_by: str, valid_from: date | None = None,
        valid_to: date | None = None, backdate_reason: str | None = None, actor: str = "",
        public_reason_nl: str | None = None, public_reason_en: str | None = None) -> dict:
    """Exclude a country from a date. `reason` is the committee's internal note; the public list shows only the
    public reasons (Dutch and English), or a plain "excluded by the committee" where none was given."""
    from sovereign.people import readable, spelled

    start = valid_from or clock.today()
    if valid_to and valid_to < start:
        raise UserError(f"--until {valid_to} is before --from {start}")
    one_line(reason, "an override needs a one-line reason")
    reason = readable(reason, "an override's reason")
    one_line(decided_by, "an override needs who decided it")
    decided_by = spelled(db, decided_by)
    public = {f"public_reason_{lang}": readable(text, f"--public-reason-{lang}") if text and text.strip() else None
              for lang, text in (("nl", public_reason_nl), ("en", public_reason_en))}
    backdated = check_backdate("--from", start, backdate_reason)
    target = Resolver(db).resolve(country)
    if not target.iso2 or target.issuer:
        raise UserError(f"{country!r}: an override names a country (ISO code or name), not a security or a "
                        "territory without a code")
    row = {"iso2": target.iso2, "reason": reason.strip(), "decided_by": decided_by.strip(),
           "valid_from": start.isoformat(), "valid_to": row_date(valid_to), "backdate_reason": backdated} | public
    with db.atomic():
        override_id = writes.add_override(db, row)
        writes.audit(db, actor or decided_by.strip(), "override add", f"override {override_id}: {target.iso2}",
                     row["valid_from"], backdated, row)
    return row | {"id": override_id, "name": name_on(db, target.iso2, target.entities, start) or target.name}


def name_on(conn: reads.Connection, iso2: str, entities: tuple[str, ...], on: date) -> str | None:
    """The name of the entity the list in force on `on` holds for a code (DE: "Germany", not the "Germany, W."
    of 1990), or None when no list is in force."""
    version = reads.version_in_force(conn, on.isoformat()) or reads.version_in_force(conn, clock.today().isoformat())
    if version is None:
        return None
    entries = [e for e in reads.entries(conn, version["id"], entities or None) if e["iso2"] == iso2]
    return entries[-1]["fh_name"] if entries else None


def row_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def revoke(db: sqlite_utils.Database, override_id: int, revoked_by: str, reason: str = "",
           revoked_from: date | None = None, backdate_reason: str | None = None, actor: str = "",
           in_error: bool = False, required: int = 1, os_user: str = "") -> dict:
    """End an override from a date (today by default). `in_error`: it was entered in error and is removed from
    its first day, as if it never applied (its own kind of revocation, no --from). The override stays as
    recorded, so what the desk was told before can still be shown. Revoking re-admits a country, so it needs as
    many approvals as publishing: with `required` > 1 each call records one person's approval, and the
    revocation takes effect when that many different people agree on the same date and kind."""
    from sovereign import people

    one_line(revoked_by, "say who revokes the override")
    one_line(reason, "a revocation needs a reason (--reason, one line)")
    reason = people.readable(reason, "the revocation's reason")
    row = reads.override(db, override_id)
    if row is None:
        raise NotFound(f"no override {override_id}")
    if row["revoked_at"]:
        raise UserError(f"override {override_id} was already revoked at {row['revoked_at']}")
    if in_error and revoked_from is not None:
        raise UserError("an override entered in error is removed from its first day: give no --from")
    kind = "error" if in_error else "revoked"
    if in_error:
        effective, backdated = row["valid_from"], None
    else:
        start = revoked_from or clock.today()
        backdated = check_backdate("--from", start, backdate_reason)
        effective = max(start.isoformat(), row["valid_from"])
    name, person_key = people.approver(db, revoked_by, required)
    subject = f"override {override_id}: {row['iso2']}"
    with db.atomic():
        current = [a for a in reads.loosenings(db, override_id) if a["kind"] == kind]
        agreeing, moved = people.record_approval(
            db, "loosenings", current, {"override_id": override_id, "kind": kind, "reason": reason}, name,
            person_key, effective, os_user or None)
        if len(agreeing) < required:
            writes.audit(db, actor or name, "approve revocation", subject, effective, reason,
                         {"approved_by": name, "os_user": os_user, "kind": kind, "approvals": agreeing,
                          "moved_from": moved, "required": required})
            return {"id": override_id, "revoked_from": effective, "in_force": False, "approvals": agreeing,
                    "required": required, "moved_from": moved, "kind": kind}
        by = " and ".join(agreeing)
        if not writes.revoke_override(db, override_id, by, effective, reason, kind):
            raise UserError(f"override {override_id} was revoked meanwhile: nothing changed")
        writes.audit(db, actor or name, "override revoke", subject, effective, reason,
                     {"revoked_by": by, "os_user": os_user, "kind": kind, "backdate_reason": backdated,
                      "moved_from": moved})
    return {"id": override_id, "revoked_from": effective, "in_force": True, "approvals": agreeing,
            "required": required, "moved_from": moved, "kind": kind}


def state(r: dict, today: date | None = None) -> str:
    """In force, coming ("from D"), ended or revoked, as of today."""
    on = (today or clock.today()).isoformat()
    revoked_from = r["revoked_from"] or "" if r["revoked_at"] else None
    if revoked_from is not None and revoked_from <= r["valid_from"]:
        return "revoked from its first day"
    if revoked_from is not None and revoked_from <= on:
        return "revoked"
    if r["valid_to"] and r["valid_to"] < on:
        return f"ended {r['valid_to']}"
    later = f", revoked from {revoked_from}" if revoked_from else ""
    if r["valid_from"] > on:
        return f"coming: from {r['valid_from']}{later}"
    return f"active{later}"


def listed(conn: reads.Connection) -> list[dict]:
    """Every override as recorded, with its state today."""
    return [dict(r) | {"state": state(r)} for r in reads.overrides(conn)]
