"""Rebuild the bundled snapshot in data/ from FH's files in ../shared/fiw, reproducibly.

    python scripts/build_snapshot.py [--fiw ../shared/fiw]

Writes data/fiw_scores.csv (one row per edition and FH entity, 1973-2026), data/conflicts.csv
(every place two FH sources disagree, and which value the snapshot keeps) and data/manifest.json
(source files with sha256, editions covered, the precedence rules). No timestamps: the same
inputs give byte-identical outputs.

Which source answers what:
- ratings and status: FH's historical ratings workbook (1973-2024), FH's authority for them;
  edition 2025 from the All data workbook; 2026 status from the web scores table (fiw-2026.csv),
  ratings from FH's 2026 workbook as extracted in freedomhouse_2026_countries.csv (countries only).
- scores: the newest FH release that has them: All data (2013-2025, indicators), Aggregate
  FIW06-24 (2006-2012, subcategories), FIW03-05 (2003-2005, aggregates), fiw-2026.csv (2026).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fiw import methodology as m  # noqa: E402
from fiw.tidy import INT_COLUMNS, TIDY_SCHEMA  # noqa: E402
from scrapers.freedomhouse import read_scores_csv, read_workbook  # noqa: E402
from sovereign import paths  # noqa: E402
from sovereign.countries import normalise, published_errata, read_errata  # noqa: E402

RATINGS = "Country_and_Territory_Ratings_and_Statuses_FIW_1973-2024.xlsx"
AGGREGATE = "Aggregate_Category_and_Subcategory_Scores_FIW_2003-2024.xlsx"
ALL_DATA = "All_data_FIW_2013-2025.xlsx"
WEB_2026 = "fiw-2026.csv"
RATINGS_2026 = "freedomhouse_2026_countries.csv"
SCORE_COLUMNS = [c for c in INT_COLUMNS if c not in ("pr_rating_pub", "cl_rating_pub")]
PUBLISHED = ["status_pub", "pr_rating_pub", "cl_rating_pub"]
OUT_COLUMNS = [c for c in TIDY_SCHEMA if c != "row"] + ["source"]
STATUS_WORDS = {"Free": "F", "Partly Free": "PF", "Not Free": "NF"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(fiw: Path) -> dict[str, pl.DataFrame]:
    errata = read_errata()
    frames = {
        RATINGS: read_workbook(fiw / RATINGS, errata=errata),
        AGGREGATE: read_workbook(fiw / AGGREGATE, errata=errata),
        ALL_DATA: read_workbook(fiw / ALL_DATA, errata=errata),
        WEB_2026: read_scores_csv(fiw / WEB_2026, edition=2026, errata=errata),
    }
    return {name: normalise(f.drop("row"), source=name).with_columns(source=pl.lit(name)) for name, f in frames.items()}


def conflicts_between(a: pl.DataFrame, b: pl.DataFrame, fields: list[str], keep: str) -> list[dict]:
    """Every (edition, entity, field) where two sources hold different values."""
    name_a, name_b = a["source"][0], b["source"][0]
    joined = a.join(b, on=["edition", "entity"], how="inner", suffix="_b")
    out = []
    for field in fields:
        diff = joined.filter(pl.col(field).cast(pl.String).ne_missing(pl.col(f"{field}_b").cast(pl.String)))
        diff = diff.filter(pl.col(field).is_not_null() & pl.col(f"{field}_b").is_not_null())
        for row in diff.iter_rows(named=True):
            out.append({
                "edition": row["edition"], "entity": row["entity"], "fh_name": row["fh_name"], "field": field,
                "values": f"{name_a}: {row[field]}; {name_b}: {row[f'{field}_b']}",
                "kept": keep,
            })
    return out


def presence(a: pl.DataFrame, b: pl.DataFrame, editions: pl.Series) -> list[dict]:
    """Entities one source rates in an edition and the other does not."""
    a, b = a.filter(pl.col("edition").is_in(editions.implode())), b.filter(pl.col("edition").is_in(editions.implode()))
    out = []
    for x, y in ((a, b), (b, a)):
        for row in x.join(y, on=["edition", "entity"], how="anti").iter_rows(named=True):
            out.append({"edition": row["edition"], "entity": row["entity"], "fh_name": row["fh_name"], "field": "(row)",
                        "values": f"in {x['source'][0]}, not in {y['source'][0]}", "kept": f"rows of {a['source'][0]}"})
    return out


def build(fiw: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    src = load(fiw)
    hist, agg, alld, web = src[RATINGS], src[AGGREGATE], src[ALL_DATA], src[WEB_2026]
    agg03, agg06 = agg.filter(pl.col("status_pub").is_null()), agg.filter(pl.col("status_pub").is_not_null())
    agg03 = agg03.with_columns(source=pl.lit(f"{AGGREGATE} (FIW03-05)"))
    agg06 = agg06.with_columns(source=pl.lit(f"{AGGREGATE} (FIW06-24)"))

    conflicts: list[dict] = []
    conflicts += conflicts_between(hist, agg06, PUBLISHED, keep=f"{RATINGS} (FH's ratings record)")
    conflicts += conflicts_between(hist, alld, PUBLISHED, keep=f"{RATINGS} (FH's ratings record)")
    conflicts += conflicts_between(alld, agg06, SCORE_COLUMNS, keep=f"{ALL_DATA} (the later release)")
    conflicts += presence(hist, agg06, pl.Series(range(2006, 2025)))
    conflicts += presence(hist, agg03, pl.Series(range(2003, 2006)))
    conflicts += presence(hist, alld, pl.Series(range(2013, 2025)))

    scores_by_edition = pl.concat([
        agg03.filter(pl.col("edition") <= 2005),
        agg06.filter(pl.col("edition") <= 2012),
        alld,
        web,
    ], how="diagonal_relaxed").select("edition", "entity", "fh_name", "region", *SCORE_COLUMNS, "note", "source")

    # Rows and published ratings/status: the historical file through 2024, then All data, then the web table.
    base = pl.concat([
        hist,
        alld.filter(pl.col("edition") == 2025).with_columns(
            edition_label=pl.lit("2025"), year_under_review=pl.lit(2024, pl.Int16)),
        web.with_columns(edition_label=pl.lit("2026"), year_under_review=pl.lit(2025, pl.Int16)),
    ], how="diagonal_relaxed").select(
        "edition", "entity", "kind", "fh_name", "edition_label", "year_under_review", *PUBLISHED, "note", "source",
    )
    merged = base.join(scores_by_edition, on=["edition", "entity"], how="left", suffix="_s")
    merged = merged.with_columns(
        fh_name=pl.coalesce("fh_name_s", "fh_name"),
        note=pl.concat_str(["note", "note_s"], separator="; ", ignore_nulls=True).replace("", None),
        source=pl.when(pl.col("source_s").is_null() | (pl.col("source_s") == pl.col("source")))
        .then(pl.col("source")).otherwise(pl.concat_str(["source", "source_s"], separator=" + ")),
    )

    merged, extra = ratings_2026(merged, fiw)
    conflicts += extra
    conflicts += missing_in_2026(alld, web)

    snapshot = published_errata(merged).with_columns(pl.lit(None, pl.Int32).alias("row")).select(
        *[pl.col(c).cast(t) for c, t in TIDY_SCHEMA.items() if c != "row"], pl.col("source")
    ).sort("edition", "fh_name", "kind")
    conflict_frame = pl.DataFrame(conflicts, schema={
        "edition": pl.Int16, "entity": pl.String, "fh_name": pl.String, "field": pl.String,
        "values": pl.String, "kept": pl.String,
    }).sort("edition", "fh_name", "field")
    manifest = {
        "built_by": "scripts/build_snapshot.py",
        "attribution": "Source: Freedom House, Freedom in the World (editions 1973-2026)",
        "files": [
            {"file": f.name, "sha256": sha256(f), "bytes": f.stat().st_size}
            for f in sorted(fiw.glob("*")) if f.name in (RATINGS, AGGREGATE, ALL_DATA, WEB_2026, RATINGS_2026)
        ],
        "outputs": {},
        "editions": sorted(snapshot["edition"].unique().to_list()),
        "rows": snapshot.height,
        "rows_per_edition": dict(snapshot.group_by("edition").len().sort("edition").iter_rows()),
        "conflicts": conflict_frame.height,
        "errata": [f"{e} {n} {c}: {r}" for (e, n, c), r in sorted(read_errata().items())],
        "precedence": __doc__.split("Which source answers what:")[1].strip(),
    }
    return snapshot, conflict_frame, manifest


def missing_in_2026(alld: pl.DataFrame, web: pl.DataFrame) -> list[dict]:
    """Entities FH rated in 2025 that the 2026 source lacks: FH's 2026 edition rates 208 entities, the
    transcription 207 (it dropped the one negative total). Recorded, so counts can say so; an operator
    import of FH's own 2026 workbook fills the gap."""
    gone = alld.filter(pl.col("edition") == 2025).join(web.select("entity"), on="entity", how="anti")
    return [{"edition": 2026, "entity": row["entity"], "fh_name": row["fh_name"], "field": "(row)",
             "values": f"rated in FH's 2025 edition ({ALL_DATA}, total {row['total']}); not in {WEB_2026}, which "
                       "drops negative totals; FH's 2026 edition rates 208 entities",
             "kept": "missing until FH's own 2026 workbook is imported"}
            for row in gone.sort("fh_name").iter_rows(named=True)]


def ratings_2026(merged: pl.DataFrame, fiw: Path) -> tuple[pl.DataFrame, list[dict]]:
    """FH's 2026 ratings as extracted from its workbook; each is checked against the 2026 scores."""
    r = pl.read_csv(fiw / RATINGS_2026, schema={"iso2": pl.String, "status": pl.String, "pr": pl.Int16, "cl": pl.Int16})
    r = r.with_columns(status=pl.col("status").replace_strict(STATUS_WORDS))
    web = merged.filter(pl.col("edition") == 2026).join(
        pl.read_csv(paths.COUNTRIES, schema_overrides={"iso2": pl.String}).select("entity", "iso2").unique(),
        on="entity", how="left",
    ).filter(pl.col("kind") == "c")
    joined = web.join(r, on="iso2", how="left").with_columns(
        pr_calc=m.pr_rating_expr("pr"), cl_calc=m.cl_rating_expr("cl"),
    )
    conflicts = []
    for row in joined.iter_rows(named=True):
        if row["pr_right"] is None:
            conflicts.append({"edition": 2026, "entity": row["entity"], "fh_name": row["fh_name"], "field": "(row)",
                              "values": f"in {WEB_2026}, not in {RATINGS_2026}",
                              "kept": "ratings computed from the 2026 scores"})
            continue
        for field, ext, calc in (("pr_rating_pub", row["pr_right"], row["pr_calc"]),
                                 ("cl_rating_pub", row["cl_right"], row["cl_calc"])):
            if ext != calc:
                conflicts.append({"edition": 2026, "entity": row["entity"], "fh_name": row["fh_name"], "field": field,
                                  "values": f"{RATINGS_2026}: {ext}; from {WEB_2026} scores: {calc}", "kept": RATINGS_2026})
        if row["status"] != row["status_pub"]:
            conflicts.append({"edition": 2026, "entity": row["entity"], "fh_name": row["fh_name"], "field": "status_pub",
                              "values": f"{RATINGS_2026}: {row['status']}; {WEB_2026}: {row['status_pub']}", "kept": WEB_2026})
    ratings = joined.filter(pl.col("pr_right").is_not_null()).select(
        "entity", pl.col("pr_right").alias("_pr"), pl.col("cl_right").alias("_cl"), pl.lit(2026, pl.Int16).alias("edition"),
    )
    merged = merged.join(ratings, on=["edition", "entity"], how="left").with_columns(
        pr_rating_pub=pl.coalesce("_pr", "pr_rating_pub"), cl_rating_pub=pl.coalesce("_cl", "cl_rating_pub"),
        source=pl.when(pl.col("_pr").is_not_null()).then(pl.concat_str(["source", pl.lit(f" + {RATINGS_2026}")]))
        .otherwise("source"),
    ).drop("_pr", "_cl")
    return merged, conflicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fiw", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "fiw")
    parser.add_argument("--out", type=Path, default=paths.DATA)
    args = parser.parse_args()
    snapshot, conflicts, manifest = build(args.fiw)
    args.out.mkdir(parents=True, exist_ok=True)
    snapshot.write_csv(args.out / paths.SCORES.name)
    conflicts.write_csv(args.out / paths.CONFLICTS.name)
    for p in (args.out / paths.SCORES.name, args.out / paths.CONFLICTS.name, paths.COUNTRIES, paths.ERRATA):
        manifest["outputs"][p.name] = sha256(p)
    (args.out / paths.MANIFEST.name).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"{snapshot.height} rows, editions {manifest['editions'][0]}-{manifest['editions'][-1]} "
          f"({len(manifest['editions'])}), {conflicts.height} source conflicts -> {args.out}")


if __name__ == "__main__":
    main()
