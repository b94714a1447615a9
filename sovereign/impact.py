"""What a list would do to the book: positions and value newly excluded, newly eligible and unknown, from
one list version to another, overall and per portfolio, with the countries and issuers behind them.

The book is tallied once (positions and value per identifier and portfolio, streamed) and each distinct
identifier answered against both lists through the one resolver; the rest is arithmetic over that small
table (`compare`, pure).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from fiw import words
from fiw.errors import NotFound, UserError
from sovereign import clock
from sovereign.eligibility import staging
from sovereign.holdings import Book
from sovereign.listing import compared_days
from sovereign.lookup import SUPRANATIONAL, UNRESOLVED
from sovereign.policy import Mandate, Policy
from sovereign.screen import answer_table, summary_rows, tally
from sovereign.store import reads
from sovereign.store.reads import Connection


def versions(conn: Connection, to_version: int | None, edition: int | None, from_version: int | None) -> tuple[dict, dict]:
    """(from, to): the target (version N, the newest of edition E, else the newest proposed) and the list it is
    compared with (version M, else the list in force today)."""
    if to_version is not None and edition is not None:
        raise UserError("give --version or --edition, not both")
    if to_version is not None:
        target = reads.version(conn, to_version)
        if target is None:
            raise NotFound(f"no list version {to_version}")
    elif edition is not None:
        target = reads.newest_version(conn, edition, ("proposed", "held", "published"))
        if target is None:
            raise NotFound(f"no list version for edition {edition}")
    else:
        target = reads.newest_version(conn, None, ("proposed",))
        if target is None:
            raise NotFound("no proposed list: give --version N or --edition E")
    source = reads.version(conn, from_version) if from_version is not None else reads.version_in_force(
        conn, clock.today().isoformat())
    if source is None:
        raise NotFound(f"no list version {from_version}" if from_version is not None else "no list is in force today")
    return dict(source), dict(target)


def _describe(version: dict) -> dict:
    return {"list_version": version["id"], "edition": version["edition"], "state": version["state"],
            "effective_from": version["effective_from"], "fiw": words.title(version["edition"])}


def impact(conn: Connection, book: Book, policy: Policy, value: str, portfolio: str | None = None,
           to_version: int | None = None, edition: int | None = None, from_version: int | None = None,
           mandate: Mandate | None = None, effective_from: date | None = None) -> dict[str, Any]:
    source, target = versions(conn, to_version, edition, from_version)
    counted = tally(book, value, portfolio)
    ids = counted["_id"].unique().to_list()
    before_day, after_day = compared_days(source, target, effective_from)
    before = answer_table(conn, ids, mandate=mandate, version_id=source["id"], on=before_day, codes_only=book.codes_only)
    after = answer_table(conn, ids, mandate=mandate, version_id=target["id"], on=after_day, codes_only=book.codes_only)
    when = date.fromisoformat(target["effective_from"]) if target["effective_from"] else effective_from or clock.today()
    no_new, divest = staging(when, policy)
    result = compare(counted, before, after, no_new, divest)
    result["summary_rows"] = summary_rows(book, value).height
    staged = "as published" if target["state"] == "published" else f"if published with effect from {when}"
    return {"from_version": source["id"], "to_version": target["id"], "from": _describe(source), "to": _describe(target),
            "value_column": value,
            "portfolio_column": portfolio, "mandate": mandate.name if mandate else None, "staging": staged,
            "attribution": words.attribution(target["edition"])} | result


def compare(counted: pl.DataFrame, before: pl.DataFrame, after: pl.DataFrame, no_new: str, divest: str) -> dict:
    """Pure: the tally (positions, value per `_id` and `_portfolio`) and both lists' answers -> the movements."""
    keep = ["_id", "verdict", "iso2", "country", "issuer", "_kind"]
    rows = counted.join(before.select("_id", pl.col("verdict").alias("was")), on="_id", how="left", nulls_equal=True).join(
        after.select(keep), on="_id", how="left", nulls_equal=True)
    if "_portfolio" not in rows.columns:
        rows = rows.with_columns(_portfolio=pl.lit(None, pl.String))
    out_ = (pl.col("verdict") == "excluded") & (pl.col("was") != "excluded")
    in_ = (pl.col("verdict") == "eligible") & (pl.col("was") == "excluded")
    unknown = pl.col("verdict") == "unknown"
    book_value = float(rows["value"].sum() or 0)
    sovereign_value = float(rows.filter(~pl.col("_kind").is_in([UNRESOLVED, SUPRANATIONAL]))["value"].sum() or 0)

    def shares(amount: float) -> dict:
        """A move as a share of the whole book and of its sovereign exposure (holdings with an issuer country)."""
        return {"share_of_book": amount / book_value if book_value else None,
                "share_of_sovereign": amount / sovereign_value if sovereign_value else None}

    def block(mask: pl.Expr, dated: bool) -> dict:
        part = rows.filter(mask)
        countries = (part.group_by("iso2", "country").agg(
            pl.col("positions").sum(), pl.col("value").sum(),
            pl.col("issuer").drop_nulls().unique().sort().alias("issuers")).sort("value", descending=True))
        listed = []
        for c in countries.iter_rows(named=True):
            entry = {"iso2": c["iso2"], "country": c["country"], "positions": int(c["positions"]),
                     "value": float(c["value"] or 0), "issuers": c["issuers"]}
            if dated:
                entry |= {"no_new_buys_from": no_new, "divest_by": divest}
            listed.append(entry)
        amount = float(part["value"].sum() or 0)
        return {"positions": int(part["positions"].sum()), "value": amount} | shares(amount) | {"countries": listed}

    result: dict[str, Any] = {"newly_excluded": block(out_, True), "newly_eligible": block(in_, False)}
    unknown_rows = rows.filter(unknown)
    amount = float(unknown_rows["value"].sum() or 0)
    result["unknown"] = {"positions": int(unknown_rows["positions"].sum()), "value": amount} | shares(amount)
    result["total"] = {"positions": int(rows["positions"].sum()), "value": book_value,
                       "sovereign_value": sovereign_value}
    by = []
    for name in sorted(rows["_portfolio"].unique().to_list(), key=lambda x: (x is None, x)):
        p = rows.filter(pl.col("_portfolio").eq_missing(name))
        by.append({"portfolio": name,
                   "newly_excluded_positions": int(p.filter(out_)["positions"].sum()),
                   "newly_excluded_value": float(p.filter(out_)["value"].sum() or 0),
                   "newly_eligible_positions": int(p.filter(in_)["positions"].sum()),
                   "newly_eligible_value": float(p.filter(in_)["value"].sum() or 0),
                   "unknown_positions": int(p.filter(unknown)["positions"].sum()),
                   "unknown_value": float(p.filter(unknown)["value"].sum() or 0),
                   "positions": int(p["positions"].sum()), "value": float(p["value"].sum() or 0)})
    result["by_portfolio"] = by
    return result


def title(r: dict) -> str:
    return f"What list version {r['to']['list_version']} would do to the book"


def lead(r: dict) -> list[str]:
    """Which lists, then what moves: the same two sentences in every format; the last one is the summary."""
    f, t, out, in_ = r["from"], r["to"], r["newly_excluded"], r["newly_eligible"]
    return [f"From list version {f['list_version']} ({f['fiw']}, {f['state']}) to list version {t['list_version']} "
            f"({t['fiw']}, {t['state']}); value from column \"{r['value_column']}\""
            + (f", mandate {r['mandate']}" if r["mandate"] else "") + f"; staging dates {r['staging']}.",
            f"Newly excluded: {out['positions']} position(s), value {out['value']:,.2f}{_shares(out)}. Newly "
            f"eligible: {in_['positions']} position(s), value {in_['value']:,.2f}{_shares(in_)}. Unknown: "
            f"{r['unknown']['positions']} position(s), value {r['unknown']['value']:,.2f}{_shares(r['unknown'])}."
            + (f" {r['summary_rows']} summary row(s) (totals, subtotals, blank) left out." if r.get("summary_rows")
               else "")]


def _shares(block: dict) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.1%}"

    return f" ({pct(block.get('share_of_book'))} of the book, {pct(block.get('share_of_sovereign'))} of sovereign exposure)"


def to_markdown(r: dict) -> str:
    lines = [f"# {title(r)}", "", *lead(r)[:1], ""]
    for key, heading in (("newly_excluded", "Newly excluded"), ("newly_eligible", "Newly eligible")):
        b = r[key]
        lines += [f"## {heading}: {b['positions']} position(s), value {b['value']:,.2f}{_shares(b)}", ""]
        if b["countries"]:
            dated = key == "newly_excluded"
            lines += ["| Country | Positions | Value | Issuers |" + (" No new buys from | Divest by |" if dated else ""),
                      "|---|---:|---:|---|" + ("---|---|" if dated else "")]
            for c in b["countries"]:
                lines.append(f"| {c['country']} ({c['iso2']}) | {c['positions']} | {c['value']:,.2f} | "
                             f"{', '.join(c['issuers']) or '-'} |"
                             + (f" {c['no_new_buys_from']} | {c['divest_by']} |" if dated else ""))
            lines.append("")
    u = r["unknown"]
    lines += [f"## Unknown (not eligible under either list): {u['positions']} position(s), value {u['value']:,.2f}"
              f"{_shares(u)}", "",
              "## Per portfolio", "",
              "| Portfolio | Newly excluded | Value | Newly eligible | Value | Unknown | Value |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for p in r["by_portfolio"]:
        lines.append(f"| {p['portfolio'] or '(none)'} | {p['newly_excluded_positions']} | {p['newly_excluded_value']:,.2f} | "
                     f"{p['newly_eligible_positions']} | {p['newly_eligible_value']:,.2f} | {p['unknown_positions']} | "
                     f"{p['unknown_value']:,.2f} |")
    if r.get("summary_rows"):
        lines += ["", f"{r['summary_rows']} summary row(s) of the book (totals, subtotals, blank) are not positions "
                  "and are left out of every figure."]
    lines += ["", f"{r['attribution']}."]
    return "\n".join(lines) + "\n"


def to_sheets(r: dict) -> dict[str, pl.DataFrame]:
    """The impact as sheets: summary, countries moving, per portfolio."""
    summary = pl.DataFrame([
        {"What": what, "Positions": r[key]["positions"], "Value": r[key]["value"],
         "Share of book": r[key].get("share_of_book"), "Share of sovereign exposure": r[key].get("share_of_sovereign")}
        for key, what in (("newly_excluded", "Newly excluded"), ("newly_eligible", "Newly eligible"),
                          ("unknown", "Unknown"))]
        + [{"What": "The whole book", "Positions": r["total"]["positions"], "Value": r["total"]["value"],
            "Share of book": 1.0, "Share of sovereign exposure": None}],
        schema={"What": pl.String, "Positions": pl.Int64, "Value": pl.Float64, "Share of book": pl.Float64,
                "Share of sovereign exposure": pl.Float64})
    moving = [{"Direction": d, "Country": c["country"], "ISO2": c["iso2"], "Positions": c["positions"],
               "Value": c["value"], "Issuers": ", ".join(c["issuers"]), "No new buys from": c.get("no_new_buys_from"),
               "Divest by": c.get("divest_by")}
              for key, d in (("newly_excluded", "out"), ("newly_eligible", "in")) for c in r[key]["countries"]]
    sheets = {"Summary": summary, "Per portfolio": pl.DataFrame(r["by_portfolio"]).rename(
        lambda c: c.replace("_", " ").capitalize())}
    if moving:
        sheets["Countries moving"] = pl.DataFrame(moving)
    return sheets
