"""ISINs and LEIs: their checksums (python-stdnum) and what an ISIN's prefix does and does not say."""

from __future__ import annotations

import re

ISIN_SHAPE = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
LEI_SHAPE = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
INTERNATIONAL_PREFIXES = {"XS": "international (Euroclear / Clearstream)", "XC": "international", "EU": "EU institutions"}


def compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def looks_like_isin(value: str) -> bool:
    return bool(ISIN_SHAPE.match(compact(value)))


def looks_like_lei(value: str) -> bool:
    return bool(LEI_SHAPE.match(compact(value)))


def valid_isin(value: str) -> bool:
    from stdnum import isin

    return isin.is_valid(value)


def valid_lei(value: str) -> bool:
    from stdnum import lei

    return lei.is_valid(value)


def prefix_note(isin: str, country_name: str | None) -> str:
    """Why an ISIN's prefix cannot stand in for the issuer's country."""
    prefix = compact(isin)[:2]
    if prefix in INTERNATIONAL_PREFIXES:
        return f"its prefix {prefix} is {INTERNATIONAL_PREFIXES[prefix]} and says nothing of the issuer's country"
    agency = f" ({country_name})" if country_name else ""
    return f"its prefix {prefix} is the numbering agency's country{agency}, not necessarily the issuer's"
