"""FH's three Freedom in the World workbooks -> tidy frames.

Sheets are found by pattern, not by name (`FIW13-25` today, `FIW13-27` next), headers by text with
FH's stray spaces folded, and the file name is never trusted: FH reuses and misspells them.
"""

from __future__ import annotations

import re
from pathlib import Path

import fastexcel
import polars as pl

from fiw import methodology as m
from fiw.errors import SourceError
from fiw.tidy import Errata, clean_header, to_tidy

ALL_DATA_SHEET = re.compile(r"^FIW\s*13-\d{2,4}$", re.I)
AGGREGATE_SHEET = re.compile(r"^FIW\s*06-\d{2,4}$", re.I)
AGGREGATE_WIDE_SHEET = re.compile(r"^FIW\s*03-05$", re.I)
RATINGS_SHEETS = {"country ratings, statuses": "c", "territory ratings, statuses": "t"}

# Header text (folded) -> tidy column. "Add B" is FH's name for Add Q before 2018.
HEADERS = {
    "country/territory": "fh_name", "region": "region", "c/t": "kind", "c/t?": "kind", "edition": "edition",
    "status": "status_pub", "pr rating": "pr_rating_pub", "cl rating": "cl_rating_pub",
    "add q": "add_q", "add b": "add_q", "add a": "add_a", "pr": "pr", "cl": "cl", "total": "total",
    **{c.lower(): c for c in (*m.INDICATOR_COLUMNS, *m.SUBCATEGORY_MAX)},
}
ALL_DATA_COLUMNS = (
    "fh_name", "region", "kind", "edition", "status_pub", "pr_rating_pub", "cl_rating_pub",
    *m.INDICATOR_COLUMNS, *m.SUBCATEGORY_MAX, "add_q", "add_a", "pr", "cl", "total",
)
AGGREGATE_COLUMNS = (
    "fh_name", "region", "kind", "edition", "status_pub", "pr_rating_pub", "cl_rating_pub",
    *m.SUBCATEGORY_MAX, "add_q", "add_a", "pr", "cl", "total",
)
RATING = re.compile(r"^\s*(\d)\s*(?:\(\s*(\d)\s*\))?\s*$")
SPLIT_STATUS = re.compile(r"^\s*(F|PF|NF)\s*(?:\(\s*(F|PF|NF)\s*\))?\s*$")
YEAR = re.compile(r"(1[89]\d\d|20\d\d)")


def _reader(path: Path, data: bytes | None = None) -> fastexcel.ExcelReader:
    try:
        return fastexcel.read_excel(data if data is not None else str(path))
    except Exception as exc:  # fastexcel raises its own error types for every unreadable file
        raise SourceError(path.name, [f"not an Excel workbook FH publishes ({exc.__class__.__name__}: {exc})"]) from None


def _sheet(reader: fastexcel.ExcelReader, name: str) -> pl.DataFrame:
    frame = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
    return frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})


def workbook_kind(path: Path, data: bytes | None = None) -> str:
    """'all_data' | 'aggregate' | 'ratings', read from the sheets (FH's file names are unreliable)."""
    names = [s.strip() for s in _reader(path, data).sheet_names]
    if any(ALL_DATA_SHEET.match(s) for s in names):
        return "all_data"
    if any(AGGREGATE_SHEET.match(s) or AGGREGATE_WIDE_SHEET.match(s) for s in names):
        return "aggregate"
    if any(s.lower() in RATINGS_SHEETS for s in names):
        return "ratings"
    raise SourceError(
        path.name,
        [f"no Freedom in the World sheet found (expected 'FIW13-YY', 'FIW06-YY', 'FIW03-05' or "
         f"'Country Ratings, Statuses'); sheets are {names}"],
    )


def read_workbook(path: Path | str, data: bytes | None = None, errata: Errata | None = None) -> pl.DataFrame:
    """Any of FH's FIW workbooks -> one tidy frame (validated; `errata` are FH's known slips)."""
    path = Path(path)
    reader = _reader(path, data)
    kind = workbook_kind(path, data)
    sheets = {s.strip(): s for s in reader.sheet_names}
    if kind == "all_data":
        name = next(s for s in sheets if ALL_DATA_SHEET.match(s))
        return _read_flat(path, sheets[name], _sheet(reader, sheets[name]), ALL_DATA_COLUMNS, errata)
    if kind == "aggregate":
        frames = [
            _read_flat(path, sheets[s], _sheet(reader, sheets[s]), AGGREGATE_COLUMNS, errata)
            for s in sheets if AGGREGATE_SHEET.match(s)
        ] + [_read_wide_aggregate(path, sheets[s], _sheet(reader, sheets[s]), errata)
             for s in sheets if AGGREGATE_WIDE_SHEET.match(s)]
        return pl.concat(frames, how="vertical")
    frames = [
        _read_ratings(path, sheets[s], _sheet(reader, sheets[s]), ct, errata)
        for s in sheets for label, ct in RATINGS_SHEETS.items() if s.lower() == label
    ]
    return pl.concat(frames, how="vertical")


def _header_row(raw: pl.DataFrame, file: str, sheet: str, first_header: str) -> int:
    for i, value in enumerate(raw.get_column("c0").head(10).to_list()):
        if clean_header(value) == first_header:
            return i
    raise SourceError(file, [f"sheet {sheet!r}: no header row starting with {first_header!r} in the first 10 rows"])


def _read_flat(path: Path, sheet: str, raw: pl.DataFrame, required: tuple[str, ...], errata: Errata | None) -> pl.DataFrame:
    h = _header_row(raw, path.name, sheet, "country/territory")
    headers = [clean_header(v) for v in raw.row(h)]
    columns = {}
    for i, text in enumerate(headers):
        target = HEADERS.get(text)
        if target and target not in columns:
            columns[target] = f"c{i}"
    missing = [c for c in required if c not in columns]
    if missing:
        shown = [v for v in raw.row(h) if v]
        raise SourceError(path.name, [f"sheet {sheet!r}, header row {h + 1}: expected column(s) {missing}; found {shown}"])
    body = (
        raw.with_row_index("row", offset=1).slice(h + 1)
        .filter(pl.col(columns["fh_name"]).is_not_null() & (pl.col(columns["fh_name"]).str.strip_chars() != ""))
        .select(pl.col("row").cast(pl.Int32), *[pl.col(src).alias(dst) for dst, src in columns.items()])
    )
    return to_tidy(body, path.name, sheet, errata)


def _read_wide_aggregate(path: Path, sheet: str, raw: pl.DataFrame, errata: Errata | None) -> pl.DataFrame:
    """`FIW03-05`: one row per entity, `FIW03 PR` ... `FIW05 Total` (FH left a space in `FIW03 CL `)."""
    h = _header_row(raw, path.name, sheet, "country/territory")
    headers = [clean_header(v) for v in raw.row(h)]
    kind_col = next((f"c{i}" for i, t in enumerate(headers) if t in ("c/t?", "c/t")), None)
    blocks: dict[int, dict[str, str]] = {}
    for i, text in enumerate(headers):
        found = re.fullmatch(r"fiw\s*(\d\d) (pr|cl|total)", text)
        if found:
            blocks.setdefault(2000 + int(found.group(1)), {})[found.group(2)] = f"c{i}"
    incomplete = {e: sorted({"pr", "cl", "total"} - set(b)) for e, b in blocks.items() if len(b) != 3}
    if kind_col is None or not blocks or incomplete:
        raise SourceError(path.name, [
            f"sheet {sheet!r}, header row {h + 1}: expected 'Country/Territory', 'C/T?' and 'FIWyy PR|CL|Total' "
            f"columns; found {[v for v in raw.row(h) if v]}"
        ])
    body = raw.with_row_index("row", offset=1).slice(h + 1).filter(pl.col("c0").is_not_null())
    frames = [
        body.select(
            pl.col("row").cast(pl.Int32), pl.col("c0").alias("fh_name"), pl.col(kind_col).alias("kind"),
            pl.lit(edition, pl.Int16).alias("edition"),
            *[pl.col(src).alias(dst) for dst, src in cols.items()],
        )
        for edition, cols in sorted(blocks.items())
    ]
    tidy = to_tidy(pl.concat(frames), path.name, sheet, errata)
    return tidy.filter(pl.col("pr").is_not_null() | pl.col("cl").is_not_null() | pl.col("total").is_not_null())


def _year(text: str | None, last: bool) -> int | None:
    years = YEAR.findall(text or "")
    return int(years[-1 if last else 0]) if years else None


def _read_ratings(path: Path, sheet: str, raw: pl.DataFrame, ct: str, errata: Errata | None) -> pl.DataFrame:
    """The wide historical file: per edition a PR / CL / Status block; reshaped long.

    Edition = the first year of FH's label ("1983-84" -> 1983), year under review = the last year
    of the "Year(s) Under Review" row ("Jan.1981-Aug. 1982" -> 1982); "-" means not rated.
    """
    h = next((i for i, v in enumerate(raw.get_column("c0").head(10).to_list()) if clean_header(v) == "survey edition"), None)
    if h is None or raw.height < h + 3:
        raise SourceError(path.name, [f"sheet {sheet!r}: expected 'Survey Edition' and 'Year(s) Under Review' rows"])
    labels, years, fields = raw.row(h), raw.row(h + 1), [clean_header(v) for v in raw.row(h + 2)]
    problems, blocks = [], []
    for i in range(1, raw.width, 3):
        if labels[i] is None and all(v is None for v in fields[i:i + 3]):
            continue
        label = str(labels[i] or "").strip()
        edition, year = _year(label, last=False), _year(str(years[i] or ""), last=True)
        if edition is None or year is None or fields[i:i + 3] != ["pr", "cl", "status"]:
            problems.append(
                f"sheet {sheet!r}, rows {h + 1}-{h + 3}, column {i + 1}: expected an edition label, years under "
                f"review and PR / CL / Status; found {label!r}, {years[i]!r}, {raw.row(h + 2)[i:i + 3]}"
            )
            continue
        blocks.append((i, label, edition, year))
    if problems:
        raise SourceError(path.name, problems)
    body = raw.with_row_index("row", offset=1).slice(h + 3).filter(pl.col("c0").is_not_null())
    records = []
    for row in body.iter_rows(named=True):
        for i, label, edition, year in blocks:
            pr, cl, status = (row[f"c{i + k}"] for k in range(3))
            if all((v or "").strip() in ("", "-") for v in (pr, cl, status)):
                continue
            rec = {"row": row["row"], "fh_name": row["c0"], "kind": ct, "edition": edition, "year_under_review": year,
                   "edition_label": label, "pr_rating_pub": pr, "cl_rating_pub": cl, "status_pub": status, "note": None}
            _split_ratings(rec)
            records.append(rec)
    long = pl.DataFrame(records, schema={
        "row": pl.Int32, "fh_name": pl.String, "kind": pl.String, "edition": pl.Int16, "year_under_review": pl.Int16,
        "edition_label": pl.String, "pr_rating_pub": pl.String, "cl_rating_pub": pl.String,
        "status_pub": pl.String, "note": pl.String,
    })
    return to_tidy(long, path.name, sheet, errata)


def _split_ratings(rec: dict) -> None:
    """South Africa 1973: `2(5)`, `3(6)`, `F (NF)`, FH's ratings of the white and of the black population.
    The whole country is rated by the figures in parentheses: they rate the majority, FH's own tally of the
    edition leaves the split row out rather than count it Free, and the independent datasets rate South
    Africa Not Free that year. The whole cell is kept in `note`."""
    pr, cl, status = (str(rec[k] or "").strip() for k in ("pr_rating_pub", "cl_rating_pub", "status_pub"))
    mp, mc, ms = RATING.match(pr), RATING.match(cl), SPLIT_STATUS.match(status)
    if mp and mc and ms and (mp.group(2) or mc.group(2) or ms.group(2)):
        rec["note"] = (f"split ratings in FH's file: PR {pr}, CL {cl}, status {status} (white and black populations); "
                       "the whole country takes the figures in parentheses, the majority's")
        rec["pr_rating_pub"], rec["cl_rating_pub"], rec["status_pub"] = (
            mp.group(2) or mp.group(1), mc.group(2) or mc.group(1), ms.group(2) or ms.group(1))
    elif ms:
        rec["status_pub"] = ms.group(1)
