"""ISINs and LEIs: their checksums and what an ISIN's prefix does and does not say.

The checksums are ISO 6166's and ISO 17442's, a few lines each, and give python-stdnum's answer for every
ASCII input (tests/test_resolver.py holds them to it over every prefix; stdnum also takes an LEI of any
length, ISO 17442 says 20): importing stdnum loads ssl and pydoc, which cost `check` on an ISIN about as
much as the rest of its start-up."""

from __future__ import annotations

import re
from functools import cache

ISIN_SHAPE = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
ISIN_IN_TEXT = r"\b([A-Z]{2}[A-Z0-9]{9}[0-9])\b"  # a word of an ISIN's shape in a longer text
LEI_SHAPE = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
CODE_SHAPE = f"{ISIN_SHAPE.pattern}|{LEI_SHAPE.pattern}"  # either, for a column of codes read by polars or Spark
INTERNATIONAL_PREFIXES = {"XS": "international (Euroclear / Clearstream)", "XC": "international", "EU": "EU institutions"}
# Prefixes beside the current ISO 3166-1 codes: substitute and internal numbering agencies, Kosovo's temporary
# code, and two withdrawn codes whose ISINs still circulate (Netherlands Antilles, Serbia and Montenegro).
AGENCY_PREFIXES = frozenset({"EU", "QS", "QT", "XA", "XB", "XC", "XD", "XF", "XK", "XS", "AN", "CS"})


def compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def looks_like_isin(value: str) -> bool:
    return bool(ISIN_SHAPE.match(compact(value)))


def looks_like_lei(value: str) -> bool:
    return bool(LEI_SHAPE.match(compact(value)))


def looks_like_code(value: str) -> bool:
    return looks_like_isin(value) or looks_like_lei(value)


@cache
def isin_prefixes() -> frozenset[str]:
    """The current ISO 3166-1 codes (data/codes.csv, from pycountry) and the agencies' own prefixes."""
    import csv

    from sovereign import paths

    with open(paths.CODES, newline="", encoding="utf-8") as f:
        return AGENCY_PREFIXES | {r["iso2"] for r in csv.DictReader(f) if len(r["iso2"]) == 2}


def _digits(code: str) -> str:
    """Letters as numbers, A=10 to Z=35, as both standards count them."""
    return "".join(str(int(c, 36)) for c in code)


def _plain(value: str, separators: str) -> str | None:
    code = "".join(c for c in value if c not in separators).strip().upper()
    return code if code.isascii() and code.isalnum() else None


def valid_isin(value: str) -> bool:
    """Two letters of a numbering agency, nine characters and a check digit: Luhn's over the digits of the rest,
    every second one doubled from the right."""
    code = _plain(value, " ")
    if code is None or len(code) != 12 or code[:2] not in isin_prefixes():
        return False
    total = sum(int(d) for i, n in enumerate(reversed(_digits(code[:-1]))) for d in str(int(n) * (2 - i % 2)))
    return str(-total % 10) == code[-1]


def isin_inside(text: str) -> str | None:
    """The one ISIN inside a longer security string (`XS2100000012 Govt`) that passes the check digit; None when
    there is none, or more than one."""
    found = {m for m in re.findall(ISIN_IN_TEXT, text.upper()) if valid_isin(m)}
    return found.pop() if len(found) == 1 else None


def valid_lei(value: str) -> bool:
    """Eighteen characters and two check digits: the whole, as a number, leaves 1 divided by 97."""
    code = _plain(value, " -")
    return code is not None and len(code) == 20 and int(_digits(code)) % 97 == 1


def prefix_note(isin: str, country_name: str | None) -> str:
    """Why an ISIN's prefix cannot stand in for the issuer's country."""
    prefix = compact(isin)[:2]
    if prefix in INTERNATIONAL_PREFIXES:
        return f"its prefix {prefix} is {INTERNATIONAL_PREFIXES[prefix]} and says nothing of the issuer's country"
    agency = f" ({country_name})" if country_name else ""
    return f"its prefix {prefix} is the numbering agency's country{agency}, not necessarily the issuer's"
