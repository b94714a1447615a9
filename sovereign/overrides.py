"""Committee overrides: exclusions only, append-only, dated. Shared by the CLI and the API."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from fiw.errors import NotFound, UserError
from sovereign.resolve import Resolver
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils


def add(db: sqlite_utils.Database, country: str, reason: str, decided_by: str, valid_from: date | None = None,
        valid_to: date | None = None) -> dict:
    start = valid_from or date.today()
    if valid_to and valid_to < start:
        raise UserError(f"--until {valid_to} is before --from {start}")
    if not reason.strip() or not decided_by.strip():
        raise UserError("an override needs a reason and who decided it")
    target = Resolver(db).resolve(country)
    if not target.iso2 or target.issuer:
        raise UserError(f"{country!r}: an override names a country (ISO code or name), not a security or a "
                        "territory without a code")
    row = {"iso2": target.iso2, "reason": reason.strip(), "decided_by": decided_by.strip(),
           "valid_from": start.isoformat(), "valid_to": valid_to.isoformat() if valid_to else None}
    with db.atomic():
        override_id = writes.add_override(db, row)
    return row | {"id": override_id, "name": target.name}


def revoke(db: sqlite_utils.Database, override_id: int, revoked_by: str) -> None:
    if not revoked_by.strip():
        raise UserError("say who revokes the override")
    row = reads.override(db, override_id)
    if row is None:
        raise NotFound(f"no override {override_id}")
    if row["revoked_at"]:
        raise UserError(f"override {override_id} was already revoked at {row['revoked_at']}")
    with db.atomic():
        writes.revoke_override(db, override_id, revoked_by.strip())
