"""Freedom House's scoring rules: aggregate scores -> ratings -> status.

Pure functions, each in two forms: one value at a time (for lookups and tests) and as polars
expressions (for whole editions). The bands are FH's published methodology (see FIW.md section 1).
polars is imported inside the frame functions, so the scalar rules cost nothing on a lookup's start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

# (lowest aggregate, rating) from best to worst; anything below the last band is rating 7.
PR_BANDS = ((36, 1), (30, 2), (24, 3), (18, 4), (12, 5), (6, 6))
CL_BANDS = ((53, 1), (44, 2), (35, 3), (26, 4), (17, 5), (8, 6))

PR_MIN, PR_MAX = -4, 40  # Add Q (0-4) is subtracted from A+B+C (0-40), so -4 is the floor.
CL_MIN, CL_MAX = 0, 60
SUBCATEGORY_MAX = {"A": 12, "B": 16, "C": 12, "D": 16, "E": 12, "F": 16, "G": 16}
INDICATORS = {
    "A": ("A1", "A2", "A3"),
    "B": ("B1", "B2", "B3", "B4"),
    "C": ("C1", "C2", "C3"),
    "D": ("D1", "D2", "D3", "D4"),
    "E": ("E1", "E2", "E3"),
    "F": ("F1", "F2", "F3", "F4"),
    "G": ("G1", "G2", "G3", "G4"),
}
INDICATOR_COLUMNS = tuple(i for group in INDICATORS.values() for i in group)
STATUS_WORDS = {"F": "Free", "PF": "Partly Free", "NF": "Not Free"}
STATUSES = tuple(STATUS_WORDS)
# From this edition on FH's bands no longer overlap, so the rule reproduces every published status.
MECHANICAL_FROM = 2004
# The third electoral-democracy test (CL >= 30) applies from this edition.
ELECTORAL_CL_FROM = 2018


def _rating(score: int, bands: tuple[tuple[int, int], ...]) -> int:
    for floor, rating in bands:
        if score >= floor:
            return rating
    return 7


def pr_rating(pr: int) -> int:
    """PR aggregate (may be negative) -> PR rating 1-7."""
    return _rating(pr, PR_BANDS)


def cl_rating(cl: int) -> int:
    """CL aggregate -> CL rating 1-7."""
    return _rating(cl, CL_BANDS)


def status(pr_rating: int, cl_rating: int) -> str:
    """Ratings -> F / PF / NF by the Freedom Rating, their mean (FH's rule from edition 2004)."""
    total = pr_rating + cl_rating  # twice the Freedom Rating, to stay in integers
    if total <= 5:
        return "F"
    if total <= 10:
        return "PF"
    return "NF"


def electoral_democracy(edition: int, a: int, pr: int, cl: int) -> bool:
    """FH's electoral-democracy designation: A >= 7 and PR >= 20 (and CL >= 30 from 2018)."""
    ok = a >= 7 and pr >= 20
    return ok and cl >= 30 if edition >= ELECTORAL_CL_FROM else ok


def _rating_expr(col: pl.Expr, bands: tuple[tuple[int, int], ...]) -> pl.Expr:
    import polars as pl

    expr: Any = pl.when(col.is_null()).then(None)
    for floor, rating in bands:
        expr = expr.when(col >= floor).then(pl.lit(rating))
    return expr.otherwise(pl.lit(7)).cast(pl.Int8)


def pr_rating_expr(pr: str | pl.Expr = "pr") -> pl.Expr:
    import polars as pl

    return _rating_expr(pl.col(pr) if isinstance(pr, str) else pr, PR_BANDS)


def cl_rating_expr(cl: str | pl.Expr = "cl") -> pl.Expr:
    import polars as pl

    return _rating_expr(pl.col(cl) if isinstance(cl, str) else cl, CL_BANDS)


def status_expr(pr_rating: str | pl.Expr, cl_rating: str | pl.Expr) -> pl.Expr:
    import polars as pl

    pr = pl.col(pr_rating) if isinstance(pr_rating, str) else pr_rating
    cl = pl.col(cl_rating) if isinstance(cl_rating, str) else cl_rating
    total = pr.cast(pl.Int16) + cl.cast(pl.Int16)
    return (
        pl.when(total.is_null()).then(None)
        .when(total <= 5).then(pl.lit("F"))
        .when(total <= 10).then(pl.lit("PF"))
        .otherwise(pl.lit("NF"))
    )


def electoral_democracy_expr() -> pl.Expr:
    import polars as pl

    base = (pl.col("A") >= 7) & (pl.col("pr") >= 20)
    return pl.when(pl.col("edition") >= ELECTORAL_CL_FROM).then(base & (pl.col("cl") >= 30)).otherwise(base)


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the recomputed ratings and status beside FH's published ones.

    Ratings are recomputed from the aggregates where FH published aggregates (edition 2003 on);
    before that only the status can be recomputed, from the published ratings. `status` is the one
    the product uses: from 2004 the mechanical rule (equal to FH's, which `verify` proves), before
    2004 FH's published status, because the bands then overlapped and FH's call is authoritative.
    """
    import polars as pl

    scored = frame.with_columns(
        pr_rating_calc=pr_rating_expr("pr"),
        cl_rating_calc=cl_rating_expr("cl"),
    ).with_columns(
        status_calc=status_expr(
            pl.coalesce("pr_rating_calc", "pr_rating_pub"), pl.coalesce("cl_rating_calc", "cl_rating_pub")
        ),
    )
    mechanical = pl.col("edition") >= MECHANICAL_FROM
    return scored.with_columns(
        pr_rating=pl.when(mechanical).then(pl.coalesce("pr_rating_calc", "pr_rating_pub"))
        .otherwise(pl.coalesce("pr_rating_pub", "pr_rating_calc")).cast(pl.Int8),
        cl_rating=pl.when(mechanical).then(pl.coalesce("cl_rating_calc", "cl_rating_pub"))
        .otherwise(pl.coalesce("cl_rating_pub", "cl_rating_calc")).cast(pl.Int8),
        status=pl.when(mechanical).then(pl.coalesce("status_calc", "status_pub"))
        .otherwise(pl.coalesce("status_pub", "status_calc")),
        electoral_democracy=electoral_democracy_expr(),
    )
