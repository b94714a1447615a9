"""An FH country page (from edition 2017): status, PR and CL aggregates, the 25 indicators and Add Q.

Read from the page's text in order, so it does not depend on class names: a line `A1 ...` opens an
indicator, the next `n / 4` is its score; `Political Rights 31 / 40` and `Civil Liberties 11 / 60`
give the aggregates.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from fiw import methodology as m
from fiw.errors import SourceError
from fiw.methodology import STATUS_WORDS
from fiw.words import STATUS_CODES

CODE = re.compile(r"^(A[1-3]|B[1-4]|C[1-3]|D[1-4]|E[1-3]|F[1-4]|G[1-4]|Add Q)\b", re.I)
SCORE = re.compile(r"^(-?\d)\s*/\s*4$")
AGG = {"pr": re.compile(r"Political Rights\s*(-?\d+)\s*/\s*40", re.I),
       "cl": re.compile(r"Civil Liberties\s*(\d+)\s*/\s*60", re.I)}
STATUS = re.compile(r"\b(" + "|".join(sorted(STATUS_WORDS.values(), key=len, reverse=True)) + r")\b")


def parse_country_page(html: bytes | str, url: str) -> dict:
    soup = BeautifulSoup(html, "html.parser")
    lines = [re.sub(r"\s+", " ", s).replace("\u2212", "-").strip() for s in soup.get_text("\n").split("\n")]
    lines = [s for s in lines if s]
    text = " ".join(lines)
    out: dict = {}
    for key, pattern in AGG.items():
        found = pattern.search(text)
        out[key] = int(found.group(1)) if found else None
    status = STATUS.search(text)
    out["status_pub"] = STATUS_CODES[status.group(1).lower()] if status else None
    current = None
    for line in lines:
        code = CODE.match(line)
        if code:
            current = "add_q" if code.group(1).lower() == "add q" else code.group(1).upper()
            continue
        score = SCORE.match(line)
        if score and current and current not in out:
            out[current] = abs(int(score.group(1))) if current == "add_q" else int(score.group(1))
            current = None
    missing = [c for c in m.INDICATOR_COLUMNS if c not in out]
    if out["pr"] is None or out["cl"] is None or out["status_pub"] is None or missing:
        raise SourceError(url, [f"the country page's layout changed: expected status, 'Political Rights n / 40', "
                                f"'Civil Liberties n / 60' and the 25 indicators; missing "
                                f"{[k for k in ('status_pub', 'pr', 'cl') if out.get(k) is None] + missing}"])
    out.setdefault("add_q", 0)
    return out
