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
    """One edition's scored entities -> base-list entries: eligible, and why in words. Rules that read history
    (persistence, decline) find the previous editions in `scored`; the pipeline puts them there."""
    if not policy.needs_history:
        return evaluate_editions(scored, policy, {edition}).drop("edition")
    back = (policy.persistence - 1) + (policy.decline_editions or 0)  # the editions the rules can reach
    editions = sorted(e for e in scored["edition"].unique().to_list() if e <= edition)[-(back + 1):]
    return evaluate_editions(scored.filter(pl.col("edition").is_in(editions)), policy).filter(
        pl.col("edition") == edition).drop("edition")


def edition_titles(scored: pl.DataFrame) -> pl.DataFrame:
    """Each edition's FH title from its own label ("1989-90", not 1989), and its place in FH's sequence
    (`_ix`: editions, not years, since FH published no 2002 edition)."""
    label = (pl.col("edition_label").drop_nulls().first() if "edition_label" in scored.columns
             else pl.lit(None, pl.String))
    return (scored.group_by("edition").agg(label.alias("_label")).sort("edition").with_row_index("_ix")
            .select("edition", pl.col("_ix").cast(pl.Int32),
                    pl.format("Freedom in the World {}", pl.coalesce(pl.col("_label"), pl.col("edition").cast(pl.String)))
                    .alias("_fiw")))


def evaluate_editions(scored: pl.DataFrame, policy: Policy, editions: set[int] | None = None) -> pl.DataFrame:
    """Base-list entries of every edition in `scored` (or of `editions`), one frame with an `edition` column:
    FH's status, then the policy's score buffer, decline and persistence, each saying so in the reasons."""
    titles = edition_titles(scored)
    frame = scored if editions is None else scored.filter(pl.col("edition").is_in(list(editions)))
    frame = frame.join(titles, on="edition", how="left")
    status = _status_words("status")
    parent = frame.filter(pl.col("kind") == "c").select(
        "edition", pl.col("iso2").alias("parent_iso2"), pl.col("status").alias("parent_status"),
        pl.col("fh_name").alias("parent_name"))
    frame = frame.join(parent, on=["edition", "parent_iso2"], how="left")
    fiw = pl.col("_fiw")
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
            status, fiw, scores, pl.col("parent_name").fill_null(pl.col("parent_iso2"))))
        .when(unrated).then(pl.format("Not rated in {}", fiw))
        .when(excluded_status).then(pl.format("{} in {}: {}", status, fiw, scores))
        .when(stricter).then(pl.format(
            "{} in {}: {}; excluded because its parent {} is {} (policy: territories = stricter)",
            status, fiw, scores, pl.col("parent_name"), _status_words("parent_status")))
        .when(own_status).then(pl.format(
            "{} in {}: {}; judged on its own status (policy: territories = own), whatever its parent {}'s "
            "status ({})", status, fiw, scores, pl.col("parent_name"), _status_words("parent_status")))
        .otherwise(pl.format("{} in {}: {}", status, fiw, scores))
    )
    eligible = ~no_code & ~excluded_status & ~stricter & (~unrated | pl.lit(policy.unrated == "eligible"))
    frame = frame.with_columns(eligible.alias("eligible"), reason.alias("reasons"))
    rules: list[tuple[pl.Expr, pl.Expr]] = []
    if policy.min_total is not None:
        rules += _buffer_rules(policy.min_total, "policy: min_total", "the policy's")
    if policy.decline_points is not None and policy.decline_editions is not None:
        frame = _with_decline_base(frame, titles, policy.decline_editions)
        rules += _decline_rules(policy.decline_points, policy.decline_editions, "policy: decline")
    if rules:
        hits = [pl.when(cond.fill_null(False) & ~no_code).then(text) for cond, text in rules]
        frame = frame.with_columns(_r=pl.concat_list(hits).list.drop_nulls()).with_columns(
            eligible=pl.col("eligible") & (pl.col("_r").list.len() == 0),
            reasons=pl.when(pl.col("_r").list.len() == 0).then("reasons")
            .otherwise(pl.concat_str("reasons", pl.lit("; "), pl.col("_r").list.join("; "))))
    if policy.persistence > 1:
        held = _held(frame, titles, "eligible", policy.persistence)
        text = pl.format("stays excluded: excluded in {}, and a country is re-admitted only after {} consecutive "
                         "editions above the line (policy: persistence = {})", pl.col("_held"),
                         pl.lit(policy.persistence), pl.lit(policy.persistence))
        frame = held.with_columns(
            reasons=pl.when(pl.col("_held").is_not_null() & pl.col("eligible"))
            .then(pl.concat_str("reasons", pl.lit("; "), text)).otherwise("reasons"),
            eligible=pl.col("eligible") & pl.col("_held").is_null())
    return frame.select(
        "edition", "entity", "iso2", "fh_name", "kind", "status", "pr", "cl", "total", "pr_rating", "cl_rating",
        "eligible", "reasons",
    ).sort("edition", "fh_name")


def _buffer_rules(floor: int, rule: str, whose: str) -> list[tuple[pl.Expr, pl.Expr]]:
    """The score buffer: excluded below a Total, whatever FH's status; no Total to test fails closed."""
    return [(pl.col("total").is_null() & pl.col("status").is_not_null(),
             pl.format("needs a Total of at least {}, and {} has no Total score ({})", pl.lit(floor), pl.col("_fiw"),
                       pl.lit(rule))),
            (pl.col("total") < floor,
             pl.format("Total {}/100 is below {} minimum of {} ({})", pl.col("total"), pl.lit(whose), pl.lit(floor),
                       pl.lit(rule)))]


def _with_decline_base(frame: pl.DataFrame, titles: pl.DataFrame, over: int) -> pl.DataFrame:
    """`_was`, `_was_fiw`: the entity's earliest Total in the `over` editions before each row's."""
    key = "entity" if "entity" in frame.columns else "iso2"
    earlier = frame.select(key, "_ix", pl.col("total").alias("_was"), pl.col("_fiw").alias("_was_fiw")).filter(
        pl.col("_was").is_not_null())
    out = frame.with_columns(_was=pl.lit(None, pl.Int64), _was_fiw=pl.lit(None, pl.String))
    for back in range(1, over + 1):  # the farthest edition back wins: the loss over the whole window
        at = earlier.with_columns(pl.col("_ix") + back).rename({"_was": "_w", "_was_fiw": "_wf"})
        out = out.join(at, on=[key, "_ix"], how="left").with_columns(
            _was=pl.coalesce("_w", "_was"), _was_fiw=pl.when(pl.col("_w").is_not_null()).then("_wf").otherwise("_was_fiw"),
        ).drop("_w", "_wf")
    return out


def _decline_rules(points: int, over: int, rule: str) -> list[tuple[pl.Expr, pl.Expr]]:
    """FH's "decline": more than `points` Total points lost over `over` editions. A decline that cannot be
    measured (no Total now, or none in the editions before) fails closed."""
    rated = pl.col("status").is_not_null()
    return [(rated & pl.col("total").is_null(),
             pl.format("a decline over {} editions cannot be measured: {} has no Total score ({})", pl.lit(over),
                       pl.col("_fiw"), pl.lit(rule))),
            (rated & pl.col("total").is_not_null() & pl.col("_was").is_null(),
             pl.format("a decline over {} editions cannot be measured: no Total score in the {} editions before {} ({})",
                       pl.lit(over), pl.lit(over), pl.col("_fiw"), pl.lit(rule))),
            (pl.col("_was") - pl.col("total") > points,
             pl.format("Total fell from {} ({}) to {}: {} points lost, more than {} over {} editions ({})",
                       pl.col("_was"), pl.col("_was_fiw"), pl.col("total"), pl.col("_was") - pl.col("total"),
                       pl.lit(points), pl.lit(over), pl.lit(rule)))]


def _held(frame: pl.DataFrame, titles: pl.DataFrame, line: str, editions: int) -> pl.DataFrame:
    """`_held`: the title of the latest of the previous `editions - 1` editions in which the entity was below
    the line (`line` false), or null. Editions in which FH did not list it do not count either way."""
    key = "entity" if "entity" in frame.columns else "iso2"
    below = frame.filter(~pl.col(line)).select(key, "_ix", pl.col("_fiw").alias("_hf"))
    out = frame.with_columns(_held=pl.lit(None, pl.String))
    for back in range(editions - 1, 0, -1):  # nearest last, so the latest exclusion is named
        at = below.with_columns(pl.col("_ix") + back)
        out = out.join(at, on=[key, "_ix"], how="left").with_columns(
            _held=pl.coalesce("_hf", "_held")).drop("_hf")
    return out


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


def apply_mandate(frame: pl.DataFrame, mandate: Mandate, edition: int,
                  history: pl.DataFrame | None = None) -> pl.DataFrame:
    """Tighten a base-evaluated frame (eligible, reasons: list) by one mandate's rules.

    The result's eligible is `base eligible AND NOT (any mandate rule)`, so it can only shrink. A
    minimum score cannot be tested where FH published no aggregates (before 2003): that fails closed.
    A mandate's persistence and decline read `history` (the same columns, with `edition`, for the editions
    before); without it they cannot be tested, and that fails closed too.
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
    if mandate.needs_history:
        frame, more = _mandate_history(frame, mandate, edition, history, rules)
        rules += more
    if not rules:
        return frame
    hits = [pl.when(cond.fill_null(False)).then(text) for cond, text in rules]
    return frame.with_columns(_m=pl.concat_list(hits).list.drop_nulls()).with_columns(
        eligible=pl.col("eligible") & (pl.col("_m").list.len() == 0),
        reasons=pl.col("reasons").list.concat(pl.col("_m")),
    ).drop("_m", "_h", strict=False)


def _mandate_history(frame: pl.DataFrame, mandate: Mandate, edition: int, history: pl.DataFrame | None,
                     rules: list[tuple[pl.Expr, pl.Expr]]) -> tuple[pl.DataFrame, list[tuple[pl.Expr, pl.Expr]]]:
    """A mandate's decline and persistence: its line in each earlier edition is the base list's eligibility
    there minus the mandate's own rules, read from `history`."""
    tag = f"mandate {mandate.name}"
    if history is None:
        return frame, [(pl.col("status").is_not_null(), pl.lit(
            f"{tag}: its persistence and decline rules need the previous editions, which this answer does not have"))]
    key = "entity" if "entity" in frame.columns and "entity" in history.columns else "iso2"
    cols = [key, "status", "pr", "cl", "total", "eligible", "scope"]
    now = frame.select(cols).with_columns(edition=pl.lit(edition, pl.Int64))
    both = (pl.concat([history.select(*cols, pl.col("edition").cast(pl.Int64)).filter(pl.col("edition") < edition), now],
                      how="vertical_relaxed").filter(pl.col(key).is_not_null()).unique([key, "edition"], keep="last"))
    titles = edition_titles(both)
    both = both.join(titles, on="edition", how="left")
    hit = pl.any_horizontal([cond.fill_null(False) for cond, _ in rules]) if rules else pl.lit(False)
    both = both.with_columns(_line=pl.col("eligible").fill_null(False) & ~hit)
    texts: list[pl.Expr] = []
    if mandate.decline_points is not None and mandate.decline_editions is not None:
        both = _with_decline_base(both, titles, mandate.decline_editions)
        decline = _decline_rules(mandate.decline_points, mandate.decline_editions, "mandate rule: decline")
        texts += [pl.when(cond.fill_null(False)).then(pl.concat_str(pl.lit(f"{tag}: "), text)) for cond, text in decline]
        both = both.with_columns(_line=pl.col("_line") & ~pl.any_horizontal([c.fill_null(False) for c, _ in decline]))
    if (mandate.persistence or 1) > 1:
        both = _held(both, titles, "_line", mandate.persistence or 1)
        texts.append(pl.when(pl.col("_held").is_not_null() & pl.col("_line")).then(pl.format(
            "{}: stays excluded: excluded in {}, and the mandate re-admits a country only after {} consecutive "
            "editions above its line (mandate rule: persistence = {})", pl.lit(tag), pl.col("_held"),
            pl.lit(mandate.persistence), pl.lit(mandate.persistence))))
    current = both.filter(pl.col("edition") == edition).select(
        key, pl.concat_list(texts).list.drop_nulls().alias("_h"))
    frame = frame.join(current, on=key, how="left")
    return frame, [(pl.col("_h").list.len() > 0, pl.col("_h").list.join("; "))]


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
