"""FH's scores web page (latest edition only) -> tidy frame, slugs and edition.

The table is found by its header texts, not by class names (FH's markup changes between years).
Territories end in `*`; the edition and each country's slug come from the country links.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import polars as pl
from bs4 import BeautifulSoup

from fiw.errors import SourceError
from fiw.tidy import Errata, to_tidy
from fiw.words import STATUS_CODES

HEADERS = {"country": "country", "total score and status": "total", "political rights": "pr", "civil liberties": "cl"}
LINK = re.compile(r"/country/([^/?#]+)/freedom-world/(\d{4})")
TOTAL = re.compile(r"^(-?\d+)\s*(free|partly free|not free)$", re.I)
MIN_COUNTRIES = 190


@dataclass
class ScoresPage:
    edition: int
    frame: pl.DataFrame          # tidy, validated
    slugs: dict[str, str]        # FH name (cleaned) -> slug


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ")).replace("\u2212", "-").strip()


def _headers(table) -> list[str]:
    head = table.find("thead")
    cells = (head or table).find("tr")
    return [_text(c).lower() for c in cells.find_all(["th", "td"])] if cells else []


def parse_scores_page(html: bytes | str, url: str, errata: Errata | None = None) -> ScoresPage:
    soup = BeautifulSoup(html, "html.parser")
    tables = soup.find_all("table")
    found = None
    for table in tables:
        headers = _headers(table)
        if set(HEADERS) <= set(headers):
            found = table, headers
            break
    if found is None:
        seen = [_headers(t) for t in tables] or "no tables at all"
        raise SourceError(url, [f"the page's layout changed: expected a table with the headers Country, Total Score "
                                f"and Status, Political Rights, Civil Liberties; found {seen}"])
    table, headers = found
    index = {HEADERS[h]: i for i, h in enumerate(headers) if h in HEADERS}
    body = table.find("tbody") or table
    records: list[dict] = []
    problems: list[str] = []
    editions: Counter[int] = Counter()
    slugs: dict[str, str] = {}
    for n, tr in enumerate(body.find_all("tr"), start=1):
        cells = tr.find_all("td")
        if not cells:
            continue
        if len(cells) < len(headers):
            problems.append(f"table row {n}: expected {len(headers)} cells, found {len(cells)}")
            continue
        name = _text(cells[index["country"]])
        link = cells[index["country"]].find("a", href=True)
        match = LINK.search(str(link["href"])) if link else None
        if match:
            slugs[name.rstrip("*").strip()] = match.group(1)
            editions[int(match.group(2))] += 1
        total = TOTAL.match(_text(cells[index["total"]]))
        if not total:
            problems.append(f"table row {n}, column 'Total Score and Status': expected a score and a status "
                            f"such as '9 Not Free', found {_text(cells[index['total']])!r}")
            continue
        records.append({"row": n, "fh_name": name, "kind": "t" if name.endswith("*") else "c",
                        "total": total.group(1), "status_pub": STATUS_CODES[total.group(2).lower()],
                        "pr": _text(cells[index["pr"]]), "cl": _text(cells[index["cl"]])})
    if problems:
        raise SourceError(url, problems)
    if not records:
        raise SourceError(url, ["the scores table has no rows"])
    if not editions:
        raise SourceError(url, ["no country links of the form /country/<slug>/freedom-world/<edition>: cannot tell the edition"])
    if len(editions) > 1:
        raise SourceError(url, [f"country links name several editions: {dict(editions)}"])
    edition = next(iter(editions))
    raw = pl.DataFrame(records).with_columns(edition=pl.lit(str(edition)), row=pl.col("row").cast(pl.Int32))
    frame = to_tidy(raw, url, "scores table", errata)
    countries = frame.filter(pl.col("kind") == "c").height
    if countries < MIN_COUNTRIES:
        raise SourceError(url, [f"only {countries} countries in the table; FH rates about 195, expected at least "
                                f"{MIN_COUNTRIES}: the page is incomplete or its layout changed"])
    return ScoresPage(edition, frame.drop("row"), slugs)
