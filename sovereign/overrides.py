"""Committee overrides: exclusions only, append-only, dated. Shared by the CLI and the API."""

from __future__ import annotations

from datetime import date

import sqlite_utils

from sovereign import lookup, store
from sovereign.errors import NotFound, UserError


def add(db: sqlite_utils.Database, country: str, reason: str, decided_by: str, valid_from: date | None = None,
        valid_to: date | None = None) -> dict:
    start = valid_from or date.today()
    if valid_to and valid_to < start:
        raise UserError(f"--until {valid_to} is before --from {start}")
    if not reason.strip() or not decided_by.strip():
        raise UserError("an override needs a reason and who decided it")
    reader = store.connect_readonly(store.path_of(db))
    try:
        target = lookup.resolve(reader, country)
    finally:
        reader.close()
    if not target.iso2 or target.issuer:
        raise UserError(f"{country!r}: an override names a country (ISO code or name), not a security or a "
                        "territory without a code")
    row = {"iso2": target.iso2, "reason": reason.strip(), "decided_by": decided_by.strip(),
           "valid_from": start.isoformat(), "valid_to": valid_to.isoformat() if valid_to else None,
           "created_at": store.now()}
    table = db["overrides"]
    with db.atomic():
        table.insert(row)
    return row | {"id": table.last_pk, "name": target.name}


def revoke(db: sqlite_utils.Database, override_id: int, revoked_by: str) -> None:
    if not revoked_by.strip():
        raise UserError("say who revokes the override")
    row = db.execute("SELECT revoked_at FROM overrides WHERE id = ?", [override_id]).fetchone()
    if row is None:
        raise NotFound(f"no override {override_id}")
    if row[0]:
        raise UserError(f"override {override_id} was already revoked at {row[0]}")
    with db.atomic():
        db.execute("UPDATE overrides SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                   [store.now(), revoked_by.strip(), override_id])
