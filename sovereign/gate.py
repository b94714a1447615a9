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
