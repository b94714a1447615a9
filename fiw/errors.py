"""Errors a user can act on. The CLI prints them in one or a few lines and exits 2, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or usage: exit code 2."""

    exit_code = 2


class NotFound(UserError):
    """Well-formed input that names nothing we have (no such country, edition, version): HTTP 404."""


class Unavailable(UserError):
    """The database cannot be read right now (missing, replaced mid-way, locked, damaged): HTTP 503."""


class SourceError(UserError):
    """A file or page that does not hold what FH publishes; names where and what was expected."""

    MAX_SHOWN = 25

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        shown = problems[: self.MAX_SHOWN]
        more = len(problems) - len(shown)
        lines = [f"{source}: {p}" for p in shown]
        if more:
            lines.append(f"{source}: ... and {more} more problem(s)")
        super().__init__("\n".join(lines))


class UnknownNames(UserError):
    """FH names the country mapping does not know. The run stops rather than guess."""

    def __init__(self, names: list[tuple[str, str]], source: str = ""):
        self.names = names
        listed = ", ".join(f"{n!r} ({'territory' if k == 't' else 'country'})" for n, k in names)
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}{len(names)} name(s) not in the country mapping (data/countries.csv): {listed}. "
            "Add each to the mapping with its ISO codes, then run again."
        )
