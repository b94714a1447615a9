"""FH's scores web pages (latest edition only) -> tidy frame, slugs and the signals that name the edition.

Two pages carry the table: `/countries/freedom-world/scores` (FIW only) and `/country/scores` (Global
Freedom beside FH's other products). Tables are found by their visible header words, never by class
names: Drupal's table sort hides "Sort descending" inside the active header, products FH adds are
extra columns, and a place a product does not rate says "Not covered". Territories are marked by a
trailing `*`, by a label, or by a table of their own. The edition is not printed in the table: it
comes from the country links (`/country/<slug>/freedom-world/<edition>`), from a heading that names
it, or, when names link to the country hub (`/country/<slug>`), from the hub pages, which the caller
fetches (`hub_edition`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl
from bs4 import BeautifulSoup, Tag

from fiw.errors import SourceError
from fiw.names import TERRITORY_MARK, clean_name
from fiw.tidy import Errata, to_tidy
from fiw.words import STATUS_CODES

COLUMNS = {
    "country": ("country", "country/territory", "country or territory", "countries", "territory", "territories",
                "countries and territories", "name"),
    "total": ("total score and status", "global freedom", "global freedom score", "global freedom score and status",
              "freedom in the world", "total score", "total"),
    "pr": ("political rights",),
    "cl": ("civil liberties",),
    "status": ("status", "global freedom status", "freedom status"),
}
DATA_GROUPS = {"country": ("country", "name"), "total": ("fiw", "global"), "pr": ("pr", "political"),
               "cl": ("cl", "civil")}
LINK = re.compile(r"/country/([^/?#]+)/freedom-world/(\d{4})")
HUB = re.compile(r"/country/([^/?#]+)/?$")
TOTAL = re.compile(r"^(-?\d+)\s*(?:/\s*100)?\s*(free|partly free|not free)$", re.I)
NUMBER = re.compile(r"^(-?\d+)(?:\s*/\s*100)?$")
STATUS_WORD = re.compile(r"\b(not free|partly free|free)\b", re.I)
NAMED_EDITION = re.compile(r"Freedom in the World,?\s+((?:19|20)\d\d)\b", re.I)
HIDDEN = re.compile(r"visually-?hidden|sr-only|element-invisible|screen-reader", re.I)
SORT_TEXT = re.compile(r"\b(sort (ascending|descending)|sorted (ascending|descending))\b", re.I)
NOT_COVERED = re.compile(r"^(not covered|not rated|n/a)$", re.I)
TERRITORY_LABEL = re.compile(r"^\(?territory\)?$", re.I)
MIN_COUNTRIES = 190
OTHER_PRODUCTS = re.compile(r"internet freedom|freedom on the net|fotn|nations in transit|\bnit\b|democracy", re.I)


@dataclass
class ScoresPage:
    frame: pl.DataFrame                     # tidy, validated
    edition: int
    slugs: dict[str, str]                   # FH name (cleaned) -> slug
    not_covered: list[str] = field(default_factory=list)
    signals: dict[str, int] = field(default_factory=dict)   # where the edition came from -> edition


@dataclass
class ScoresTable:
    """What the page says, before the edition is known."""
    records: list[dict]
    slugs: dict[str, str]
    link_editions: Counter[int]
    named_editions: set[int]
    hubs: dict[str, str]                    # FH name -> hub slug (names link to /country/<slug>)
    not_covered: list[str]
    columns: tuple[str, ...] = ()           # what the header names: country, total, and pr/cl when printed

    @property
    def has_pr_cl(self) -> bool:
        return "pr" in self.columns and any(r["pr"] for r in self.records)


def _visible(node: Tag) -> str:
    """The words a reader sees: hidden helper text (sort hints, screen-reader spans) left out."""
    parts = []
    for text in node.find_all(string=True):
        hidden = False
        for parent in text.parents:
            if parent is node:
                break
            classes = " ".join(parent.get("class") or []) if isinstance(parent, Tag) else ""
            if HIDDEN.search(classes) or (isinstance(parent, Tag) and (parent.has_attr("hidden")
                                                                       or parent.get("aria-hidden") == "true")):
                hidden = True
                break
        if not hidden:
            parts.append(str(text))
    return SORT_TEXT.sub(" ", _clean(" ".join(parts))).strip()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2212", "-").replace("\u2013", "-")).strip()


def _header_rows(table: Tag) -> list[list[Tag]]:
    """The header's rows: all of `thead`, or the leading rows made only of `th` when there is none."""
    head = table.find("thead")
    rows: list[list[Tag]] = []
    for tr in (head or table).find_all("tr"):
        cells = tr.find_all(["th", "td"], recursive=False)
        if head is None and not (cells and all(c.name == "th" for c in cells)):
            break
        if cells:
            rows.append(list(cells))
    return rows


def _span(cell: Tag, attr: str) -> int:
    try:
        return max(1, min(int(str(cell.get(attr) or 1)), 50))
    except ValueError:
        return 1


def _positions(cells: list[Tag]) -> list[Tag]:
    """One entry per column a row covers: a cell spanning three columns stands in all three."""
    out: list[Tag] = []
    for cell in cells:
        out += [cell] * _span(cell, "colspan")
    return out


def _header_grid(rows: list[list[Tag]]) -> list[list[Tag]]:
    """Per column, the header cells above it from top to bottom (colspan and rowspan honoured): a grouped or
    two-row header ("Global Freedom" over "Total", "Political Rights", "Civil Liberties") read as one."""
    grid: dict[int, list[Tag]] = {}
    carried: dict[int, tuple[Tag, int]] = {}  # column -> (cell, rows it still covers) from a rowspan above
    for cells in rows:
        column, queue = 0, list(cells)
        while queue or any(c >= column for c in carried):
            if column in carried:
                cell, left = carried[column]
                grid.setdefault(column, []).append(cell)
                if left > 1:
                    carried[column] = (cell, left - 1)
                else:
                    del carried[column]
                column += 1
                continue
            if not queue:
                column += 1
                continue
            cell = queue.pop(0)
            for _ in range(_span(cell, "colspan")):
                grid.setdefault(column, []).append(cell)
                if _span(cell, "rowspan") > 1:
                    carried[column] = (cell, _span(cell, "rowspan") - 1)
                column += 1
    return [grid[c] for c in sorted(grid)]


def _words_column(words: str) -> str | None:
    for column, names in COLUMNS.items():
        if words in names:
            return column
    for column, start in (("total", "global freedom"), ("total", "total score"), ("pr", "political rights"),
                          ("cl", "civil liberties"), ("country", "country")):
        if words.startswith(start):  # "Global Freedom Score", "Political Rights (0-40)", "Country or Territory"
            return column
    return None


def _group_column(cell: Tag) -> str | None:
    """What a `data-group` attribute names; "fiw" alone is Freedom in the World's score (the total)."""
    group = str(cell.get("data-group") or "").lower()
    for column, keys in DATA_GROUPS.items():
        if group and any(k in group for k in keys) and not (column == "total" and re.search(r"pr|cl|political|civil",
                                                                                            group)):
            return column
    return None


def _cell_column(cell: Tag) -> str | None:
    """What a cell's own attributes name: a responsive table's `data-label`, else its `data-group`."""
    for attr in ("data-label", "data-title", "data-th"):
        if (label := cell.get(attr)) and (column := _words_column(_clean(str(label)).lower().rstrip(":"))):
            return column
    return _group_column(cell)


def _stack_column(stack: list[Tag], width: int) -> str | None:
    """A column's name from its header cells, the lowest (most specific) words first; a column under another
    product's heading (Internet Freedom's "Total Score") is not ours. A title row spanning the whole table names
    no column."""
    words = [_visible(c).lower().rstrip(":").strip() for c in stack if width < 2 or _span(c, "colspan") < width]
    if any(OTHER_PRODUCTS.search(w) for w in words):
        return None
    for w in reversed(words):
        if column := _words_column(w):
            return column
    return None


def _complete(index: dict[str, int]) -> bool:
    return {"country", "total"} <= set(index)


def _table_layout(table: Tag) -> dict[str, int] | None:
    """Which column holds what: every column the header names by its words; `data-group` attributes (of the
    header's cells, else of the first body row's) only fill what the words leave open."""
    grid = _header_grid(_header_rows(table))
    index: dict[str, int] = {}
    for position, stack in enumerate(grid):
        column = _stack_column(stack, len(grid))
        if column and column not in index:
            index[column] = position
    first = next((tr for tr in table.find_all("tr") if tr.find("td", recursive=False)), None)
    body = _positions(first.find_all(["td", "th"], recursive=False)) if first else []
    named = set(index.values())
    for position in range(max(len(grid), len(body))):
        if position in named:
            continue
        for cell in ([grid[position][-1]] if position < len(grid) else []) + (
                [body[position]] if position < len(body) else []):
            column = _cell_column(cell)
            if column and column not in index:
                index[column] = position
                break
    if ("pr" in index) != ("cl" in index):  # half the pair is a changed layout, never a page read without both
        return None
    return index if _complete(index) else None


def _other_product(table: Tag) -> bool:
    """A table of FH's other products (Freedom on the Net, Nations in Transit), by what names it: its caption,
    the heading before it, or the ids and classes of what holds it."""
    named = [_visible(n) for n in (table.find("caption"), table.find_previous(["h2", "h3", "h4"])) if n is not None]
    for parent in [table, *list(table.parents)[:4]]:
        if isinstance(parent, Tag):
            named.append(" ".join([str(parent.get("id") or ""), *(parent.get("class") or [])]).replace("-", " ")
                         .replace("_", " "))
    return any(OTHER_PRODUCTS.search(text) for text in named)


def _territory_table(table: Tag, index: dict[str, int]) -> bool:
    """A table of territories alone: its name column or its caption or heading says so."""
    grid = _header_grid(_header_rows(table))
    first = _visible(grid[index["country"]][-1]).lower() if len(grid) > index["country"] else ""
    if "territor" in first and "countr" not in first:
        return True
    caption = table.find("caption")
    heading = table.find_previous(["h2", "h3", "h4", "caption"])
    for node in (caption, heading):
        words = _visible(node).lower() if node else ""
        if "territor" in words and "countr" not in words:
            return True
    return False


def _take_territory_label(cell: Tag) -> bool:
    """A "Territory" badge beside the name: noted, and removed so the name stays the name."""
    found = False
    for text in cell.find_all(string=TERRITORY_LABEL):
        text.replace_with("")
        found = True
    for node in cell.find_all(class_=re.compile("territory", re.I)):
        found = True
        if not _visible(node) or TERRITORY_LABEL.match(_visible(node)):
            node.extract()
    return found


def _is_territory_row(tr: Tag) -> bool:
    classes = " ".join(tr.get("class") or []) + " " + str(tr.get("data-type") or tr.get("data-kind") or "")
    return bool(re.search(r"territor", classes, re.I))


def _status_of(cell: Tag) -> str | None:
    """The status word in the cell, or failing that in a class or title (a colour chip with no words)."""
    found = STATUS_WORD.search(_visible(cell))
    if found:
        return found.group(1).lower()
    for node in [cell, *cell.find_all(True)]:
        for attr in ("title", "aria-label", "data-status", "class"):
            value = node.get(attr)
            text = " ".join(value) if isinstance(value, list) else str(value or "")
            hit = STATUS_WORD.search(text.replace("-", " ").replace("_", " "))
            if hit:
                return hit.group(1).lower()
    return None


def _total(cell: Tag, status_cell: Tag | None = None) -> tuple[str, str] | None:
    """The score and the status: both in the total's cell, or the status in a column of its own."""
    text = _visible(cell)
    match = TOTAL.match(text)
    if match:
        return match.group(1), match.group(2).lower()
    score = cell.find(class_=re.compile("score"))
    number = NUMBER.match(_visible(score)) if score else None
    number = number or re.match(r"^(-?\d+)\b", text)
    status = _status_of(cell) or (_status_of(status_cell) if status_cell is not None else None)
    return (number.group(1), status) if number and status else None


def _headings(soup: BeautifulSoup, tables: list[Tag]) -> list[Tag]:
    """What names the table: the page title and main heading, the tables' captions and the headings of the
    blocks that hold them (never a promotion elsewhere on the page)."""
    nodes: list[Tag] = [n for n in (soup.find("title"), soup.find("h1")) if n is not None]
    for table in tables:
        nodes += table.find_all("caption")
        block = table.find_parent(id=re.compile("^block-")) or table.parent
        if block is not None:
            nodes += block.find_all(["h2", "h3"])
    return nodes


def read_table(html: bytes | str, url: str) -> ScoresTable:
    """Every scores table on the page (countries and, where FH splits them, territories)."""
    soup = BeautifulSoup(html, "html.parser")
    tables = _scores_tables(soup, url)
    named = {int(y) for node in _headings(soup, [t for t, _ in tables]) for y in NAMED_EDITION.findall(_visible(node))}
    rows = _Rows()
    for number, (table, layout) in enumerate(tables, start=1):
        all_territories = _territory_table(table, layout)
        where = f"table {number}, row" if len(tables) > 1 else "table row"
        for n, tr in enumerate((table.find("tbody") or table).find_all("tr"), start=1):
            if tr.find("td", recursive=False):
                rows.read(tr, layout, all_territories, f"{where} {n}")
    if rows.problems:
        raise SourceError(url, rows.problems)
    if not rows.records:
        raise SourceError(url, ["the scores table has no rows"])
    return ScoresTable(rows.records, rows.slugs, rows.editions, named, rows.hubs, rows.not_covered,
                       tuple(tables[0][1]))


def _scores_tables(soup: BeautifulSoup, url: str) -> list[tuple[Tag, dict[str, int]]]:
    """The page's Freedom in the World scores tables, each with its column layout; none is the layout changed."""
    tables = [(t, found) for t in soup.find_all("table") if (found := _table_layout(t))]
    if len(tables) > 1:  # tabs of FH's other products beside Freedom in the World are not read
        tables = [(t, found) for t, found in tables if not _other_product(t)] or tables
    if not tables:
        seen = [[" / ".join(dict.fromkeys(_visible(c) for c in stack)) for stack in _header_grid(_header_rows(t))]
                for t in soup.find_all("table")] or "no tables at all"
        raise SourceError(url, [f"the page's layout changed: expected a table with the headers Country and Total "
                                f"Score and Status (or Global Freedom); found {seen}"])
    return tables


@dataclass
class _Rows:
    """What the tables' rows say, gathered as they are read: the score records, where each name links (a country
    report, whose URL names the edition, or a country hub), the rows FH does not cover, and every row that could
    not be read (all are said at once)."""
    records: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    editions: Counter[int] = field(default_factory=Counter)
    slugs: dict[str, str] = field(default_factory=dict)
    hubs: dict[str, str] = field(default_factory=dict)
    not_covered: list[str] = field(default_factory=list)

    def read(self, tr: Tag, index: dict[str, int], all_territories: bool, at: str) -> None:
        cells = _positions(tr.find_all(["td", "th"], recursive=False))
        width = max(index.values()) + 1
        if len(cells) < width:
            self.problems.append(f"{at}: expected at least {width} cells, found {len(cells)}")
            return
        name_cell = cells[index["country"]]
        territory = all_territories or _take_territory_label(name_cell) or _is_territory_row(tr)
        name = _visible(name_cell)
        territory = territory or bool(TERRITORY_MARK.search(name))
        clean = clean_name(name) or ""
        link = name_cell.find("a", href=True) or cells[index["total"]].find("a", href=True)
        self.linked(clean, str(link["href"]) if link else "")
        total_text = _visible(cells[index["total"]])
        if NOT_COVERED.match(total_text):
            self.not_covered.append(clean)
            return
        total = _total(cells[index["total"]], cells[index["status"]] if "status" in index else None)
        if not total:
            self.problems.append(f"{at} ({clean}), column 'Total Score and Status': expected a score and a "
                                 f"status such as '9 Not Free', found {total_text!r}")
            return
        self.records.append({"row": len(self.records) + 1, "fh_name": clean, "kind": "t" if territory else "c",
                             "total": total[0], "status_pub": STATUS_CODES[total[1]],
                             "pr": _visible(cells[index["pr"]]) if "pr" in index else None,
                             "cl": _visible(cells[index["cl"]]) if "cl" in index else None})

    def linked(self, name: str, href: str) -> None:
        if match := LINK.search(href):
            self.slugs[name] = match.group(1)
            self.editions[int(match.group(2))] += 1
        elif match := HUB.search(href.split("?")[0].split("#")[0]):
            self.hubs[name] = match.group(1)


def edition_of(table: ScoresTable, url: str, hub_editions: dict[str, int] | None = None) -> tuple[int, dict[str, int]]:
    """The edition every signal names; signals that disagree stop here, each named."""
    signals: dict[str, int] = {}
    problems = []
    if len(table.link_editions) > 1:
        problems.append(f"country links name several editions: {dict(table.link_editions)}")
    elif table.link_editions:
        signals["country links"] = next(iter(table.link_editions))
    if hub_editions:
        values = set(hub_editions.values())
        if len(values) > 1:
            problems.append(f"country hub pages name several editions: {hub_editions}")
        else:
            signals[f"country hub pages ({', '.join(sorted(hub_editions))})"] = values.pop()
    named = sorted(table.named_editions)
    linked = set(signals.values())
    if len(linked) == 1 and linked <= set(named):
        signals["page heading"] = linked.pop()
    elif len(named) == 1:
        signals["page heading"] = named[0]
    elif named:
        problems.append(f"the page's headings name editions {named}, none of them the one its links name "
                        f"({', '.join(str(e) for e in sorted(linked)) or 'none'})")
    if len(set(signals.values())) > 1:
        problems.append("the signals for the edition disagree: "
                        + "; ".join(f"{where} say {edition}" for where, edition in signals.items()))
    if problems:
        raise SourceError(url, problems + ["nothing was stored: check the page by hand, or import FH's workbook"])
    if not signals:
        raise SourceError(url, ["no country links of the form /country/<slug>/freedom-world/<edition>, no hub links "
                                "and no heading naming the edition: cannot tell the edition"])
    return next(iter(signals.values())), signals


def parse_scores_page(html: bytes | str, url: str, errata: Errata | None = None,
                      hub_editions: dict[str, int] | None = None, table: ScoresTable | None = None,
                      edition: int | None = None) -> ScoresPage:
    """The page as a tidy frame; `edition` is an operator's word for it (an archived page accepted after
    review), which takes the place of the page's own signals."""
    table = table or read_table(html, url)
    if edition is None:
        edition, signals = edition_of(table, url, hub_editions)
    else:
        signals = {"the operator": edition}
    raw = pl.DataFrame(table.records, schema={"row": pl.Int32, "fh_name": pl.String, "kind": pl.String,
                                              "total": pl.String, "status_pub": pl.String, "pr": pl.String,
                                              "cl": pl.String})
    frame = to_tidy(raw.with_columns(edition=pl.lit(str(edition))), url, "scores table", errata)
    countries = frame.filter(pl.col("kind") == "c").height
    if countries < MIN_COUNTRIES:
        raise SourceError(url, [f"only {countries} countries in the table; FH rates about 195, expected at least "
                                f"{MIN_COUNTRIES}: the page is incomplete or its layout changed"])
    slugs = table.slugs or table.hubs
    return ScoresPage(frame.drop("row"), edition, slugs, table.not_covered, signals)


def hub_edition(html: bytes | str, slug: str) -> int | None:
    """The newest Freedom in the World edition a country hub page links to."""
    soup = BeautifulSoup(html, "html.parser")
    links = [m for a in soup.find_all("a", href=True) if (m := LINK.search(str(a["href"])))]
    years = [int(m.group(2)) for m in links if m.group(1) == slug] or [int(m.group(2)) for m in links]
    return max(years) if years else None
