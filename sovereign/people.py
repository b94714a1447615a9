"""People behind decisions: a register (name, e-mail, role), matched by a normalised key, so that "Anna de
Vries", "anna de vries " and "Аnna de Vries" (a Cyrillic А) are one person, and two tokens of one person are
one approver. Every approval names a person in the register, whatever the count required; the shared
SOVEREIGN_ADMIN_TOKEN is nobody in particular: it never approves, and no person may take its label. Stdlib
only: the deciding commands stay light."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from fiw.errors import NotFound, UserError
from sovereign.decisions import one_line
from sovereign.store import reads, writes

if TYPE_CHECKING:
    import sqlite_utils

    from sovereign.store.reads import Connection

SHARED = "admin (shared token)"
ROLES = ("committee", "desk", "ops")

# Letters of other scripts that read as Latin ones (after case folding), from Unicode's confusables
# (UTS #39) for the Cyrillic and Greek letters a name can be spoofed with; dashes and quotes folded alike.
CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "ë", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "ï", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ү": "y", "һ": "h", "ɡ": "g", "ı": "i", "ɑ": "a",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ζ": "z", "ϲ": "c",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'",
})


def readable(text: str | None, what: str) -> str:
    """One line of text a person reads, by the one rule of `decisions.unprintable`: no control characters, line
    or paragraph separators, bidi overrides or invisible format characters (they make a name look like another
    in a terminal or a page); the joiners scripts need pass."""
    return one_line(text, f"{what}: give it on one line")


def key(name: str) -> str:
    """The key two spellings of one person share: NFKC, case folded, look-alike letters folded, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", name).casefold().translate(CONFUSABLES)
    return " ".join(unicodedata.normalize("NFKC", folded).split())


SHARED_KEYS = {key(SHARED), key("admin"), key("shared token")}


def add(db: sqlite_utils.Database, name: str, email: str | None = None, role: str | None = None,
        actor: str = "") -> dict:
    name = readable(name, "a person's name")
    if key(name) in SHARED_KEYS:
        raise UserError(f"{name!r} is the shared admin token's label, not a person: give the person's own name")
    if role is not None and role not in ROLES:
        raise UserError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    email = readable(email, "--email") if email else None
    known = reads.person(db, key(name))
    if email:
        clash = next((p for p in reads.people(db) if (p["email"] or "").strip().casefold() == email.casefold()
                      and p["key"] != key(name)), None)
        if clash is not None:
            raise UserError(f"--email {email!r} is already {clash['name']}'s: the console signs a person in by their "
                            "e-mail, so no two people share one")
    if known is not None:
        given = {"email": email, "role": role}
        missing = {k: v for k, v in given.items() if v and not known[k]}
        differing = [f"--{k} {known[k]!r}" for k, v in given.items() if v and known[k] and known[k].casefold() != v.casefold()]
        if differing or not missing:
            raise UserError(f"{name!r} is already in the register as {known['name']!r} (the same person once case, "
                            "spaces and look-alike letters are set aside)"
                            + (f", with {' and '.join(differing)}" if differing else ""))
        with db.atomic():  # a token holder added by `tokens add` gets the e-mail and role they lacked
            writes.update_person(db, known["id"], missing)
            writes.audit(db, actor or known["name"], "person update", known["name"], None, None, missing)
        return dict(known) | missing | {"updated": sorted(missing)}
    row = {"name": name, "key": key(name), "email": email, "role": role, "recorded_by": actor or None}
    with db.atomic():
        person_id = writes.add_person(db, row)
        writes.audit(db, actor or name, "person add", name, None, None, {"email": email, "role": role})
    return row | {"id": person_id}


def remove(db: sqlite_utils.Database, name: str, actor: str = "") -> dict:
    known = reads.person(db, key(readable(name, "a person's name")))
    if known is None:
        raise NotFound(f"{name!r} is not in the register of people (`sovereign people list`)")
    with db.atomic():
        writes.remove_person(db, known["id"], actor or "unknown")
        writes.audit(db, actor or known["name"], "person remove", known["name"], None, None, {})
    return dict(known)


def listed(conn: Connection) -> list[dict]:
    tokens: dict[str, int] = {}
    for t in reads.tokens(conn):
        if not t["revoked_at"]:
            tokens[key(t["person"])] = tokens.get(key(t["person"]), 0) + 1
    return [{"name": p["name"], "email": p["email"], "role": p["role"], "tokens": tokens.get(p["key"], 0),
             "created_at": p["created_at"], "recorded_by": p["recorded_by"]} for p in reads.people(conn)]


def token_holder(db: sqlite_utils.Database, name: str, actor: str = "") -> str:
    """The person a new token is for, as the register spells them; someone new is added to it (token holders
    are people). The shared token's label is refused."""
    name = readable(name, "the person's name")
    if key(name) in SHARED_KEYS:
        raise UserError(f"{name!r} is the shared admin token's label (SOVEREIGN_ADMIN_TOKEN), not a person: a "
                        "personal token names its holder")
    known = reads.person(db, key(name))
    if known is not None:
        return str(known["name"])
    return str(add(db, name, actor=actor)["name"])


def approver(conn: Connection, name: str, required: int) -> tuple[str, str]:
    """(name as the register spells it, key) of who approves. An approver is always a person the product knows
    (the register, or a token holder), whatever the number of approvals required: a free-text name or the shared
    token names nobody the record can hold to the decision."""
    name = readable(name, "the approver's name")
    k = key(name)
    if k in SHARED_KEYS:
        raise UserError("the shared admin token is nobody in particular and cannot approve"
                        + (f" (one of {required} approvers)" if required > 1 else "")
                        + ": approve with a personal token (`sovereign tokens add NAME`) of a person in the register "
                        "(`sovereign people add NAME`)")
    known = reads.person(conn, k)
    if known is None:
        raise UserError(f"{name!r} is not in the register of people: approvers are people the product knows, "
                        f"whatever the count ({required} approval{'' if required == 1 else 's'} required); add them "
                        "with `sovereign people add NAME --role committee`, then approve again")
    return str(known["name"]), k


def spelled(conn: Connection, name: str) -> str:
    """Who decided a tightening (an override added), as the register spells them when they are in it; a tightening
    needs no approval, so a name outside the register (the committee as a body) stays as given."""
    name = readable(name, "who decided")
    known = reads.person(conn, key(name))
    return str(known["name"]) if known is not None else name


class AlreadyApproved(UserError):
    """The same person approving the same thing for the same date again: it never counts as another approval, and
    saying nothing would let them believe it did. `who`, `subject` and `day` let a page say it in its language."""

    def __init__(self, who: str, subject: str, day: str, kind: str, version: int | None = None,
                 override: int | None = None):
        self.who, self.subject, self.day, self.kind, self.version, self.override = who, subject, day, kind, version, override
        super().__init__(f"{who} has already approved {subject} for {day}: the same person approving the same date "
                         "again counts once; a different person approving the same date puts it in force")


def record_approval(db: sqlite_utils.Database, table: str, current: list, subject: dict, name: str, k: str,
                    day: str, os_user: str | None) -> tuple[list[str], str | None]:
    """Record one person's approval of `subject` for `day` in `table` (approvals or loosenings); an approval by the
    same person for another day replaces theirs, visibly; for the same day again it is refused (AlreadyApproved),
    for the CLI, the API and the console alike. Returns the names agreeing on `day` and the day an
    earlier approval of this person moved from (None if it did not move)."""
    day_column = "effective_from" if table == "approvals" else "revoked_from"
    moved = None
    mine = next((a for a in current if a["person_key"] == k), None)
    if mine is not None:
        if mine[day_column] == day:
            if table == "approvals":
                raise AlreadyApproved(name, f"list version {subject['version_id']}", day, "publish",
                                      version=subject["version_id"])
            raise AlreadyApproved(name, f"revoking override {subject['override_id']}", day, "revoke",
                                  override=subject["override_id"])
        writes.replace_approval(db, table, mine["id"])
        moved = mine[day_column]
    row = subject | {"approved_by": name, "person_key": k, "os_user": os_user, day_column: day}
    if table == "approvals":
        writes.add_approval(db, row["version_id"], name, k, day, os_user, row.get("minutes"))
    else:
        writes.add_loosening(db, row)
    agreeing = [a["approved_by"] for a in current if a[day_column] == day and a["person_key"] != k] + [name]
    return agreeing, moved
