"""The one frame layout every FH parser returns, and the checks every parsed frame must pass.

A parser reads cells as text, keeps the spreadsheet row number in `row`, and hands the frame to
`to_tidy`, which converts and checks it; every problem names file, sheet, row and column.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from fiw import methodology as m
from fiw.errors import SourceError
from fiw.names import clean_name

SUBCATEGORIES = tuple(m.SUBCATEGORY_MAX)
INT_COLUMNS = (
    "pr_rating_pub", "cl_rating_pub", *m.INDICATOR_COLUMNS, *SUBCATEGORIES, "add_q", "add_a", "pr", "cl", "total",
)
TIDY_SCHEMA: dict[str, Any] = {
    "edition": pl.Int16,
    "year_under_review": pl.Int16,
    "edition_label": pl.String,
    "fh_name": pl.String,
    "kind": pl.String,
    "region": pl.String,
    "status_pub": pl.String,
    **{c: pl.Int16 for c in INT_COLUMNS},
    "note": pl.String,
    "row": pl.Int32,
}
MISSING = {"", "-", "–", "n/a", "N/A"}
_SPACES = re.compile(r"\s+")


def clean_header(text: object) -> str:
    return _SPACES.sub(" ", str(text or "")).strip().lower()


Errata = dict[tuple[int, str, str], str]
"""(edition, FH name, column) -> why: known defects in FH's own files, tolerated and noted, never hidden."""


def to_tidy(raw: pl.DataFrame, file: str, sheet: str | None = None, errata: Errata | None = None) -> pl.DataFrame:
    """Text cells -> typed tidy frame; raises SourceError listing every cell that is not a number."""
    where = _where(sheet)
    problems: list[str] = []
    frame = raw
    for col in INT_COLUMNS:
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(col))
    stripped = {c: pl.col(c).cast(pl.String).str.strip_chars() for c in INT_COLUMNS}
    frame = frame.with_columns(
        [pl.when(e.is_in(list(MISSING))).then(None).otherwise(e).alias(c) for c, e in stripped.items()]
    )
    as_float = frame.select([pl.col(c).cast(pl.Float64, strict=False).alias(c) for c in INT_COLUMNS])
    for col in INT_COLUMNS:
        bad = frame.select("row", col).with_columns(num=as_float[col]).filter(
            pl.col(col).is_not_null() & (pl.col("num").is_null() | (pl.col("num") != pl.col("num").round(0)))
        )
        for row, value, _ in bad.iter_rows():
            problems.append(f"{where(row)}, column {col!r}: expected a whole number, found {value!r}")
    if problems:
        raise SourceError(file, problems)
    frame = frame.with_columns([as_float[c].cast(pl.Int16).alias(c) for c in INT_COLUMNS])
    for col, dtype in TIDY_SCHEMA.items():
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(col))
    frame = frame.with_columns(
        fh_name=pl.col("fh_name").map_elements(clean_name, return_dtype=pl.String),
        kind=pl.col("kind").cast(pl.String).str.strip_chars().str.to_lowercase(),
        status_pub=pl.col("status_pub").cast(pl.String).str.strip_chars(),
    )
    frame = frame.select([pl.col(c).cast(t) for c, t in TIDY_SCHEMA.items()])
    return validate(frame, file, sheet, errata)


def _range(col: str, lo: int, hi: int, why: str = "") -> tuple[pl.Expr, str]:
    return (
        pl.col(col).is_not_null() & ~pl.col(col).is_between(lo, hi),
        f"expected {lo} to {hi}{why}",
    )


def _sum_rule(target: str, parts: pl.Expr, text: str) -> tuple[pl.Expr, str]:
    return (pl.col(target).is_not_null() & parts.is_not_null() & (pl.col(target) != parts), text)


def _sum_when_complete(parts: tuple[str, ...]) -> pl.Expr:
    """The indicators' sum, only where FH published every one of them."""
    total = pl.sum_horizontal([pl.col(p) for p in parts]).cast(pl.Int16)
    return pl.when(pl.all_horizontal([pl.col(p).is_not_null() for p in parts])).then(total)


def validate(frame: pl.DataFrame, file: str, sheet: str | None = None, errata: Errata | None = None) -> pl.DataFrame:
    """FH's own arithmetic and ranges, checked on every row; SourceError lists each violation.

    A violation listed in `errata` is tolerated and written into that row's `note`.
    """
    errata = errata or {}
    notes: dict[int, list[str]] = {}
    where = _where(sheet)
    checks: dict[str, list[tuple[pl.Expr, str]]] = {
        "fh_name": [(pl.col("fh_name").is_null() | (pl.col("fh_name") == ""), "expected a country or territory name")],
        "kind": [(~pl.col("kind").is_in(["c", "t"]) | pl.col("kind").is_null(), "expected c or t")],
        "edition": [(pl.col("edition").is_null() | ~pl.col("edition").is_between(1972, 2100), "expected an edition year")],
        "status_pub": [
            (pl.col("status_pub").is_not_null() & ~pl.col("status_pub").is_in(m.STATUSES), "expected F, PF or NF")
        ],
        "pr_rating_pub": [_range("pr_rating_pub", 1, 7)],
        "cl_rating_pub": [_range("cl_rating_pub", 1, 7)],
        "pr": [
            _range("pr", m.PR_MIN, m.PR_MAX, " (Add Q, at most 4, is the only thing that takes PR below 0)"),
            _sum_rule(
                "pr",
                pl.col("A") + pl.col("B") + pl.col("C") - pl.col("add_q").fill_null(0) + pl.col("add_a").fill_null(0),
                "expected PR = A + B + C - Add Q + Add A",
            ),
        ],
        "cl": [
            _range("cl", m.CL_MIN, m.CL_MAX),
            _sum_rule("cl", pl.col("D") + pl.col("E") + pl.col("F") + pl.col("G"), "expected CL = D + E + F + G"),
        ],
        "total": [_sum_rule("total", pl.col("pr") + pl.col("cl"), "expected Total = PR + CL")],
        "add_q": [_range("add_q", 0, 4)],
        "add_a": [_range("add_a", 0, 4)],
    }
    for sub, top in m.SUBCATEGORY_MAX.items():
        parts = m.INDICATORS[sub]
        checks[sub] = [
            _range(sub, 0, top),
            _sum_rule(sub, _sum_when_complete(parts), f"expected {sub} = {' + '.join(parts)}"),
        ]
    for ind in m.INDICATOR_COLUMNS:
        checks[ind] = [_range(ind, 0, 4)]

    problems: list[str] = []
    flags = frame.select(
        "row",
        *[expr.fill_null(False).alias(f"{col}\x00{i}") for col, rules in checks.items() for i, (expr, _) in enumerate(rules)],
    )
    for name in flags.columns[1:]:
        col, i = name.split("\x00")
        text = checks[col][int(i)][1]
        hits = flags.filter(pl.col(name)).get_column("row").to_list()
        for row in hits:
            edition, name, value = (frame.filter(pl.col("row") == row)
                                    .select("edition", "fh_name", pl.col(col).alias("\x00value")).row(0))
            problem = f"{where(row)}, column {col!r}: {text}, found {value!r}"
            known = errata.get((edition, name, col))
            if known:
                notes.setdefault(row, []).append(f"known erratum in {file}: {col} {text[len('expected '):]} fails ({known})")
            else:
                problems.append(problem)
    dups = (
        frame.group_by("edition", "fh_name").agg(pl.col("row").sort())
        .filter(pl.col("row").list.len() > 1).sort("edition", "fh_name")
    )
    for edition, name, rows in dups.iter_rows():
        problems.append(f"{where(', '.join(map(str, rows)))}: {name!r} appears more than once in edition {edition}")
    if problems:
        raise SourceError(file, sorted(problems, key=_row_order))
    if not notes:
        return frame
    extra = pl.DataFrame({"row": list(notes), "_erratum": ["; ".join(v) for v in notes.values()]},
                         schema={"row": pl.Int32, "_erratum": pl.String})
    return frame.join(extra, on="row", how="left").with_columns(
        note=pl.concat_str([pl.col("note"), pl.col("_erratum")], separator="; ", ignore_nulls=True)
        .replace("", None)
    ).drop("_erratum")


def _where(sheet: str | None):
    """Row numbers are the spreadsheet's (1-based, headers counted) or the CSV file's line numbers."""
    def where(row) -> str:
        plural = "s" if "," in str(row) else ""
        return f"sheet {sheet!r}, row{plural} {row}" if sheet else f"line{plural} {row}"

    return where


def _row_order(problem: str) -> int:
    found = re.search(r"(?:row|line) (\d+)", problem)
    return int(found.group(1)) if found else 0
