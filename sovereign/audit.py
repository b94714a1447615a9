"""The audit trail's chain: each row's hash covers its content and the previous row's hash, so an edited
or removed row shows. Pure: `store.writes.audit` writes rows, `problems` checks them."""

from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64
FIELDS = ("recorded_at", "actor", "action", "subject", "effective_from", "reason", "details")


def chain_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256(json.dumps([prev_hash, *(row[f] for f in FIELDS)], ensure_ascii=False).encode()).hexdigest()


def problems(rows: list[dict]) -> list[str]:
    """What is wrong with the chain, first problem first; empty when every row is as it was written."""
    found, prev, last_id = [], GENESIS, 0
    for row in rows:
        where = f"audit row {row['id']} ({row['recorded_at']}, {row['action']})"
        if row["id"] != last_id + 1:
            found.append(f"audit rows {last_id + 1}-{row['id'] - 1} were removed (the chain skips from {last_id} "
                         f"to {row['id']})")
        if row["prev_hash"] != prev:
            found.append(f"{where}: does not follow the row before it (a row was removed or replaced)")
        if chain_hash(row["prev_hash"], row) != row["hash"]:
            found.append(f"{where}: its content was edited after it was recorded")
        prev, last_id = row["hash"], row["id"]
    return found
