"""Rules every recorded decision obeys (publish, withdraw, override, revoke, tokens): stdlib only, so the
commands that record them never load the data stack."""

from __future__ import annotations

from datetime import date

from fiw.errors import UserError


def one_line(text: str | None, problem: str) -> str:
    """The stripped text; `problem` as the error when it is empty or spans lines (the audit log is read line by line)."""
    text = (text or "").strip()
    if not text or "\n" in text or "\r" in text:
        raise UserError(problem)
    return text


def check_backdate(what: str, effective: date, reason: str | None) -> str | None:
    """An effective date before today needs a recorded reason: the desk was told otherwise on those days."""
    reason = (reason or "").strip() or None
    if effective < date.today() and reason is None:
        raise UserError(f"{what} {effective} is before today ({date.today()}): the desk was answered from "
                        "other lists on those days; give --backdate-reason to record why")
    return reason
