"""The screen where the positions are: a Spark DataFrame of positions joined with the exported answers.

`screen_dataframe` adds the columns `sovereign screen` adds (verdict, eligible, iso2, country, issuer, status,
reason, no_new_buys_from, divest_by, list_version, edition), as of each position's date when a date column is
given, using only Spark's joins on the tables `sovereign export answers` and `sovereign export register` write,
so it runs on a cluster as on a laptop and never asks the database. The rule stays where it is: the answers
table is the list on each date (`listing.on_date`), with what `check` says is coming; this module only joins.

Identifiers it reads: ISINs and LEIs in the register, and ISO codes of rated countries. An identifier that is not
in the register is `unknown` and never eligible (its reason is shorter than `screen`'s, which also explains the
ISIN's prefix); a country not rated on the date is excluded (fail closed). Needs the `[spark]` extra (pyspark).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sovereign import clock
from sovereign.lookup import supranational_reason
from sovereign.screen import OUT_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

NOT_ELIGIBLE = ": not eligible"


def _template(render) -> tuple[str, str]:
    """The words around a name in one of lookup's reasons, so the reason is written once."""
    before, after = render("\0").split("\0")
    return before, after


def identifier(columns: list[str] | tuple[str, ...]) -> Column:
    """The row's identifier: the first identifier column with a value (as `screen` reads a book; in a column of
    ISINs or LEIs, only a value of that shape: "NA" there is R's missing value, not Namibia)."""
    from pyspark.sql import functions as F

    from sovereign.holdings import CODE_COLUMNS
    from sovereign.identifiers import CODE_SHAPE

    def part(c: str) -> Column:
        text = F.trim(F.col(c).cast("string"))
        if c.strip().lower() in CODE_COLUMNS:
            return F.when(F.upper(F.regexp_replace(text, r"[\s-]", "")).rlike(CODE_SHAPE), text)
        return F.when(text != "", text)

    parts = [part(c) for c in columns]
    return F.coalesce(*parts) if len(parts) > 1 else parts[0]


def screen_dataframe(positions: DataFrame, answers: DataFrame, register: DataFrame,
                     id_columns: list[str] | tuple[str, ...] = ("isin",), date_column: str | None = None,
                     as_of: date | None = None, mandate: str | None = None) -> DataFrame:
    """The positions, every column intact, with the answer columns added (named `sovereign_<c>` where the
    positions already have a column of that name, as `screen` does). Each distinct identifier and date is
    answered once and joined back."""
    from pyspark.sql import functions as F

    if isinstance(id_columns, str):
        id_columns = [id_columns]
    missing = [c for c in [*id_columns, *([date_column] if date_column else [])] if c not in positions.columns]
    if missing:
        raise ValueError(f"no column {', '.join(map(repr, missing))} in the positions (columns: "
                         f"{', '.join(positions.columns)})")
    day = F.to_date(F.col(date_column)) if date_column else F.lit((as_of or clock.today()).isoformat()).cast("date")
    rows = positions.withColumn("_id", identifier(id_columns)).withColumn("_date", day)
    keys = rows.select("_id", "_date").distinct().withColumn(
        "_code", F.upper(F.regexp_replace(F.col("_id"), r"[\s-]", "")))

    book = answers.filter(F.col("mandate").isNull() if mandate is None else F.col("mandate") == mandate)
    reg = register.select(F.col("identifier").alias("_code"), F.col("issuer").alias("_issuer"),
                          F.col("iso2").alias("_reg_iso2"), F.col("type").alias("_type"))
    codes = book.select(F.col("iso2").alias("_code")).where(F.col("iso2").isNotNull()).distinct() \
        .withColumn("_is_country", F.lit(True))
    keys = keys.join(reg, "_code", "left").join(codes, "_code", "left").withColumn(
        "_iso2", F.when(F.col("_issuer").isNotNull(), F.col("_reg_iso2"))
        .when(F.col("_is_country"), F.col("_code")))

    a = book.select(*(F.col(c).alias(f"a_{c}") for c in book.columns))
    during = ((F.col("a_valid_from") <= F.col("_date"))
              & (F.col("a_valid_to").isNull() | (F.col("_date") < F.col("a_valid_to"))))
    keys = keys.join(a, (F.col("_iso2") == F.col("a_iso2")) & during, "left")

    spans = book.groupBy("list_version", "edition").agg(
        F.min("valid_from").alias("v_from"),
        F.when(F.count(F.when(F.col("valid_to").isNull(), 1)) > 0, None).otherwise(F.max("valid_to")).alias("v_to"))
    keys = keys.join(spans, (F.col("v_from") <= F.col("_date"))
                     & (F.col("v_to").isNull() | (F.col("_date") < F.col("v_to"))), "left")
    keys = keys.select("_id", "_date", *_answer_columns())
    added = {c: f"sovereign_{c}" if c in positions.columns else c for c in OUT_COLUMNS}
    answered = keys.select("_id", "_date", *(F.col(c).alias(added[c]) for c in OUT_COLUMNS))
    answered = F.broadcast(answered)  # one row per identifier and date: small beside any book
    joined = rows.join(answered, rows["_id"].eqNullSafe(answered["_id"]) & (rows["_date"] == answered["_date"]),
                       "left")
    return joined.select(*(rows[c] for c in positions.columns), *(answered[added[c]] for c in OUT_COLUMNS))


def _answer_columns() -> list[Column]:
    """verdict ... edition for one identifier and date, from its register row and its answer row (`a_`)."""
    from pyspark.sql import functions as F

    supranational = F.col("_type") == "supranational"
    registered = F.col("_issuer").isNotNull()
    stateless = registered & ~supranational & F.col("_reg_iso2").isNull()
    rated = F.col("a_verdict").isNotNull()
    verdict = (F.when(supranational, "eligible").when(rated, F.col("a_verdict"))
               .when(registered & ~stateless | F.col("_is_country"), "excluded").otherwise("unknown"))
    staged = (F.col("a_verdict") == "eligible") & (F.col("a_upcoming_verdict") == "excluded")
    day = "yyyy-MM-dd"
    before, after = _template(supranational_reason)
    prefix = F.when(registered & ~supranational, F.concat(
        F.col("_code"), F.lit(": issued by "), F.col("_issuer"), F.lit(" ("), F.col("_type"), F.lit(", "),
        F.col("_reg_iso2"), F.lit("); ")))
    reason = (
        F.when(supranational, F.concat(F.lit(before), F.col("_issuer"), F.lit(after)))
        .when(stateless, F.concat(F.col("_issuer"), F.lit(" ("), F.col("_type"),
                                  F.lit(") has no country in the issuer register" + NOT_ELIGIBLE)))
        .when(rated, F.concat(F.coalesce(prefix, F.lit("")), F.col("a_reason"), F.when(staged, F.concat(
            F.lit("; excluded by list version "), F.col("a_upcoming_list_version").cast("string"), F.lit(" ("),
            F.col("a_upcoming_edition").cast("string"), F.lit(") from "),
            F.date_format("a_upcoming_from", day))).otherwise(F.lit(""))))
        .when(registered | F.col("_is_country"), F.concat(F.coalesce(prefix, F.lit("")),
                                                          F.lit("not rated in the list of that date")))
        .otherwise(F.concat(F.coalesce(F.col("_code"), F.lit("no identifier in this row")),
                            F.lit(" is not in the issuer register" + NOT_ELIGIBLE))))
    no_new_buys = F.when(staged, F.col("a_upcoming_no_new_buys_from")).when(
        F.col("a_verdict") != "eligible", F.col("a_no_new_buys_from"))
    divest = F.when(staged, F.col("a_upcoming_divest_by")).when(F.col("a_verdict") != "eligible", F.col("a_divest_by"))
    country = F.when(supranational, F.col("_issuer")).when(rated, F.col("a_name"))
    return [
        verdict.alias("verdict"), (verdict == "eligible").alias("eligible"),
        F.when(rated, F.col("a_iso2")).when(registered & ~supranational | F.col("_is_country"), F.col("_iso2"))
        .alias("iso2"),
        country.alias("country"), F.col("_issuer").alias("issuer"), F.col("a_status").alias("status"),
        reason.alias("reason"), F.date_format(no_new_buys, day).alias("no_new_buys_from"),
        F.date_format(divest, day).alias("divest_by"),
        F.coalesce(F.col("a_list_version"), F.col("list_version")).alias("list_version"),
        F.coalesce(F.col("a_edition"), F.col("edition")).alias("edition"),
    ]
