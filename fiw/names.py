"""How an FH name is compared: one rule for parsing FH's files and for what the desk types.

Stdlib only, so desk lookups can use it without loading polars.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")


def clean_name(name: str | None) -> str | None:
    """Curly apostrophes straightened, spaces folded, FH's territory `*` dropped."""
    if name is None:
        return None
    name = name.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return _SPACES.sub(" ", name).strip().rstrip("*").strip()


def fold(name: str) -> str:
    """The key two spellings share when they name the same thing (case ignored)."""
    return (clean_name(name) or "").casefold()
