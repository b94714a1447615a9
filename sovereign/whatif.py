"""What another policy would have done: the policy in force against an alternative over FH's editions, each
list taking effect on FH's release date, as the real ones did.

`backtest` is pure (scored editions and two policies in, one result out) and applies the rules through
`eligibility`, the one place they live; `today` and `book` read the list in force and the book through the
store and the impact code. Output: JSON (the shape documented in the README), Markdown, HTML, XLSX.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

import polars as pl

from fiw import words
from fiw.errors import UserError
from sovereign import clock
from sovereign.eligibility import apply_mandate, evaluate_editions
from sovereign.policy import Mandate, Policy, recorded
from sovereign.releases import published


def scored_from_store(conn: Any) -> pl.DataFrame:
    """Every stored edition's scores with FH's label, as the list builder saw them."""
    from sovereign.store import reads

    scores = reads.scores_frame(conn)
    if scores.is_empty():
        raise UserError("no editions stored: run `sovereign refresh` first")
    labels = {e: (reads.edition(conn, e) or {}).get("label") for e in scores["edition"].unique().to_list()}
    return scores.with_columns(edition_label=pl.col("edition").replace_strict(labels, return_dtype=pl.String))


def mandate_for(policy: Policy, fallback: Policy, name: str | None) -> Mandate | None:
    """The mandate `name` as `policy` defines it, else as `fallback` does (a mandate the alternative leaves
    out keeps its rules)."""
    if name is None:
        return None
    if any(m.name == name for m in policy.mandates):
        return policy.mandate(name)
    return fallback.mandate(name)


def lists(scored: pl.DataFrame, policy: Policy, mandate: Mandate | None = None) -> pl.DataFrame:
    """Every edition's list under `policy` (and a mandate): edition, entity, iso2, fh_name, kind, status, total,
    eligible, reasons (one string). Territories without an ISO code of their own are not issuers: left out."""
    frame = evaluate_editions(scored, policy)
    if mandate is not None:
        frame = frame.with_columns(reasons=pl.concat_list("reasons"), scope=pl.col("kind").replace_strict(
            words.KIND_WORDS, default="country"))
        parts = []
        for edition in sorted(frame["edition"].unique().to_list()):
            current = frame.filter(pl.col("edition") == edition)
            history = frame.filter(pl.col("edition") < edition) if mandate.needs_history else None
            parts.append(apply_mandate(current, mandate, edition, history))
        frame = pl.concat(parts).with_columns(reasons=pl.col("reasons").list.join("; ")).drop("scope")
    return frame.filter(~((pl.col("kind") == "t") & pl.col("iso2").is_null())).select(
        "edition", "entity", "iso2", "fh_name", "kind", "status", "total", "eligible", "reasons")


def _named(frame: pl.DataFrame) -> list[dict]:
    return [{"name": n, "iso2": i, "kind": words.kind_word(k)}
            for n, i, k in frame.sort("fh_name").select("fh_name", "iso2", "kind").rows()]


def _countries(named: list[dict]) -> int:
    """Counted as everywhere: countries, not territories."""
    return sum(1 for c in named if c["kind"] == "country")


def summary(policy: Policy, mandate: Mandate | None, source: str) -> dict:
    """A policy as the answer names it: where it came from, and its rules in words."""
    rules = [f"excludes {', '.join(words.status_word(s) for s in policy.exclude_status)}",
             f"unrated countries: {policy.unrated}", f"territories: {policy.territories}"]
    if policy.min_total is not None:
        rules.append(f"score buffer: excluded below a Total of {policy.min_total}")
    if policy.decline_points is not None:
        rules.append(f"decline: excluded after losing more than {policy.decline_points} points over "
                     f"{policy.decline_editions} editions")
    if policy.persistence > 1:
        rules.append(f"persistence: re-admitted only after {policy.persistence} consecutive editions above the line")
    if mandate is not None:
        rules.append(f"mandate {mandate.name}" + (f" ({mandate.description})" if mandate.description else ""))
    return {"source": source, "digest": policy.digest, "mandate": mandate.name if mandate else None,
            "rules": rules, "policy": recorded(policy)}


def backtest(scored: pl.DataFrame, current: Policy, alternative: Policy, *, mandate: str | None = None,
             first: int | None = None, last: int | None = None, flips_over: int = 2,
             sources: tuple[str, str] = ("policy in force", "alternative")) -> dict[str, Any]:
    """Both policies over every edition from `first` to `last`: per edition the excluded sets, the difference by
    name and why, and turnover. History before `first` still counts for persistence and decline."""
    mandates = (mandate_for(current, current, mandate), mandate_for(alternative, current, mandate))
    cur, alt = lists(scored, current, mandates[0]), lists(scored, alternative, mandates[1])
    editions = sorted(e for e in cur["edition"].unique().to_list()
                      if (first is None or e >= first) and (last is None or e <= last))
    if not editions:
        raise UserError(f"no stored edition between {first or 'the first'} and {last or 'the last'}")
    both = cur.join(alt.select("edition", "entity", pl.col("eligible").alias("eligible_alt"),
                               pl.col("reasons").alias("reasons_alt")), on=["edition", "entity"], how="full",
                    coalesce=True)
    out_editions = []
    for edition in editions:
        e = both.filter(pl.col("edition") == edition)
        only_cur = e.filter(~pl.col("eligible") & pl.col("eligible_alt"))
        only_alt = e.filter(pl.col("eligible") & ~pl.col("eligible_alt"))
        out_editions.append({
            "edition": edition, "fiw": words.title(edition), "effective": published(edition).isoformat(),
            "excluded_current": _named(e.filter(~pl.col("eligible"))),
            "excluded_alternative": _named(e.filter(~pl.col("eligible_alt"))),
            "only_current": [{"name": r["fh_name"], "iso2": r["iso2"], "status": r["status"], "total": r["total"],
                              "why_current": r["reasons"], "why_alternative": r["reasons_alt"]}
                             for r in only_cur.sort("fh_name").iter_rows(named=True)],
            "only_alternative": [{"name": r["fh_name"], "iso2": r["iso2"], "status": r["status"], "total": r["total"],
                                  "why_current": r["reasons"], "why_alternative": r["reasons_alt"]}
                                 for r in only_alt.sort("fh_name").iter_rows(named=True)],
        })
    return {
        "title": "Policy what-if",
        "from": editions[0], "to": editions[-1],
        "current": summary(current, mandates[0], sources[0]),
        "alternative": summary(alternative, mandates[1], sources[1]),
        "editions": out_editions,
        "turnover": {"current": turnover(cur, editions, flips_over), "alternative": turnover(alt, editions, flips_over)},
        "notes": _notes(current, alternative, editions, scored),
        "attribution": words.attribution(f"{editions[0]}-{editions[-1]}"),
    }


def _notes(current: Policy, alternative: Policy, editions: list[int], scored: pl.DataFrame) -> list[str]:
    notes = ["Counts and turnover are of countries (FH's territories are listed but not counted); each list takes "
             "effect on the day FH published its edition (data/releases.csv). Committee overrides are left out: they "
             "apply to both lists alike."]
    scoreless = sorted(set(scored.filter(pl.col("total").is_null() & pl.col("status").is_not_null())["edition"].to_list())
                       & set(editions))
    uses_scores = [p for p in (current, alternative) if p.min_total is not None or p.decline_points is not None]
    if scoreless and uses_scores:
        notes.append(f"FH published no Total scores for {scoreless[0]}-{scoreless[-1]} (only ratings): a score rule "
                     "cannot be tested there and excludes every rated country (fail closed). Compare score rules "
                     "from 2003 on (--from 2003).")
    return notes


def turnover(frame: pl.DataFrame, editions: list[int], flips_over: int) -> dict[str, Any]:
    """Exclusions and re-admissions between consecutive editions in the range, flips per country, exclusion
    spells (in editions) and re-admissions within two editions of the exclusion. Countries only."""
    countries = frame.filter((pl.col("kind") == "c") & pl.col("edition").is_in(editions))
    index = {e: i for i, e in enumerate(editions)}
    per_year: dict[int, dict[str, Any]] = {e: {"edition": e, "effective": published(e).isoformat(), "excluded": 0,
                                                "exclusions": 0, "readmissions": 0} for e in editions}
    flips: dict[str, dict] = {}
    spells: list[int] = []
    quick: list[dict] = []
    readmitted: list[dict] = []
    for (entity,), rows in countries.sort("edition").group_by(["entity"], maintain_order=True):
        seq = rows.select("edition", "eligible", "fh_name", "iso2").rows()
        start = None if seq[0][1] else index[seq[0][0]]
        by_exclusion = False  # a spell open at the start of the range (or of the country) was not an exclusion
        for e, ok, *_ in seq:
            per_year[e]["excluded"] += 0 if ok else 1
        for (e0, ok0, *_), (e1, ok1, name, iso2) in zip(seq, seq[1:], strict=False):
            if ok0 == ok1 or index[e1] != index[e0] + 1:
                continue
            flips.setdefault(entity, {"name": name, "iso2": iso2, "flips": 0, "editions": []})
            flips[entity]["flips"] += 1
            flips[entity]["editions"].append(e1)
            if not ok1:
                per_year[e1]["exclusions"] += 1
                start, by_exclusion = index[e1], True
            else:
                per_year[e1]["readmissions"] += 1
                readmitted.append({"name": name, "iso2": iso2, "edition": e1})
                if start is not None:
                    length = index[e1] - start
                    spells.append(length)
                    if length <= 2 and by_exclusion:
                        quick.append({"name": name, "iso2": iso2, "excluded": editions[start], "readmitted": e1})
                start = None
        if start is not None:
            spells.append(index[seq[-1][0]] - start + 1)
    years = [per_year[e] for e in editions]
    return {
        "exclusions": sum(y["exclusions"] for y in years[1:]),
        "readmissions": sum(y["readmissions"] for y in years[1:]),
        "by_edition": years,
        "flips_over": flips_over,
        "flips": {v["iso2"] or v["name"]: v for v in sorted(flips.values(), key=lambda v: (-v["flips"], v["name"]))
                  if v["flips"] > flips_over},
        "median_exclusion_spell": statistics.median(spells) if spells else None,
        "readmitted": sorted(readmitted, key=lambda r: (r["edition"], r["name"])),
        "readmitted_within_two_editions": len(quick),
        "quick_readmissions": quick,
    }


def today(in_force: dict, entries: pl.DataFrame, alternative: pl.DataFrame, overridden: set[str]) -> dict[str, Any]:
    """Pure: what the alternative changes in the list in force (`entries`: its stored rows) for the same edition.
    A country a committee override excludes stays excluded whatever the alternative says."""
    edition = in_force["edition"]
    alt = alternative.filter(pl.col("edition") == edition).select("entity", pl.col("eligible").alias("alt"),
                                                                   pl.col("reasons").alias("why_alternative"))
    rows = entries.join(alt, on="entity", how="inner").filter(~((pl.col("kind") == "t") & pl.col("iso2").is_null()))
    out = rows.filter(pl.col("eligible") & ~pl.col("alt"))
    back = rows.filter(~pl.col("eligible") & pl.col("alt") & ~pl.col("iso2").is_in(sorted(overridden)))

    def named(frame: pl.DataFrame) -> list[dict]:
        return [{"name": r["fh_name"], "iso2": r["iso2"], "status": r["status"], "total": r["total"],
                 "why_in_force": r["reasons"], "why_alternative": r["why_alternative"]}
                for r in frame.sort("fh_name").iter_rows(named=True)]

    return {"list_version": in_force["id"], "edition": edition, "fiw": words.title(edition),
            "effective_from": in_force["effective_from"],
            "excluded_in_force": rows.filter((pl.col("kind") == "c") & ~pl.col("eligible")).height,
            "excluded_alternative": rows.filter((pl.col("kind") == "c") & ~pl.col("alt")).height,
            "newly_excluded": named(out), "newly_eligible": named(back),
            "overridden": sorted(overridden)}


def book(conn: Any, holdings: Any, changes: dict, policy: Policy, alternative: Policy, value: str,
         portfolio: str | None, mandate: Mandate | None) -> dict[str, Any]:
    """The alternative list against the book, through the impact code: each identifier answered from the list
    in force, then the countries the alternative moves turned around; staged as if published today."""
    from sovereign.eligibility import staging
    from sovereign.impact import compare
    from sovereign.lookup import covering
    from sovereign.screen import answer_table, tally
    from sovereign.store import reads

    counted = tally(holdings, value, portfolio)
    ids = counted["_id"].unique().to_list()
    before = answer_table(conn, ids, mandate=mandate, version_id=changes["list_version"], codes_only=holdings.codes_only)
    out = [c["iso2"] for c in changes["newly_excluded"] if c["iso2"]]
    back = [c["iso2"] for c in changes["newly_eligible"] if c["iso2"]]
    version = reads.version(conn, changes["list_version"])
    judged = pl.col("iso2").replace(covering(conn, version) if version else {})  # Puerto Rico: the US, while FH says so
    after = before.with_columns(verdict=pl.when(judged.is_in(out) & (pl.col("verdict") == "eligible"))
                                .then(pl.lit("excluded"))
                                .when(judged.is_in(back) & (pl.col("verdict") == "excluded"))
                                .then(pl.lit("eligible")).otherwise("verdict"))
    no_new, divest = staging(clock.today(), alternative)
    source = {"list_version": changes["list_version"], "edition": changes["edition"], "state": "published",
              "effective_from": changes["effective_from"], "fiw": changes["fiw"]}
    return {"list_version": changes["list_version"], "value_column": value, "portfolio_column": portfolio,
            "from": source, "to": source | {"list_version": "alternative", "state": "built under the alternative policy"},
            "mandate": mandate.name if mandate else None, "attribution": words.attribution(changes["edition"]),
            "staging": f"if the alternative were published with effect from {clock.today()}"} | compare(
        counted, before, after, no_new, divest)


# -- output ----------------------------------------------------------------------------------------------------

def lead(r: dict) -> list[str]:
    cur, alt = r["turnover"]["current"], r["turnover"]["alternative"]
    lines = [f"{r['current']['source']} ({'; '.join(r['current']['rules'])}) against {r['alternative']['source']} "
             f"({'; '.join(r['alternative']['rules'])}), editions {r['from']}-{r['to']}.",
             f"Exclusions / re-admissions: {cur['exclusions']} / {cur['readmissions']} under the policy in force, "
             f"{alt['exclusions']} / {alt['readmissions']} under the alternative; editions that differ: "
             f"{sum(1 for e in r['editions'] if e['only_current'] or e['only_alternative'])} of {len(r['editions'])}."]
    if "today" in r:
        t = r["today"]
        lines.append(f"Today (list version {t['list_version']}, {t['fiw']}): the alternative would exclude "
                     f"{len(t['newly_excluded'])} more ({', '.join(c['name'] for c in t['newly_excluded']) or 'none'}) "
                     f"and re-admit {len(t['newly_eligible'])} "
                     f"({', '.join(c['name'] for c in t['newly_eligible']) or 'none'}).")
    return lines


def to_sheets(r: dict) -> dict[str, pl.DataFrame]:
    """Typed sheets: whole numbers as numbers, effective dates as dates."""
    as_date = pl.col("Effective").str.to_date()
    editions = pl.DataFrame([{
        "Edition": e["edition"], "Effective": e["effective"], "Excluded (in force)": _countries(e["excluded_current"]),
        "Excluded (alternative)": _countries(e["excluded_alternative"]),
        "Only in force": ", ".join(c["name"] for c in e["only_current"]),
        "Only alternative": ", ".join(c["name"] for c in e["only_alternative"])} for e in r["editions"]],
        schema_overrides={"Edition": pl.Int64}).with_columns(as_date)
    diffs = [{"Edition": e["edition"], "Effective": e["effective"], "Country": c["name"], "ISO2": c["iso2"],
              "Excluded by": side, "Status": words.status_word(c["status"]), "Total": c["total"],
              "Why (in force)": c["why_current"], "Why (alternative)": c["why_alternative"]}
             for e in r["editions"] for key, side in (("only_current", "policy in force"),
                                                      ("only_alternative", "alternative")) for c in e[key]]
    schema = {"Edition": pl.Int64, "Effective": pl.String, "Country": pl.String, "ISO2": pl.String,
              "Excluded by": pl.String, "Status": pl.String, "Total": pl.Int64, "Why (in force)": pl.String,
              "Why (alternative)": pl.String}
    turnover = pl.DataFrame([{
        "Edition": c["edition"], "Effective": c["effective"], "Excluded (in force)": c["excluded"],
        "Exclusions (in force)": c["exclusions"], "Re-admissions (in force)": c["readmissions"],
        "Excluded (alternative)": a["excluded"], "Exclusions (alternative)": a["exclusions"],
        "Re-admissions (alternative)": a["readmissions"]}
        for c, a in zip(r["turnover"]["current"]["by_edition"], r["turnover"]["alternative"]["by_edition"], strict=True)],
        schema_overrides={"Edition": pl.Int64}).with_columns(as_date)
    flips = pl.DataFrame([{"Policy": side, "Country": v["name"], "ISO2": v["iso2"], "Flips": v["flips"],
                           "Editions": ", ".join(map(str, v["editions"]))}
                          for side in ("current", "alternative") for v in r["turnover"][side]["flips"].values()],
                         schema={"Policy": pl.String, "Country": pl.String, "ISO2": pl.String, "Flips": pl.Int64,
                                 "Editions": pl.String})
    sheets = {"Summary": pl.DataFrame({"Item": ["In force", "Alternative", *(["Note"] * len(r["notes"])), "Source"],
                                       "What": ["; ".join(r["current"]["rules"]), "; ".join(r["alternative"]["rules"]),
                                                *r["notes"], r["attribution"]]}),
              "Editions": editions,
              "Differences": pl.DataFrame(diffs, schema=schema).with_columns(as_date),
              "Turnover": turnover, "Flips": flips}
    if "today" in r:
        t = r["today"]
        sheets["Today"] = pl.DataFrame(
            [{"Change": d, "Country": c["name"], "ISO2": c["iso2"], "Status": words.status_word(c["status"]),
              "Total": c["total"], "Why (in force)": c["why_in_force"], "Why (alternative)": c["why_alternative"]}
             for key, d in (("newly_excluded", "excluded by the alternative"),
                            ("newly_eligible", "re-admitted by the alternative")) for c in t[key]],
            schema={"Change": pl.String, "Country": pl.String, "ISO2": pl.String, "Status": pl.String,
                    "Total": pl.Int64, "Why (in force)": pl.String, "Why (alternative)": pl.String})
    for name, result in r.get("book", {}).items():
        from sovereign.impact import to_sheets as impact_sheets

        for sheet, frame in impact_sheets(result).items():
            sheets[f"Book {sheet}"[:31] if len(r["book"]) == 1 else f"{name[:14]} {sheet}"[:31]] = frame
    return sheets


def to_markdown(r: dict) -> str:
    lines = [f"# {r['title']}: editions {r['from']}-{r['to']}", "", *lead(r), "", "## Editions", "",
             "| Edition | Effective | Excluded (in force) | Excluded (alternative) | Only in force | Only alternative |",
             "|---|---|---:|---:|---|---|"]
    for e in r["editions"]:
        lines.append(f"| {e['edition']} | {e['effective']} | {_countries(e['excluded_current'])} | "
                     f"{_countries(e['excluded_alternative'])} | {', '.join(c['name'] for c in e['only_current']) or '-'} | "
                     f"{', '.join(c['name'] for c in e['only_alternative']) or '-'} |")
    lines += ["", "## Why they differ", ""]
    for e in r["editions"]:
        for key, side in (("only_current", "in force"), ("only_alternative", "alternative")):
            for c in e[key]:
                why = c["why_current"] if key == "only_current" else c["why_alternative"]
                lines.append(f"- {e['edition']}: {c['name']} ({c['iso2'] or '-'}) excluded only under the {side}: {why}")
    lines += ["", "## Turnover", "", "| | In force | Alternative |", "|---|---:|---:|"]
    cur, alt = r["turnover"]["current"], r["turnover"]["alternative"]
    for key, label in (("exclusions", "Exclusions"), ("readmissions", "Re-admissions"),
                       ("median_exclusion_spell", "Median exclusion spell (editions)"),
                       ("readmitted_within_two_editions", "Re-admitted within two editions")):
        lines.append(f"| {label} | {cur[key]} | {alt[key]} |")
    lines.append(f"| Countries flipping more than {cur['flips_over']} times | {len(cur['flips'])} | {len(alt['flips'])} |")
    if "today" in r:
        t = r["today"]
        lines += ["", f"## Today: list version {t['list_version']} ({t['fiw']}, in force from {t['effective_from']})", ""]
        for key, label in (("newly_excluded", "Excluded by the alternative"), ("newly_eligible", "Re-admitted")):
            for c in t[key]:
                lines.append(f"- {label}: {c['name']} ({c['iso2']}): {c['why_alternative']}")
        if not (t["newly_excluded"] or t["newly_eligible"]):
            lines.append("- No change.")
    for name, result in r.get("book", {}).items():
        from sovereign.impact import to_markdown as impact_markdown

        body = impact_markdown(result).split("\n", 2)[2]
        lines += ["", f"## The book: {name}", "", re.sub(r"^## ", "### ", body, flags=re.M)]
    lines += ["", *r["notes"], "", f"{r['attribution']}.", ""]
    return "\n".join(lines)


def charts(r: dict) -> dict[str, str]:
    from sovereign.charts import difference_timeline, excluded_per_year

    cur, alt = r["turnover"]["current"]["by_edition"], r["turnover"]["alternative"]["by_edition"]
    rows: dict[str, dict] = {}
    for e in r["editions"]:
        for key, side in (("only_current", "current"), ("only_alternative", "alternative")):
            for c in e[key]:
                rows.setdefault(c["name"], {"name": c["name"], "marks": []})["marks"].append((e["edition"], side))
    return {"excluded": excluded_per_year([y["edition"] for y in cur], [y["excluded"] for y in cur],
                                          [y["excluded"] for y in alt]),
            "timeline": difference_timeline(sorted(rows.values(), key=lambda x: x["name"]), r["from"], r["to"])}


def to_html(r: dict) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    from sovereign.tables import _cell

    env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=select_autoescape())
    tables = [(name, frame.columns, [[_cell(v) for v in row] for row in frame.rows()])
              for name, frame in to_sheets(r).items() if name != "Summary" and not frame.is_empty()]
    return env.get_template("whatif.html.j2").render(r=r, lead=lead(r), charts=charts(r), tables=tables)
