"""What a new list changes, and why, in words a committee member reads: pure, over two entry frames.

Entities are matched by the mapping's entity key, so FH renaming a country (Czech Republic ->
Czechia) is a rename, not an exit and an entry. Territories without an ISO code of their own come
and go without any effect on the list.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from fiw import methodology as m
from fiw import words
from sovereign.eligibility import apply_mandate
from sovereign.policy import Mandate

SIDES = ("status", "eligible", "pr", "cl", "total", "pr_rating", "cl_rating", "fh_name", "iso2", "kind")


def _side(frame: pl.DataFrame, suffix: str) -> pl.DataFrame:
    return frame.select("entity", *[pl.col(c).alias(f"{c}_{suffix}") for c in SIDES])


def paired(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """One row per entity present in either version, with _before and _after columns."""
    return _side(before, "before").join(_side(after, "after"), on="entity", how="full", coalesce=True)


def _band_floor(rating: int, bands) -> int | None:
    return next((floor for floor, r in bands if r == rating), None)


def explain(row: dict) -> str:
    """'Partly Free -> Not Free: PR 12 -> 11 took the PR rating from 5 to 6'."""
    head = f"{words.status_word(row['status_before'])} -> {words.status_word(row['status_after'])}"
    parts = []
    for key, label in (("pr", "PR"), ("cl", "CL")):
        rb, ra = row[f"{key}_rating_before"], row[f"{key}_rating_after"]
        sb, sa = row[f"{key}_before"], row[f"{key}_after"]
        if rb is not None and ra is not None and rb != ra:
            if sb is not None and sa is not None:
                parts.append(f"{label} {sb} -> {sa} took the {label} rating from {rb} to {ra}")
            else:
                parts.append(f"{label} rating {rb} -> {ra}")
    unrated = [side for side in ("before", "after")
               if row[f"pr_rating_{side}"] is None or row[f"cl_rating_{side}"] is None]
    if not parts and row["status_before"] and row["status_after"] and unrated:
        parts.append(f"no PR and CL stored {' or '.join(unrated)}: the status is FH's as printed, not recomputed")
    elif not parts and row["status_before"] and row["status_after"]:
        parts.append(f"ratings unchanged ({row['pr_rating_after']}/{row['cl_rating_after']}): FH's published status changed")
    return head + (": " + "; ".join(parts) if parts else "")


def _record(row: dict) -> dict:
    out = {"iso2": row["iso2_after"] or row["iso2_before"], "entity": row["entity"],
           "name": row["fh_name_after"] or row["fh_name_before"],
           "kind": words.kind_word(row["kind_after"] or row["kind_before"])}
    for c in ("status", "pr", "cl", "total", "pr_rating", "cl_rating", "eligible"):
        out[f"{c}_before"], out[f"{c}_after"] = row[f"{c}_before"], row[f"{c}_after"]
    return out


def _points(n: int) -> str:
    return f"{n} point{'s' if n > 1 else ''}"


def watch(row: dict) -> dict | None:
    """Where an entity stands against the Not Free line: one step away, or one step back."""
    prr, clr = row["pr_rating_after"], row["cl_rating_after"]
    if prr is None or clr is None or row["iso2_after"] is None:
        return None
    if prr + clr == 10 and row["eligible_after"]:
        return {"category": "one step from exclusion"} | _one_step(row, "Not Free")
    if prr + clr == 11 and not row["eligible_after"] and row["status_after"] == "NF":
        return {"category": "close to re-entry"} | _one_step(row, "Partly Free")
    return _toward_threshold(row)


def _one_step(row: dict, toward: str) -> dict:
    """The fewest points of PR or CL that move a rating one step across the Not Free line: down into it (a lower
    score, a higher rating) or back out of it. Without scores, the ratings say it."""
    prr, clr = row["pr_rating_after"], row["cl_rating_after"]
    into = toward == "Not Free"
    steps = []
    for label, score, rating, bands in (("PR", row["pr_after"], prr, m.PR_BANDS), ("CL", row["cl_after"], clr, m.CL_BANDS)):
        to = rating + 1 if into else rating - 1
        floor = _band_floor(rating, bands) if into else _band_floor(to, bands) if rating > 1 else None
        if score is not None and floor is not None:
            n = score - floor + 1 if into else floor - score
            steps.append((n, f"{label} {score}: {_points(n)} {'lower' if into else 'higher'} gives {label} rating "
                             f"{to} -> {toward}"))
    text = ("; ".join(t for _, t in sorted(steps))
            or f"ratings {prr}/{clr} (Freedom Rating {(prr + clr) / 2}): one rating step from {toward}")
    return {"text": text, "distance": min((n for n, _ in steps), default=None)}


def _toward_threshold(row: dict) -> dict | None:
    """Partly Free and eligible on both sides, but with worse ratings or a total down 3 or more."""
    prr, clr = row["pr_rating_after"], row["cl_rating_after"]
    worse = (row["pr_rating_before"] is not None and prr + clr > row["pr_rating_before"] + row["cl_rating_before"])
    fell = (row["total_before"] is not None and row["total_after"] is not None
            and row["total_after"] <= row["total_before"] - 3)
    if not (row["status_after"] == "PF" and row["eligible_after"] and row["eligible_before"] and (worse or fell)):
        return None
    text = (f"Freedom Rating {(row['pr_rating_before'] + row['cl_rating_before']) / 2} -> {(prr + clr) / 2}" if worse
            else f"Total {row['total_before']} -> {row['total_after']}")
    return {"category": "moving toward the threshold", "text": text, "distance": None}


def _no_effect(row: dict, side: str) -> str:
    return "territory: no effect on the list" if row[f"kind_{side}"] == "t" and not row[f"iso2_{side}"] else ""


def compute(before: dict, before_entries: pl.DataFrame, after: dict, after_entries: pl.DataFrame,
            mandates: tuple[Mandate, ...] = (), overrides: dict | None = None, top: int = 15,
            histories: dict[str, tuple[Any, Any]] | None = None) -> dict:
    """The diff of two list versions (dicts with edition, id, state, effective_from, policy). `histories`: per
    mandate with persistence or decline, the earlier editions' lists each side reads (`lookup.mandate_history`)."""
    pairs = paired(before_entries, after_entries)
    rows = pairs.to_dicts()
    both = [r for r in rows if r["fh_name_before"] is not None and r["fh_name_after"] is not None]
    coded = [r for r in both if (r["iso2_after"] or r["iso2_before"])]
    newly_excluded = [_record(r) | {"reason": explain(r)} for r in coded if r["eligible_before"] and not r["eligible_after"]]
    newly_eligible = [_record(r) | {"reason": explain(r)} for r in coded if not r["eligible_before"] and r["eligible_after"]]
    changed = [r for r in both if r["status_before"] != r["status_after"] and r["eligible_before"] == r["eligible_after"]]
    status_changes = [_record(r) | {"reason": explain(r)} for r in changed if r in coded]
    territory_changes = [_record(r) | {"reason": explain(r) + " (territory with no ISO code: no effect on the list)"}
                         for r in changed if r not in coded]
    moves = sorted((r for r in both if r["total_before"] is not None and r["total_after"] is not None
                    and r["total_after"] != r["total_before"]),
                   key=lambda r: (-abs(r["total_after"] - r["total_before"]), r["fh_name_after"]))
    score_moves = [_record(r) | {"change": r["total_after"] - r["total_before"]} for r in moves[:top]]
    rating_changes = [_record(r) for r in both
                      if (r["pr_rating_before"], r["cl_rating_before"]) != (r["pr_rating_after"], r["cl_rating_after"])]
    added = [_record(r) | {"note": _no_effect(r, "after")} for r in rows if r["fh_name_before"] is None]
    dropped = [_record(r) | {"note": _no_effect(r, "before")} for r in rows if r["fh_name_after"] is None]
    renamed = [{"iso2": r["iso2_after"], "entity": r["entity"], "name_before": r["fh_name_before"],
                "name_after": r["fh_name_after"]} for r in both if r["fh_name_before"] != r["fh_name_after"]]
    unrated = [r["fh_name_after"] for r in rows if r["fh_name_after"] is not None
               and (r["pr_rating_after"] is None or r["cl_rating_after"] is None)]
    return {
        "from": _meta(before), "to": _meta(after),
        "not_recomputed": (f"{len(unrated)} entities of {words.title(after['edition'])} are stored without PR and CL: "
                           "their status is FH's as printed, not recomputed, and no rating change can be explained"
                           if unrated else None),
        "attribution": words.attribution(after["edition"]),
        "counts_definition": words.COUNTS,
        "summary": {"before": _counts(before_entries), "after": _counts(after_entries),
                    "newly_excluded": len(newly_excluded), "newly_eligible": len(newly_eligible)},
        "newly_excluded": newly_excluded, "newly_eligible": newly_eligible, "status_changes": status_changes,
        "territory_status_changes": territory_changes,
        "score_moves": score_moves, "rating_changes": rating_changes,
        "entities_added": added, "entities_dropped": dropped, "renamed": renamed,
        "policy_change": policy_change(before.get("policy"), after.get("policy")),
        "override_changes": overrides or {"added": [], "ended": []},
        "mandates": {mandate.name: per_mandate(before_entries, after_entries, mandate, before["edition"], after["edition"],
                                               *(histories or {}).get(mandate.name, (None, None)))
                     for mandate in mandates},
        "watchlist": watchlist(both + [r for r in rows if r["fh_name_before"] is None]),
    }


WATCH_ORDER = {"one step from exclusion": 0, "moving toward the threshold": 1, "close to re-entry": 2}


def watchlist(rows: list[dict]) -> list[dict]:
    """Every entity `watch` flags, the nearest to the line first."""
    flagged = [_record(r) | w for r in rows if (w := watch(r))]
    return sorted(flagged, key=lambda w: (WATCH_ORDER[w["category"]], 99 if w["distance"] is None else w["distance"],
                                          w["name"]))


def _counts(frame: pl.DataFrame) -> dict:
    countries = frame.filter(pl.col("kind") == "c")  # words.COUNTS: the one definition of the counts
    return {"eligible": int(countries["eligible"].sum()), "excluded": int((~countries["eligible"]).sum())}


def _meta(v: dict) -> dict:
    return {"edition": v["edition"], "label": v.get("label") or str(v["edition"]), "list_version": v["id"],
            "state": v["state"], "effective_from": v["effective_from"]}


def policy_change(before: str | None, after: str | None) -> dict:
    a, b = json.loads(before or "{}"), json.loads(after or "{}")
    fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return {"changed": bool(fields), "fields": [{"field": k, "before": a.get(k), "after": b.get(k)} for k in fields]}


def _mandate_frame(entries: pl.DataFrame, mandate: Mandate, edition: int, history: Any = None) -> pl.DataFrame:
    frame = entries.with_columns(reasons=pl.concat_list("reasons"),
                                 scope=pl.col("kind").replace_strict(words.KIND_WORDS, default="country"))
    return apply_mandate(frame, mandate, edition, history).filter(pl.col("iso2").is_not_null())


def per_mandate(before: pl.DataFrame, after: pl.DataFrame, mandate: Mandate, e_before: int, e_after: int,
                h_before: Any = None, h_after: Any = None) -> dict:
    b = _mandate_frame(before, mandate, e_before, h_before)
    a = _mandate_frame(after, mandate, e_after, h_after)
    rows = paired(b, a).filter(pl.col("iso2_before").is_not_null() & pl.col("iso2_after").is_not_null()).to_dicts()
    tag = f"mandate {mandate.name}:"
    rules = {side: {e: [x for x in reasons if x.startswith(tag)] for e, reasons in frame.select("entity", "reasons").rows()}
             for side, frame in (("before", b), ("after", a))}

    def why(r: dict, side: str, direction: str) -> dict:
        """Which rule moved it: the mandate's own rule (a minimum score, a named country) when one applies
        on the excluded side, else FH's status change."""
        applied = rules[side].get(r["entity"]) or []
        text = "; ".join(applied) if applied else explain(r)
        if side == "before" and applied:
            text = f"now meets mandate {mandate.name}'s rules (before: {text.removeprefix(tag).strip()})"
        return _record(r) | {"direction": direction, "reason": text}

    return {
        "description": mandate.description,
        "eligible_before": int(b.filter(pl.col("kind") == "c")["eligible"].sum()),
        "eligible_after": int(a.filter(pl.col("kind") == "c")["eligible"].sum()),
        "newly_excluded": [why(r, "after", "out") for r in rows if r["eligible_before"] and not r["eligible_after"]],
        "newly_eligible": [why(r, "before", "in") for r in rows if not r["eligible_before"] and r["eligible_after"]],
    }
