"""How an FH name is compared: one rule for parsing FH's files and for what the desk types.

Stdlib only, so desk lookups can use it without loading polars.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero-width spaces and joiners
TERRITORY_MARK = re.compile(r"\s*[*\u2020\u2021]+$")  # FH's `*`, or a dagger a page might use instead


def clean_name(name: str | None) -> str | None:
    """Composed accents (NFC), soft hyphens and zero-width characters dropped, curly apostrophes straightened,
    spaces (non-breaking too) folded, FH's territory mark (`*`, or a dagger) dropped."""
    if name is None:
        return None
    name = unicodedata.normalize("NFC", _INVISIBLE.sub("", name))
    name = name.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return TERRITORY_MARK.sub("", _SPACES.sub(" ", name).strip()).strip()


def fold(name: str) -> str:
    """The key two spellings share when they name the same thing (case ignored)."""
    return (clean_name(name) or "").casefold()
