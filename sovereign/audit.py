"""The audit trail's chain: each row's hash covers its content, its position and the previous row's hash,
keyed with the secret outside the database (`sovereign.macs`), so an edited, removed or re-chained row
shows. Rows written before the database was keyed keep their unkeyed hashes; the keyring record seals
them (it vouches for the head of that older chain). Pure (the key comes in; `sovereign.keys` reads its
file): `store.writes.audit` writes rows, `problems` checks them, `unrecorded` finds decisions the trail
does not account for, `anchored` checks a head printed outside the database."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from fiw.errors import UserError
from sovereign.macs import GENESIS
from sovereign.macs import chain_hash as keyed_hash

if TYPE_CHECKING:
    from sovereign.macs import Key

FIELDS = ("recorded_at", "actor", "action", "subject", "effective_from", "reason", "details")
ANCHOR_MIN = 16  # hexadecimal digits of a head that identify it


def chain_hash(prev_hash: str, row: dict) -> str:
    """The unkeyed hash of rows recorded before the database was keyed."""
    return hashlib.sha256(json.dumps([prev_hash, *(row[f] for f in FIELDS)], ensure_ascii=False).encode()).hexdigest()


def row_hash(key: Key, prev_hash: str, row_id: int, row: dict) -> str:
    return keyed_hash(key, prev_hash, row_id, [row[f] for f in FIELDS])


def problems(rows: list[dict], key: Key, ring: dict) -> list[str]:
    """What is wrong with the chain, first problem first; empty when every row is as it was written."""
    found, prev, last_id = [], GENESIS, 0
    sealed = ring["sealed_through"]
    for row in rows:
        where = f"audit row {row['id']} ({row['recorded_at']}, {row['action']})"
        if row["id"] != last_id + 1:
            found.append(f"audit rows {last_id + 1}-{row['id'] - 1} were removed (the chain skips from {last_id} "
                         f"to {row['id']})")
        if row["prev_hash"] != prev:
            found.append(f"{where}: does not follow the row before it (a row was removed or replaced)")
        expected = chain_hash(row["prev_hash"], row) if row["id"] <= sealed else row_hash(key, row["prev_hash"],
                                                                                           row["id"], row)
        if not hmac.compare_digest(expected, row["hash"]):
            found.append(f"{where}: its content was edited after it was recorded")
        if row["id"] == sealed and row["hash"] != ring["head"]:
            found.append(f"{where}: the rows before the database was keyed were rewritten (the keyring sealed "
                         f"head {ring['head'][:16]})")
        prev, last_id = row["hash"], row["id"]
    if last_id < sealed:
        found.append(f"audit rows {last_id + 1}-{sealed} were removed (the keyring sealed the trail through row "
                     f"{sealed})")
    return found


def unrecorded(decisions: Iterable[dict], rows: list[dict]) -> list[dict]:
    """Decisions (publish, withdraw, override add, override revoke) that no audit row accounts for: a row
    naming it, the run that recorded it, or the keying that took it as found."""
    named: set[tuple[str, int]] = set()
    for row in rows:
        subject = row["subject"] or ""
        head = subject.split(" (")[0].split(":")[0]
        for prefix in ("list version ", "override "):
            if head.startswith(prefix) and head[len(prefix):].isdigit():
                named.add((row["action"], int(head[len(prefix):])))
        details = json.loads(row["details"] or "{}")
        for version in details.get("versions") or []:
            named.add(("publish", int(version)))
        for version in details.get("withdrawn") or []:
            named.add(("withdraw", int(version)))
        for kind, ids in (details.get("as_found") or {}).items():
            named.update((kind, int(i)) for i in ids)
    return [d for d in decisions if (d["kind"], d["id"]) not in named]


def describe_unrecorded(missing: list[dict]) -> str:
    kinds: dict[str, list[int]] = {}
    for d in missing:
        kinds.setdefault(d["kind"], []).append(d["id"])
    parts = [f"{kind} {', '.join(map(str, ids[:10]))}{' and more' if len(ids) > 10 else ''}"
             for kind, ids in kinds.items()]
    return (f"{len(missing)} decision(s) in the database have no row in the audit trail ({'; '.join(parts)}): "
            "rows were removed from the end of the trail, or decisions were written outside sovereign")


def review(rows: list[dict], key: Key, ring: dict | None, decisions: Iterable[dict]) -> list[str]:
    """Everything `audit verify` fails on, in words: rows edited, removed or re-chained, then the decisions the
    trail does not record."""
    assert ring is not None, "a database is keyed on opening"
    found = problems(rows, key, ring)
    missing = unrecorded(decisions, rows)
    return found + ([describe_unrecorded(missing)] if missing else [])


def anchored(rows: list[dict], head: str) -> tuple[dict | None, str | None]:
    """The row whose hash is the anchor `head` (the full hash, or at least its first 16 digits), or why not."""
    head = head.strip().lower().split(":")[-1]
    if len(head) < ANCHOR_MIN or any(c not in "0123456789abcdef" for c in head):
        raise UserError(f"--head {head!r}: expected the chain head as printed (at least {ANCHOR_MIN} hexadecimal "
                        "digits)")
    for row in rows:
        if row["hash"].startswith(head):
            return row, None
    return None, (f"the anchored head {head[:16]} is not in the audit trail: rows recorded up to it were removed "
                  "or the chain was rewritten since it was printed")
