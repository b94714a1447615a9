"""Committee overrides: exclusions only, append-only, dated. Shared by the CLI and the API."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fiw.errors import NotFound, UserError
from sovereign.decisions import check_backdate, one_line
from sovereign.resolve import Resolver
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils


def add(db: sqlite_utils.Database, country: str, reason: str, decided_by: str, valid_from: date | None = None,
        valid_to: date | None = None, backdate_reason: str | None = None, actor: str = "") -> dict:
    start = valid_from or date.today()
    if valid_to and valid_to < start:
        raise UserError(f"--until {valid_to} is before --from {start}")
    reason = one_line(reason, "an override needs a one-line reason")
    decided_by = one_line(decided_by, "an override needs who decided it")
    backdated = check_backdate("--from", start, backdate_reason)
    target = Resolver(db).resolve(country)
    if not target.iso2 or target.issuer:
        raise UserError(f"{country!r}: an override names a country (ISO code or name), not a security or a "
                        "territory without a code")
    row = {"iso2": target.iso2, "reason": reason.strip(), "decided_by": decided_by.strip(),
           "valid_from": start.isoformat(), "valid_to": row_date(valid_to), "backdate_reason": backdated}
    with db.atomic():
        override_id = writes.add_override(db, row)
        writes.audit(db, actor or decided_by.strip(), "override add", f"override {override_id}: {target.iso2}",
                     row["valid_from"], backdated, row)
    return row | {"id": override_id, "name": name_on(db, target.iso2, target.entities, start) or target.name}


def name_on(conn: reads.Connection, iso2: str, entities: tuple[str, ...], on: date) -> str | None:
    """The name of the entity the list in force on `on` holds for a code (DE: "Germany", not the "Germany, W."
    of 1990), or None when no list is in force."""
    version = reads.version_in_force(conn, on.isoformat()) or reads.version_in_force(conn, date.today().isoformat())
    if version is None:
        return None
    entries = [e for e in reads.entries(conn, version["id"], entities or None) if e["iso2"] == iso2]
    return entries[-1]["fh_name"] if entries else None


def row_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def revoke(db: sqlite_utils.Database, override_id: int, revoked_by: str, reason: str = "",
           revoked_from: date | None = None, backdate_reason: str | None = None, actor: str = "") -> dict:
    """End an override from a date (today by default; from its first day: it never applied). The
    override stays as recorded, so what the desk was told before the revocation can still be shown."""
    revoked_by = one_line(revoked_by, "say who revokes the override")
    reason = one_line(reason, "a revocation needs a reason (--reason, one line)")
    row = reads.override(db, override_id)
    if row is None:
        raise NotFound(f"no override {override_id}")
    if row["revoked_at"]:
        raise UserError(f"override {override_id} was already revoked at {row['revoked_at']}")
    start = revoked_from or date.today()
    backdated = check_backdate("--from", start, backdate_reason)
    effective = max(start.isoformat(), row["valid_from"])
    with db.atomic():
        if not writes.revoke_override(db, override_id, revoked_by.strip(), effective, reason.strip()):
            raise UserError(f"override {override_id} was revoked meanwhile: nothing changed")
        writes.audit(db, actor or revoked_by.strip(), "override revoke", f"override {override_id}: {row['iso2']}",
                     effective, reason.strip(), {"revoked_by": revoked_by.strip(), "backdate_reason": backdated})
    return {"id": override_id, "revoked_from": effective}
