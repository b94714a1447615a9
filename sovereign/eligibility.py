"""Eligibility over frames, pure: the base list of an edition, staging, mandates, overrides.

A mandate's eligible set is computed as the base set minus the mandate's own exclusions, so it is a
subset of the base set by construction (and a property test checks it over random policies).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from fiw import methodology as m
from fiw import words
from sovereign.policy import Mandate, Policy


def _status_words(column: str) -> pl.Expr:
    return pl.col(column).replace_strict(m.STATUS_WORDS, default="not rated")


ADD_Q = "below zero because FH deducts up to 4 points (Add Q) for forced demographic change"


def _scores_text() -> pl.Expr:
    """'PR 16/40, CL 16/60' where FH published aggregates, else the ratings; a negative PR says why."""
    return (
        pl.when(pl.col("pr") < 0)
        .then(pl.format("PR {}/40 ({}), CL {}/60", pl.col("pr"), pl.lit(ADD_Q), pl.col("cl")))
        .when(pl.col("pr").is_not_null())
        .then(pl.format("PR {}/40, CL {}/60", pl.col("pr"), pl.col("cl")))
        .when(pl.col("pr_rating").is_not_null())
        .then(pl.format("PR rating {}, CL rating {}", pl.col("pr_rating"), pl.col("cl_rating")))
        .otherwise(pl.format("total {}/100", pl.col("total")))
    )


def evaluate(scored: pl.DataFrame, policy: Policy, edition: int) -> pl.DataFrame:
    """One edition's scored entities -> base-list entries: eligible, and why in words."""
    status = _status_words("status")
    frame = scored.filter(pl.col("edition") == edition)
    labels = frame.get_column("edition_label").drop_nulls().to_list() if "edition_label" in frame.columns else []
    fiw = words.title(labels[0] if labels else edition)  # FH's own label: "1989-90", not 1989
    parent = frame.filter(pl.col("kind") == "c").select(
        pl.col("iso2").alias("parent_iso2"), pl.col("status").alias("parent_status"), pl.col("fh_name").alias("parent_name")
    )
    frame = frame.join(parent, on="parent_iso2", how="left")
    excluded_status = pl.col("status").is_in(list(policy.exclude_status))
    stricter = (
        (pl.col("kind") == "t") & pl.lit(policy.territories == "stricter")
        & pl.col("parent_status").is_in(list(policy.exclude_status))
    )
    no_code = (pl.col("kind") == "t") & pl.col("iso2").is_null()
    own_status = (pl.col("kind") == "t") & pl.lit(policy.territories == "own") & pl.col("parent_name").is_not_null()
    unrated = pl.col("status").is_null()
    scores = _scores_text()
    reason = (
        pl.when(no_code).then(pl.format(
            "Territory with no ISO code of its own: not a separate issuer ({} in {}: {}); it does not change {}'s status",
            status, pl.lit(fiw), scores, pl.col("parent_name").fill_null(pl.col("parent_iso2"))))
        .when(unrated).then(pl.lit(f"Not rated in {fiw}"))
        .when(excluded_status).then(pl.format("{} in {}: {}", status, pl.lit(fiw), scores))
        .when(stricter).then(pl.format(
            "{} in {}: {}; excluded because its parent {} is {} (policy: territories = stricter)",
            status, pl.lit(fiw), scores, pl.col("parent_name"), _status_words("parent_status")))
        .when(own_status).then(pl.format(
            "{} in {}: {}; judged on its own status (policy: territories = own), whatever its parent {}'s "
            "status ({})", status, pl.lit(fiw), scores, pl.col("parent_name"), _status_words("parent_status")))
        .otherwise(pl.format("{} in {}: {}", status, pl.lit(fiw), scores))
    )
    eligible = ~no_code & ~excluded_status & ~stricter & (~unrated | pl.lit(policy.unrated == "eligible"))
    return frame.select(
        "entity", "iso2", "fh_name", "kind", "status", "pr", "cl", "total", "pr_rating", "cl_rating",
        eligible.alias("eligible"), reason.alias("reasons"),
    ).sort("fh_name")


def staging(effective_from: date, policy: Policy) -> tuple[str, str]:
    return effective_from.isoformat(), (effective_from + timedelta(days=policy.divest_days)).isoformat()


def stage(entries: pl.DataFrame, previous: pl.DataFrame | None, effective_from: date, policy: Policy) -> pl.DataFrame:
    """Newly excluded entities (eligible in the previous version, not now) get their staging dates."""
    if previous is None or previous.is_empty():
        return entries.with_columns(no_new_buys_from=pl.lit(None, pl.String), divest_by=pl.lit(None, pl.String))
    before = previous.select("entity", pl.col("eligible").alias("_was"))
    no_new, divest = staging(effective_from, policy)
    newly = pl.col("_was").fill_null(False) & ~pl.col("eligible")
    return entries.join(before, on="entity", how="left").with_columns(
        no_new_buys_from=pl.when(newly).then(pl.lit(no_new)),
        divest_by=pl.when(newly).then(pl.lit(divest)),
    ).drop("_was")


def apply_mandate(frame: pl.DataFrame, mandate: Mandate, edition: int) -> pl.DataFrame:
    """Tighten a base-evaluated frame (eligible, reasons: list) by one mandate's rules.

    The result's eligible is `base eligible AND NOT (any mandate rule)`, so it can only shrink. A
    minimum score cannot be tested where FH published no aggregates (before 2003): that fails closed.
    """
    fiw = words.title(edition)
    tag = f"mandate {mandate.name}"
    status = _status_words("status")
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if mandate.exclude_status:
        rules.append((pl.col("status").is_in(list(mandate.exclude_status)),
                      pl.format("{}: {} in {} is excluded", pl.lit(tag), status, pl.lit(fiw))))
    for key, column, out_of in (("min_total", "total", 100), ("min_pr", "pr", 40), ("min_cl", "cl", 60)):
        floor = getattr(mandate, key)
        if floor is not None:
            label = {"total": "Total", "pr": "PR", "cl": "CL"}[column]
            rules.append((pl.col(column).is_null() & pl.col("status").is_not_null(),
                          pl.lit(f"{tag}: needs {label} >= {floor}, and {fiw} has no {label} score")))
            rules.append((pl.col(column) < floor,
                          pl.format("{}: {} {}/{} is below the minimum of {}", pl.lit(tag), pl.lit(label),
                                    pl.col(column), pl.lit(out_of), pl.lit(floor))))
    if mandate.exclude_countries:
        rules.append((pl.col("iso2").is_in(list(mandate.exclude_countries)), pl.lit(f"{tag}: country excluded by name")))
    if mandate.unrated == "exclude":
        rules.append((pl.col("status").is_null() & pl.col("scope").eq("country"),
                      pl.lit(f"{tag}: not rated in {fiw}")))
    if not rules:
        return frame
    hits = [pl.when(cond.fill_null(False)).then(text) for cond, text in rules]
    return frame.with_columns(_m=pl.concat_list(hits).list.drop_nulls()).with_columns(
        eligible=pl.col("eligible") & (pl.col("_m").list.len() == 0),
        reasons=pl.col("reasons").list.concat(pl.col("_m")),
    ).drop("_m")


def apply_overrides(frame: pl.DataFrame, overrides: list[dict], divest_days: int | None = None) -> pl.DataFrame:
    """Committee exclusions in force: the country is excluded for the base list and every mandate. Where the
    frame carries staging columns, a country the override newly excludes is staged like a list exclusion:
    no new buys from the override's first day, divested `divest_days` later."""
    if not overrides:
        return frame
    rows = [{"iso2": o["iso2"], "_o": override_reason(o), "_from": o["valid_from"]} for o in overrides]
    table = pl.DataFrame(rows, schema={"iso2": pl.String, "_o": pl.String, "_from": pl.String}).group_by("iso2").agg(
        pl.col("_o"), pl.col("_from").min())
    out = frame.join(table, on="iso2", how="left")
    if divest_days is not None and "divest_by" in frame.columns:
        newly = pl.col("_o").is_not_null() & pl.col("eligible")
        divest = (pl.col("_from").str.to_date() + pl.duration(days=divest_days)).dt.strftime("%Y-%m-%d")
        out = out.with_columns(no_new_buys_from=pl.when(newly).then(pl.col("_from")).otherwise("no_new_buys_from"),
                               divest_by=pl.when(newly).then(divest).otherwise("divest_by"))
    return out.with_columns(
        eligible=pl.col("eligible") & pl.col("_o").is_null(),
        reasons=pl.when(pl.col("_o").is_null()).then(pl.col("reasons")).otherwise(pl.col("reasons").list.concat("_o")),
    ).drop("_o", "_from")


def override_reason(o: dict) -> str:
    until = f" until {o['valid_to']}" if o.get("valid_to") else ""
    return f"Excluded by committee override {o['id']} ({o['decided_by']}, from {o['valid_from']}{until}): {o['reason']}"
