"""The chain's head and a list's digest, printed where the database cannot reach them (the approval pack,
the public list, notices, the log), so a trail cut short or re-chained whole, or a published list
rewritten, is caught against what was printed: `sovereign audit verify --head H`, `sovereign verify
--digest V:D`."""

from __future__ import annotations

from typing import Any

from fiw.errors import UserError
from sovereign.store import reads


def anchor(conn: Any, version_id: int | None = None) -> dict:
    """The trail's head now and, for a list version, the keyed digest it is proved against; `line` for print."""
    last = reads.last_audit(conn)
    head, row = (last["hash"], last["id"]) if last else ("0" * 64, 0)
    digest = reads.version_check(conn, version_id) if version_id is not None else None
    line = f"Audit trail head {head} (row {row})"
    if digest:
        line += f"; list version {version_id} digest {version_id}:{digest}"
    return {"audit_head": head, "audit_row": row, "list_version": version_id, "list_digest": digest,
            "line": line + f". Check: sovereign audit verify --head {head[:16]}"
                    + (f"; sovereign verify --digest {version_id}:{digest[:16]}" if digest else "") + "."}


def digest_problem(conn: Any, spec: str) -> str | None:
    """Why list version V no longer has the digest D printed for it (`V:D`, D at least 16 digits), or None."""
    version_id, _, printed = spec.strip().lower().partition(":")
    if not version_id.isdigit() or len(printed) < 16 or any(c not in "0123456789abcdef" for c in printed):
        raise UserError(f"--digest {spec!r}: expected VERSION:DIGEST as printed (at least 16 hexadecimal digits)")
    version = reads.version(conn, int(version_id))
    if version is None:
        return f"list version {version_id}, anchored as printed, is no longer in the database"
    if not reads.version_digest(conn, version).startswith(printed):
        return (f"list version {version_id} is not the list whose digest was printed ({printed[:16]}): its decision "
                "or entries were rewritten since")
    return None
