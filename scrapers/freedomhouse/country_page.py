"""An FH country page (from edition 2017): status, PR and CL aggregates, the 25 indicators and Add Q.

Read from the page's text, not its class names, in whichever way the page prints a score: "2 / 4",
"2 4", or twice over as "2.00 2 4.00 4"; aggregates as "Political Rights -2 / 40" or "PR Political
Rights -2 40"; Add Q as a bare negative number. A line that starts with an indicator code opens that
indicator; its score is the number after its question. The "Last Year's Score & Status" block is cut
out first, so last year's status is never read as this year's.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from fiw import methodology as m
from fiw.errors import SourceError
from fiw.methodology import STATUS_WORDS
from fiw.words import STATUS_CODES

CODE = re.compile(r"^(A[1-3]|B[1-4]|C[1-3]|D[1-4]|E[1-3]|F[1-4]|G[1-4]|Add Q)\b\.?", re.I)
SCORE = re.compile(r"^[\s:]*(-?\d+)(?:\.\d+)?(?:\s+-?\d+)?(?:\s*/\s*|\s+)?(?:4(?:\.0+)?(?:\s+4)?)?(?!\d)")
AGG = {"pr": re.compile(r"Political Rights:?\s*(-?\d+)\s*(?:/\s*)?40\b", re.I),
       "cl": re.compile(r"Civil Liberties:?\s*(\d+)\s*(?:/\s*)?60\b", re.I)}
STATUS = re.compile(r"\b(" + "|".join(sorted(STATUS_WORDS.values(), key=len, reverse=True)) + r")\b")
SCORED_STATUS = re.compile(r"(?<![\d.])-?\d{1,3}\s*(?:/\s*)?100\s+(Not Free|Partly Free|Free)\b")
LAST_YEAR = re.compile(r"Last Year'?s Score\s*(?:&|and)\s*Status\s*:?\s*(?:-?\d+\s*(?:/\s*)?(?:100)?\s*)?"
                       r"(?:Not Free|Partly Free|Free)?", re.I)


def _lines(html: bytes | str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    for node in soup(["script", "style", "noscript"]):
        node.decompose()
    lines = [re.sub(r"\s+", " ", s).replace("\u2212", "-").replace("\u2019", "'").strip()
             for s in soup.get_text("\n").split("\n")]
    return [s for s in lines if s]


def _indicators(lines: list[str]) -> dict[str, int]:
    """Each indicator's text runs from its code to the next code; the score follows its question."""
    blocks: list[tuple[str, str]] = []
    for line in lines:
        code = CODE.match(line)
        if code:
            name = "add_q" if code.group(1).lower() == "add q" else code.group(1).upper()
            blocks.append((name, line[code.end():]))
        elif blocks:
            blocks[-1] = (blocks[-1][0], f"{blocks[-1][1]} {line}")
    out: dict[str, int] = {}
    for name, text in blocks:
        if name in out:
            continue
        after = text.split("?", 1)[1] if "?" in text else text
        score = SCORE.match(after)
        if not score:
            continue
        value = int(score.group(1))
        if name == "add_q" and -4 <= value <= 4:
            out[name] = abs(value)
        elif 0 <= value <= 4:
            out[name] = value
    return out


def parse_country_page(html: bytes | str, url: str) -> dict:
    lines = _lines(html)
    text = LAST_YEAR.sub(" ", " ".join(lines))
    out: dict = {}
    for key, pattern in AGG.items():
        found = pattern.search(text)
        out[key] = int(found.group(1)) if found else None
    status = SCORED_STATUS.search(text) or STATUS.search(text)  # the status beside its score before any stray word
    out["status_pub"] = STATUS_CODES[status.group(status.lastindex or 1).lower()] if status else None
    indicators = _indicators([LAST_YEAR.sub("", line) for line in lines])
    out |= {k: v for k, v in indicators.items()}
    missing = [c for c in m.INDICATOR_COLUMNS if c not in out]
    if out["pr"] is None or out["cl"] is None or out["status_pub"] is None or missing:
        raise SourceError(url, [f"the country page's layout changed: expected status, 'Political Rights n / 40', "
                                f"'Civil Liberties n / 60' and the 25 indicators; missing "
                                f"{[k for k in ('status_pub', 'pr', 'cl') if out.get(k) is None] + missing}"])
    out.setdefault("add_q", 0)
    pr = sum(out[c] for sub in "ABC" for c in m.INDICATORS[sub]) - out["add_q"]
    cl = sum(out[c] for sub in "DEFG" for c in m.INDICATORS[sub])
    if (pr, cl) != (out["pr"], out["cl"]):
        raise SourceError(url, [f"the indicators add up to PR {pr} and CL {cl}, but the page prints PR {out['pr']} and "
                                f"CL {out['cl']}: a score was misread"])
    return out
