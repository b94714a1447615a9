"""FH's words and the product's fixed phrases, each written once. Stdlib only (on the lookup path)."""

from __future__ import annotations

from fiw.methodology import STATUS_WORDS

KIND_WORDS = {"c": "country", "t": "territory"}
COUNTS = ("Counts are of countries, on every surface (refresh, versions, the report, the public list): "
          "territories are listed apart and never counted")
STATUS_CODES = {word.lower(): code for code, word in STATUS_WORDS.items()} | {c.lower(): c for c in STATUS_WORDS}
"""What FH's files print (`Partly Free`, `pf`) -> the status code, case folded."""


def label(edition: int) -> str:
    """FH's own label for an edition: "Jan.-Feb. 1973", "1980", "1992-93", "1999-2000", "2026"."""
    if edition <= 1977:
        return f"Jan.-Feb. {edition}"
    if 1983 <= edition <= 2001:
        return f"{edition}-{edition + 1}" if edition == 1999 else f"{edition}-{(edition + 1) % 100:02d}"
    return str(edition)


def title(edition: int | str | None = None) -> str:
    """The edition as FH names it: an edition number is said with FH's label ("1992-93")."""
    if edition is None:
        return "Freedom in the World"
    return f"Freedom in the World {label(edition) if isinstance(edition, int) else edition}"


def attribution(edition: int | str | None = None) -> str:
    """The credit FH's licence asks for, on every report, page and answer."""
    return f"Source: Freedom House, {title(edition)}"


def not_rated(edition: int | str) -> str:
    """The reason an unrated country is answered with; FH's label (\"1989-90\") where there is one."""
    return f"Not rated in {title(edition)}"


def status_word(code: str | None) -> str:
    return STATUS_WORDS.get(code or "", "not rated")


def kind_word(code: str | None) -> str:
    return KIND_WORDS.get(code or "", "country")
