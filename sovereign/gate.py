"""The anomaly gate: a new edition that looks wrong is held for a person, not proposed.

Pure: the new edition's scored rows against the previous edition's. Each reason names the rows.
"""

from __future__ import annotations

import polars as pl

from fiw import methodology as m
from sovereign.policy import Policy


def _names(frame: pl.DataFrame) -> str:
    names = sorted(frame["fh_name"].to_list())
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def check(new: pl.DataFrame, previous: pl.DataFrame | None, policy: Policy) -> list[str]:
    reasons = []
    edition = new["edition"][0]
    if edition >= m.MECHANICAL_FROM and (unscored := not_recomputed(new)):
        reasons.append(unscored)
    if edition >= m.MECHANICAL_FROM:
        off = new.filter(pl.col("status_pub").is_not_null() & (pl.col("status_pub") != pl.col("status_calc")))
        if not off.is_empty():
            reasons.append(f"{off.height} published status(es) differ from the recomputed one: {_names(off)}")
    if previous is None or previous.is_empty():
        return reasons
    old_c, new_c = previous.filter(pl.col("kind") == "c"), new.filter(pl.col("kind") == "c")
    gained = new_c.join(old_c, on="entity", how="anti")
    lost = old_c.join(new_c, on="entity", how="anti")
    if not gained.is_empty() or not lost.is_empty():
        reasons.append(f"countries gained ({_names(gained) or 'none'}) or lost ({_names(lost) or 'none'}) "
                       "against the previous edition")
    added = new.join(previous, on="entity", how="anti").height
    dropped = previous.join(new, on="entity", how="anti").height
    if added + dropped > policy.max_entity_change:
        reasons.append(f"{added} entities added and {dropped} dropped, more than the gate allows "
                       f"({policy.max_entity_change})")
    both = new_c.join(old_c.select("entity", pl.col("status").alias("old")), on="entity")
    moved = both.filter(pl.col("status") != pl.col("old"))
    if both.height and moved.height / both.height > policy.max_status_change_share:
        reasons.append(f"{moved.height} of {both.height} countries changed status ({moved.height / both.height:.0%}, "
                       f"more than {policy.max_status_change_share:.0%}): {_names(moved)}")
    return reasons


def not_recomputed(scored: pl.DataFrame) -> str | None:
    """Rows stored without PR and CL: their ratings and status cannot be recomputed, so nothing checks FH's
    printed status and a misread goes unseen. Said wherever the edition is reported, and a reason to hold."""
    missing = scored.filter(pl.col("status_calc").is_null())
    if missing.is_empty():
        return None
    return (f"status not recomputed for {missing.height} of {scored.height} entities: stored without PR and CL "
            f"({_names(missing)}); read them with refresh --with-details, or import FH's workbook")


REPEAT_SHARE = 0.95     # a "new" edition this much like the stored one before it repeats it
MISLABEL_SHARE = 0.10   # FH's corrections touch a handful of places; a year's change touches about half


def _differing(new: pl.DataFrame, stored: pl.DataFrame) -> tuple[int, int]:
    """(entities in both, entities whose published numbers or status differ), on the fields both carry."""
    fields = [c for c in ("total", "pr", "cl", "status_pub")
              if c in new.columns and c in stored.columns and new[c].is_not_null().any() and stored[c].is_not_null().any()]
    both = new.select("entity", *fields).join(stored.select("entity", *fields), on="entity", suffix="_stored")
    if not fields or both.is_empty():
        return both.height, 0
    differs = pl.any_horizontal([pl.col(c).cast(pl.String).ne_missing(pl.col(f"{c}_stored").cast(pl.String))
                                 for c in fields])
    return both.height, both.filter(differs).height


def repeats(new: pl.DataFrame, previous: pl.DataFrame, previous_edition: int) -> str | None:
    """A table offered as a new edition that holds the stored previous edition's numbers: links named the
    new edition before the numbers changed."""
    common, differing = _differing(new, previous)
    if common and common >= 0.9 * new.height and (common - differing) / common >= REPEAT_SHARE:
        return (f"its numbers equal the stored edition {previous_edition} for {common - differing} of {common} "
                f"entities: the page names the new edition before its numbers changed; not stored as a new edition")
    return None


def mislabelled(new: pl.DataFrame, stored: pl.DataFrame, edition: int) -> str | None:
    """A table offered as a stored edition that differs from it in many places: most likely the next edition
    under links that still name this one, not a correction."""
    common, differing = _differing(new, stored)
    if common and differing / common > MISLABEL_SHARE:
        return (f"it differs from the stored edition {edition} for {differing} of {common} entities ({differing / common:.0%}; "
                f"a correction touches a few): suspected mislabel, most likely the next edition under links that "
                f"still name {edition}; not stored")
    return None
