"""Recomputed against published: FH's ratings and status, edition by edition.

From edition 2004 the mechanical rule must reproduce FH exactly, so any difference there is a
parsing or data error (exit 1), unless it is one of FH's own slips listed in data/fh_errata.csv.
Before 2004 FH's call stands and those differences are expected, in two kinds: FH's overlapping band at a
Freedom Rating of 5.5, and FH departing from its stated rule (both listed and counted apart).
"""

from __future__ import annotations

import polars as pl

from fiw import methodology as m

CHECKS = (
    ("status_pub", "status_calc"),
    ("pr_rating_pub", "pr_rating_calc"),
    ("cl_rating_pub", "cl_rating_calc"),
)


def mismatches(scores: pl.DataFrame, errata: dict[tuple[int, str, str], str]) -> pl.DataFrame:
    """One row per (edition, entity, field) where published and recomputed differ, classified."""
    parts = []
    for published, computed in CHECKS:
        diff = scores.filter(
            pl.col(published).is_not_null() & pl.col(computed).is_not_null()
            & (pl.col(published).cast(pl.String) != pl.col(computed).cast(pl.String))
        ).select(
            "edition", "fh_name", "kind", "iso2", "pr", "cl", "pr_rating_pub", "cl_rating_pub",
            pl.lit(published).alias("field"),
            pl.col(published).cast(pl.String).alias("published"),
            pl.col(computed).cast(pl.String).alias("recomputed"),
        )
        parts.append(diff)
    found = pl.concat(parts).sort("edition", "fh_name", "field")
    erratum = [errata.get((e, n, f)) for e, n, f in found.select("edition", "fh_name", "field").iter_rows()]
    return found.with_columns(erratum=pl.Series(erratum, dtype=pl.String)).with_columns(
        kind_of=pl.when(pl.col("edition") < m.MECHANICAL_FROM).then(pl.lit("expected"))
        .when(pl.col("erratum").is_not_null()).then(pl.lit("known erratum"))
        .otherwise(pl.lit("error"))
    )


def report(scores: pl.DataFrame, errata: dict, conflicts: pl.DataFrame) -> dict:
    """Per-edition counts and every row, ready for JSON or the terminal."""
    found = mismatches(scores, errata)
    editions = sorted(scores["edition"].unique().to_list())
    per_edition = []
    for edition in editions:
        rows = found.filter(pl.col("edition") == edition)
        per_edition.append({
            "edition": edition,
            "entities": scores.filter(pl.col("edition") == edition).height,
            "errors": rows.filter(pl.col("kind_of") == "error").height,
            "expected": rows.filter(pl.col("kind_of") == "expected").height,
            "known_errata": rows.filter(pl.col("kind_of") == "known erratum").height,
        })
    errors = found.filter(pl.col("kind_of") == "error")
    expected = found.filter(pl.col("kind_of") == "expected").drop("kind_of", "erratum")
    overlap = (pl.col("field") == "status_pub") & (pl.col("pr_rating_pub") + pl.col("cl_rating_pub") == 11)
    return {
        "ok": errors.is_empty(),
        "editions": per_edition,
        "errors": errors.drop("kind_of").to_dicts(),
        "expected": expected.to_dicts(),
        # Before 2004 a Freedom Rating of 5.5 could be Partly Free or Not Free: FH's overlapping band. Every
        # other pre-2004 difference is FH departing from its stated rule (Mali 3/3 rated Free in 1997-99).
        "overlap": expected.filter(overlap).to_dicts(),
        "exceptions": expected.filter(~overlap).to_dicts(),
        "known_errata": found.filter(pl.col("kind_of") == "known erratum").drop("kind_of").to_dicts(),
        "source_conflicts": conflicts.to_dicts(),
    }


KEY = ("edition", "fh_name", "kind")


def against_payload(stored: pl.DataFrame, payload: pl.DataFrame) -> pl.DataFrame:
    """Stored score rows that the payload they came from contradicts, one row per (edition, entity, field): what
    the database holds beside what the payload says. A field the payload does not carry (a country page's
    indicators beside a scores table) is not judged; a stored row the payload does not hold is."""
    if stored.is_empty():
        return pl.DataFrame(schema={**{k: pl.String for k in KEY}, "field": pl.String, "stored": pl.String,
                                    "payload": pl.String})
    keys = [pl.col("edition").cast(pl.Int64), pl.col("fh_name").cast(pl.String), pl.col("kind").cast(pl.String)]
    fields = [c for c in payload.columns if c in stored.columns and c not in (*KEY, "source_id", "source", "row")]
    def text(frame: pl.DataFrame, c: str) -> pl.Expr:  # one spelling for both sides: a boolean as 0/1
        return (pl.col(c).cast(pl.Int8) if frame.schema[c] == pl.Boolean else pl.col(c)).cast(pl.String)

    theirs = payload.select(*keys, *[text(payload, c).alias(f"{c}__payload") for c in fields],
                            pl.lit(True).alias("__held")).unique(subset=list(KEY), keep="first")
    ours = stored.select(*keys, *[text(stored, c) for c in fields])
    both = ours.join(theirs, on=list(KEY), how="left")
    parts = [both.filter(pl.col("__held").is_null()).select(
        *KEY, pl.lit("row").alias("field"), pl.lit("stored").alias("stored"), pl.lit("absent").alias("payload"))]
    for c in fields:
        parts.append(both.filter(pl.col("__held") & pl.col(f"{c}__payload").is_not_null()
                                 & pl.col(c).ne_missing(pl.col(f"{c}__payload"))).select(
            *KEY, pl.lit(c).alias("field"), pl.col(c).alias("stored"), pl.col(f"{c}__payload").alias("payload")))
    return pl.concat([p.with_columns(pl.col("edition").cast(pl.String)) for p in parts]).with_columns(
        pl.col("edition").cast(pl.Int64)).sort(*KEY, "field")
