"""Rules every recorded decision obeys (publish, withdraw, override, revoke, tokens): stdlib only, so the
commands that record them never load the data stack."""

from __future__ import annotations

import unicodedata
from datetime import date

from fiw.errors import UserError
from sovereign import clock

JOINERS = set("\u200c\u200d")  # Persian, Indic scripts and emoji need them
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unprintable(text: str) -> str | None:
    """The first character a person reading the text would not see as what it is, named (U+001B), or None:
    control characters (an ANSI escape rewrites a terminal), line and paragraph separators (U+2028 splits a
    log line), bidirectional overrides (U+202E shows a name backwards) and the other invisible format
    characters (a zero-width space makes a name look like another). The joiners scripts need (ZWJ, ZWNJ) pass."""
    for c in text:
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in JOINERS or c in BIDI:
            return f"U+{ord(c):04X} ({unicodedata.name(c, 'a control character').lower()})"
    return None


def one_line(text: str | None, problem: str) -> str:
    """The stripped text; `problem` as the error when it is empty or spans lines (the audit log is read line by line)."""
    text = (text or "").strip()
    if not text or "\n" in text or "\r" in text:
        raise UserError(problem)
    bad = unprintable(text)
    if bad:
        raise UserError(f"{problem}: it carries {bad}, which a reader would not see; type it again as plain text")
    return text


def check_backdate(what: str, effective: date, reason: str | None) -> str | None:
    """An effective date before today needs a recorded reason: the desk was told otherwise on those days."""
    reason = one_line(reason, "--backdate-reason: one line") if reason and reason.strip() else None
    if effective < clock.today() and reason is None:
        raise UserError(f"{what} {effective} is before today ({clock.today()}): the desk was answered from "
                        "other lists on those days; give --backdate-reason to record why")
    return reason
