"""SFDR principal adverse impact indicators for sovereign holdings, from the house list and FH's scores.

Each snapshot (a quarter-end the regulation averages over) is judged against the list in force on its
date. Mandatory indicator 16, "investee countries subject to social violations": the number of distinct
investee countries the house list excludes (FH Not Free plus the committee's exclusions, as the policy
defines it), and that number over all investee countries; both averaged over the snapshots. Optional
indicators FH's data supports: the value-weighted average FH total (human-rights performance) and FH's
"Freedom of Expression and Belief" subcategory (D, 0-16), each with its coverage. Supranational issuers
are out of scope, and so are identifiers that name no country: both are counted and said.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl

from fiw import words
from fiw.errors import UserError
from fiw.methodology import STATUS_WORDS
from sovereign.holdings import Book
from sovereign.lookup import SUPRANATIONAL, UNRESOLVED
from sovereign.screen import answer_table, summary_rows, tally
from sovereign.store import reads
from sovereign.store.reads import Connection

METHOD = ("PAI 16 counts the distinct investee countries (sovereign holdings with an issuer country) that the "
          "house list in force on each snapshot date excludes: Freedom House's Not Free plus the committee's "
          "exclusions (overrides), as the policy defines it; the share divides that count by all investee "
          "countries. Both are averaged over the snapshots. The optional indicators are averages weighted by "
          "market value: FH's total score (0-100) for human-rights performance, and FH's subcategory D, Freedom "
          "of Expression and Belief (0-16); coverage is the share of sovereign value with that score. "
          "Supranational issuers are out of scope of a country indicator and are left out, as are holdings "
          "whose identifier names no country (unknown).")
FILE_DATE = re.compile(r"(20\d\d)-?(0[1-9]|1[0-2])-?([0-3]\d)")


def snapshot_date(book: Book) -> date:
    """A file without a date column is one snapshot, dated by its name (holdings-2026-09-30.csv)."""
    found = FILE_DATE.search(book.path.name)
    if not found:
        raise UserError(f"{book.path.name}: no date in the file name; name it by its date (holdings-2026-09-30.csv) "
                        "or give --date-column")
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise UserError(f"{book.path.name}: {found.group(0)} is not a date") from None


DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")


def _dates(column: pl.Series, file: str) -> list[tuple[Any, date]]:
    """Each distinct snapshot date as the file writes it, and as a date (ISO, or day first as Dutch files do)."""
    from datetime import datetime

    out: list[tuple[Any, date]] = []
    for raw in column.unique().to_list():
        if isinstance(raw, datetime):
            out.append((raw, raw.date()))
            continue
        if isinstance(raw, date):
            out.append((raw, raw))
            continue
        text = str(raw or "").strip()[:10]
        for fmt in DATE_FORMATS:
            try:
                out.append((raw, datetime.strptime(text, fmt).date()))
                break
            except ValueError:
                continue
        else:
            raise UserError(f"{file}: --date-column: {raw!r} is not a date (expected YYYY-MM-DD or DD-MM-YYYY)")
    return out


COUNTRY_COLUMNS = ("country", "issuer country", "issuer_country", "country of risk", "country_of_risk",
                   "cntry of risk", "country of issuer", "land", "land van risico", "risikoland", "pays")


def country_column(book: Book) -> str | None:
    """The book's own country column, if it has one: it can name the countries behind unknown identifiers."""
    lower = {c.strip().lower(): c for c in book.columns}
    return next((lower[n] for n in COUNTRY_COLUMNS if n in lower), None)


def pai(conn: Connection, books: list[Book], value: str, date_column: str | None = None) -> dict[str, Any]:
    snapshots = []
    for book in books:
        counted = tally(book, value, country_column(book), date_column)  # `_portfolio`: the book's own country
        skipped = summary_rows(book, value).height
        if date_column:
            parts = [(d, counted.filter(pl.col("_date").eq_missing(raw))) for raw, d in _dates(counted["_date"],
                                                                                                book.path.name)]
        else:
            parts = [(snapshot_date(book), counted)]
        for when, part in parts:
            snapshots.append(snapshot(conn, part, when, book.path.name, book.codes_only) | {"summary_rows": skipped})
    if not snapshots:
        raise UserError("no holdings rows in the files given")
    dates = [s["date"] for s in snapshots]
    if len(set(dates)) != len(dates):
        raise UserError(f"snapshot dates repeat ({', '.join(sorted(d for d in dates if dates.count(d) > 1))}): each "
                        "date once, in one file or under one date column")
    snapshots.sort(key=lambda s: s["date"])
    n = len(snapshots)

    def mean(key: str) -> float | None:
        values = [s[key] for s in snapshots if s[key] is not None]
        return sum(values) / len(values) if values else None

    return {"indicator": "PAI 16: investee countries subject to social violations",
            "unknown_share": mean("unknown_share"),
            "pai16_count": mean("pai16_count"), "pai16_share": mean("pai16_share"),
            "investee_countries": mean("investee_countries"), "snapshots_averaged": n,
            "fh_total_weighted": mean("fh_total_weighted"), "fh_total_coverage": mean("fh_total_coverage"),
            "freedom_of_expression_weighted": mean("freedom_of_expression_weighted"),
            "freedom_of_expression_coverage": mean("freedom_of_expression_coverage"),
            "snapshots": snapshots, "methodology": METHOD, "value_column": value,
            "attribution": words.attribution(), "out_of_scope": "supranational issuers; identifiers that name no country"}


def snapshot(conn: Connection, counted: pl.DataFrame, when: date, file: str, codes_only: bool = False) -> dict[str, Any]:
    answers = answer_table(conn, counted["_id"].unique().to_list(), as_of=when, codes_only=codes_only)
    version = answers["list_version"].drop_nulls()
    edition = int(answers["edition"].drop_nulls()[0]) if answers["edition"].drop_nulls().len() else None
    scores = pl.DataFrame(reads.scores(conn, edition, ("iso2", "D")) if edition else [],
                          schema={"iso2": pl.String, "D": pl.Int64}).filter(pl.col("iso2").is_not_null()).unique("iso2")
    rows = counted.join(answers.select("_id", "verdict", "iso2", "total", "_kind"), on="_id", how="left", nulls_equal=True).join(
        scores, on="iso2", how="left")
    supranational = rows.filter(pl.col("_kind") == SUPRANATIONAL)
    unknown = rows.filter((pl.col("_kind") == UNRESOLVED) | (pl.col("iso2").is_null() & (pl.col("_kind") != SUPRANATIONAL)))
    sovereign = rows.filter(pl.col("iso2").is_not_null() & (pl.col("_kind") != SUPRANATIONAL))
    investees = sorted(sovereign["iso2"].unique().to_list())
    excluded = sorted(sovereign.filter(pl.col("verdict") == "excluded")["iso2"].unique().to_list())
    value = float(sovereign["value"].sum() or 0)

    def weighted(column: str) -> tuple[float | None, float | None]:
        scored = sovereign.filter(pl.col(column).is_not_null() & pl.col("value").is_not_null())
        covered = float(scored["value"].sum() or 0)
        if not covered:
            return None, 0.0 if value else None
        return float((scored[column] * scored["value"]).sum()) / covered, covered / value if value else None

    unknown_value = float(unknown["value"].sum() or 0)
    hidden = _hidden_not_free(conn, unknown, when)
    total_avg, total_cov = weighted("total")
    fe_avg, fe_cov = weighted("D")
    return {"date": when.isoformat(), "file": file, "list_version": int(version[0]) if version.len() else None,
            "edition": edition, "fiw": words.title(edition) if edition else None,
            "investee_countries": len(investees), "pai16_count": len(excluded),
            "pai16_share": len(excluded) / len(investees) if investees else None, "countries_excluded": excluded,
            "positions": int(sovereign["positions"].sum()), "value": value,
            "fh_total_weighted": total_avg, "fh_total_coverage": total_cov,
            "freedom_of_expression_weighted": fe_avg, "freedom_of_expression_coverage": fe_cov,
            "supranational": {"positions": int(supranational["positions"].sum()),
                              "value": float(supranational["value"].sum() or 0)},
            "unknown": {"positions": int(unknown["positions"].sum()), "value": unknown_value},
            "unknown_share": unknown_value / (value + unknown_value) if value + unknown_value else None,
            "unknown_not_free": hidden}


def _hidden_not_free(conn: Connection, unknown: pl.DataFrame, when: date) -> list[dict]:
    """The Not Free countries the book's own country column names on rows whose identifier is unknown."""
    if "_portfolio" not in unknown.columns or unknown.is_empty():
        return []
    named = unknown.filter(pl.col("_portfolio").is_not_null()).group_by("_portfolio").agg(pl.col("value").sum())
    if named.is_empty():
        return []
    answers = answer_table(conn, named["_portfolio"].to_list(), as_of=when)
    hits = named.join(answers.select("_id", "iso2", "country", "status"), left_on="_portfolio", right_on="_id").filter(
        pl.col("status").is_in(["NF", STATUS_WORDS["NF"]]))
    return [{"iso2": r["iso2"], "country": r["country"], "value": float(r["value"] or 0)}
            for r in hits.group_by("iso2", "country").agg(pl.col("value").sum()).sort("value", descending=True)
            .iter_rows(named=True)]


def share_text(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def number_text(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def title(r: dict) -> str:
    return "Principal adverse impact: sovereign holdings"


def lead(r: dict) -> list[str]:
    """PAI 16 in one sentence, as every format states it."""
    hidden = sorted({c["country"] for s in r["snapshots"] for c in s["unknown_not_free"]})
    skipped = sum(s.get("summary_rows", 0) for s in r["snapshots"])
    return [f"PAI 16, investee countries subject to social violations: {number_text(r['pai16_count'])} of "
            f"{number_text(r['investee_countries'])} investee countries ({share_text(r['pai16_share'])}), averaged "
            f"over {r['snapshots_averaged']} snapshot(s); {share_text(r['unknown_share'])} of the sovereign book "
            "could not be judged (unknown identifiers)"
            + (f", among them holdings the book itself places in Not Free {', '.join(hidden)}" if hidden else "")
            + (f"; {skipped} summary row(s) left out" if skipped else "") + "."]


def to_markdown(r: dict) -> str:
    fe, fe_cov = r["freedom_of_expression_weighted"], r["freedom_of_expression_coverage"]
    lines = [f"# {title(r)}", "", f"**{lead(r)[0]}**", "",
             f"Optional: FH total, value-weighted: {number_text(r['fh_total_weighted'], 1)} (coverage "
             f"{share_text(r['fh_total_coverage'])}); Freedom of Expression and Belief (D, 0-16), value-weighted: "
             f"{number_text(fe, 1)} (coverage {share_text(fe_cov)}).",
             "", "| Date | List | Investee countries | Excluded | Share | FH total | Coverage | D | Coverage | "
             "Supranational value | Unknown value |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in r["snapshots"]:
        lines.append(f"| {s['date']} | v{s['list_version']} ({s['fiw']}) | {s['investee_countries']} | {s['pai16_count']} "
                     f"({', '.join(s['countries_excluded']) or '-'}) | {share_text(s['pai16_share'])} | "
                     f"{number_text(s['fh_total_weighted'], 1)} | {share_text(s['fh_total_coverage'])} | "
                     f"{number_text(s['freedom_of_expression_weighted'], 1)} | "
                     f"{share_text(s['freedom_of_expression_coverage'])} | "
                     f"{number_text(s['supranational']['value'])} | {number_text(s['unknown']['value'])} |")
    lines += ["", "## Methodology", "", r["methodology"], "", f"{r['attribution']}."]
    return "\n".join(lines) + "\n"


def to_sheets(r: dict) -> dict[str, pl.DataFrame]:
    rows = [{"Date": s["date"], "List version": s["list_version"], "Edition": s["edition"],
             "Investee countries": s["investee_countries"], "PAI 16 count": s["pai16_count"],
             "PAI 16 share": s["pai16_share"], "Countries excluded": ", ".join(s["countries_excluded"]),
             "Sovereign value": s["value"], "FH total (weighted)": s["fh_total_weighted"],
             "FH total coverage": s["fh_total_coverage"], "Freedom of expression (weighted)":
             s["freedom_of_expression_weighted"], "Freedom of expression coverage": s["freedom_of_expression_coverage"],
             "Supranational value": s["supranational"]["value"], "Unknown value": s["unknown"]["value"],
             "Unknown share of the sovereign book": s["unknown_share"],
             "Not Free behind unknown identifiers": ", ".join(c["country"] for c in s["unknown_not_free"]),
             "Summary rows left out": s.get("summary_rows", 0)}
            for s in r["snapshots"]]
    summary = pl.DataFrame([{"Indicator": "PAI 16 count (average)", "Value": r["pai16_count"]},
                            {"Indicator": "PAI 16 share (average)", "Value": r["pai16_share"]},
                            {"Indicator": "Investee countries (average)", "Value": r["investee_countries"]},
                            {"Indicator": "Unknown share of the sovereign book (average)", "Value": r["unknown_share"]},
                            {"Indicator": "FH total, value-weighted", "Value": r["fh_total_weighted"]},
                            {"Indicator": "Freedom of expression, value-weighted",
                             "Value": r["freedom_of_expression_weighted"]}])
    notes = pl.DataFrame({"Methodology": [r["methodology"], r["attribution"]]})
    return {"PAI": summary, "Snapshots": pl.DataFrame(rows), "Methodology": notes}
