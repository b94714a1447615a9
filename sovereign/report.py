"""The committee's diff and report: load two list versions, diff them, render JSON, Markdown, HTML, XLSX."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import polars as pl

from fiw.errors import NotFound, UserError
from fiw.methodology import STATUS_WORDS
from sovereign import diff as d
from sovereign.policy import Policy
from sovereign.store import reads
from sovereign.store.reads import Connection


def version_row(conn: Connection, spec: str | None, role: str, after: dict | None = None) -> dict:
    """`--from` / `--to`: an edition (2025) or a version id (v54); defaults: the newest version, and the
    published version of the edition before it."""
    text = (spec or "").strip()
    if spec is None:
        row = reads.newest_version(conn) if after is None else reads.published_before_edition(conn, after["edition"])
    elif re.fullmatch(r"[vV#]\d{1,18}", text):
        row = reads.version(conn, int(text[1:]))
    elif re.fullmatch(r"\d{4}", text):
        row = reads.edition_version(conn, int(text), prefer_published=role == "from")
    else:
        raise UserError(f"--{role} {spec!r}: expected an edition (2025) or a list version id (v54)")
    if row is None:
        raise NotFound(f"--{role} {spec or '(default)'}: no such list version")
    return row


def override_changes(conn: Connection, start: str, end: str) -> dict:
    rows = reads.overrides(conn)
    return {
        "added": [r for r in rows if start < r["valid_from"] <= end],
        "ended": [r for r in rows if (r["valid_to"] and start < r["valid_to"] <= end)
                  or (r["revoked_at"] and start < r["revoked_at"][:10] <= end)],
    }


def build(conn: Connection, policy: Policy, from_spec: str | None = None, to_spec: str | None = None,
          publish_on: date | None = None) -> dict:
    after = version_row(conn, to_spec, "to")
    before = version_row(conn, from_spec, "from", after)
    for side in (before, after):
        stored = reads.edition(conn, side["edition"])
        side["label"] = stored["label"] if stored else None
    end = after["effective_from"] or date.today().isoformat()
    after_entries = reads.entries_frame(conn, after["id"])
    result = d.compute(before, reads.entries_frame(conn, before["id"]), after, after_entries,
                       policy.mandates, override_changes(conn, before["effective_from"] or "", end))
    result["provenance"] = provenance(conn, [before["edition"], after["edition"]])
    result |= approval_pack(conn, policy, result, dict(before), dict(after), after_entries, publish_on)
    if (before["edition"], before["id"]) > (after["edition"], after["id"]):
        result["reversed"] = (f"list version {before['id']} ({before['edition']}) is newer than list version "
                              f"{after['id']} ({after['edition']}): read every change backwards")
    return result


def approval_pack(conn: Connection, policy: Policy, r: dict, before: dict, after: dict, entries: pl.DataFrame,
                  publish_on: date | None) -> dict:
    """What the committee decides on and records: the decision (or its record), the committee's own exclusions
    beside FH's, movers with their staging dates and the issuers and securities behind them, the full list
    being approved, and the policy it was built under."""
    from sovereign.eligibility import staging
    from sovereign.policy import stored_policy

    today = date.today().isoformat()
    on = max(after["effective_from"], today) if after["effective_from"] else (publish_on or date.today()).isoformat()
    if after["state"] == "published":
        decision = {"required": False, "state": "published", "approved_by": after["approved_by"],
                    "published_at": after["published_at"], "effective_from": after["effective_from"],
                    "minutes": after.get("minutes"), "backdate_reason": after.get("backdate_reason"),
                    "withdrawn": after.get("withdrawn"), "withdrawn_reason": after.get("withdrawn_reason")}
    else:
        no_new, divest = staging(date.fromisoformat(on), policy)
        decision = {"required": True, "state": after["state"], "reason": after["reason"], "effective_from": on,
                    "no_new_buys_from": no_new, "divest_by": divest, "approvals_required": policy.approvals_required,
                    "approvals": [a["approved_by"] for a in reads.approvals(conn, after["id"])]}
    dates = {row["iso2"]: row for row in entries.select("iso2", "no_new_buys_from", "divest_by").to_dicts() if row["iso2"]}
    issuers: dict[str, list[str]] = {}
    for i in reads.register(conn):
        if i["country"]:
            issuers.setdefault(i["country"], []).append(f"{i['name']} ({i['isins']})" if i["isins"] else i["name"])
    for m in r["newly_excluded"]:
        staged = dates.get(m["iso2"]) or {}
        m["no_new_buys_from"] = staged.get("no_new_buys_from") or decision.get("no_new_buys_from")
        m["divest_by"] = staged.get("divest_by") or decision.get("divest_by")
    for m in r["newly_excluded"] + r["newly_eligible"]:
        m["issuers"] = "; ".join(issuers.get(m["iso2"] or "", [])) or None
    active = [dict(o) for o in reads.active_overrides(conn, on)]
    overridden = {o["iso2"] for o in active}
    eligible_by_fh = {row["iso2"] for row in entries.filter(pl.col("eligible") & (pl.col("kind") == "c")).to_dicts()}
    by_committee = sorted(overridden & eligible_by_fh)
    before_active = {o["iso2"] for o in reads.active_overrides(conn, before["effective_from"] or on)}
    names = dict(entries.select("iso2", "fh_name").drop_nulls("iso2").rows())
    for o in active:
        o["name"] = names.get(o["iso2"], o["iso2"])
        if o["iso2"] in eligible_by_fh and o["iso2"] not in before_active:
            r["newly_excluded"].append({"iso2": o["iso2"], "name": o["name"], "reason": f"committee exclusion: {o['reason']}",
                                        "status_before": None, "status_after": None, "by_committee": True,
                                        "no_new_buys_from": o["valid_from"], "divest_by": None,
                                        "issuers": "; ".join(issuers.get(o["iso2"], [])) or None})
    in_force = {o["id"] for o in active}
    everything = [dict(o) | {"in_force": o["id"] in in_force} for o in reads.overrides(conn)]
    full = entries.with_columns(committee=pl.col("iso2").is_in(list(overridden)) & pl.col("eligible")).with_columns(
        verdict=pl.when(pl.col("eligible") & ~pl.col("committee")).then(pl.lit("eligible")).otherwise(pl.lit("excluded")),
        reasons=pl.when(pl.col("committee")).then(pl.lit("committee exclusion; ") + pl.col("reasons"))
        .otherwise(pl.col("reasons")))
    r["summary"]["after"]["excluded_by_committee"] = len(by_committee)
    r["summary"]["newly_excluded"] = len(r["newly_excluded"])
    return {"decision": decision, "overrides": {"active": active, "all": everything, "by_committee": by_committee,
                                                "on": on},
            "full_list": full.select("iso2", pl.col("fh_name").alias("name"), "kind", "status", "verdict", "total", "pr",
                                     "cl", "reasons", "no_new_buys_from", "divest_by").sort("kind", "name").to_dicts(),
            "policy_text": after["policy"],
            "mandates_in_force": [{"name": m.name, "description": m.description}
                                  for m in stored_policy(after["policy"]).mandates]}


def provenance(conn: Connection, editions: list[int]) -> dict:
    from sovereign.pipeline import verify_stored

    checked = verify_stored(conn, editions)
    return {"sources": reads.edition_sources(conn, editions),
            "verify": {"ok": checked["ok"], "editions": checked["editions"], "errors": checked["errors"],
                       "known_errata": checked["known_errata"]},
            "conflicts": checked["source_conflicts"], "generated": date.today().isoformat()}


def to_json(result: dict) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False, default=str)


def _table(rows: list[dict], cols: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["None.", ""]
    out = ["| " + " | ".join(h for h, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(k) if r.get(k) is not None else "") for _, k in cols) + " |")
    return out + [""]


MOVER_COLS = [("ISO2", "iso2"), ("Name", "name"), ("Before", "status_before"), ("After", "status_after"),
              ("PR", "pr_before"), ("→ PR", "pr_after"), ("CL", "cl_before"), ("→ CL", "cl_after"), ("Why", "reason")]


def to_markdown(r: dict) -> str:
    f, t, s = r["from"], r["to"], r["summary"]
    lines = [f"# Sovereign list: Freedom in the World {f['label']} -> {t['label']}", "",
             *([f"**Note: {r['reversed']}.**", ""] if r.get("reversed") else []),
             f"List version {f['list_version']} ({f['state']}, effective {f['effective_from']}) -> "
             f"version {t['list_version']} ({t['state']}, effective {t['effective_from'] or 'on publication'}).", "",
             f"Eligible: {s['before']['eligible']} -> {s['after']['eligible']}; excluded: {s['before']['excluded']} -> "
             f"{s['after']['excluded']}. Newly excluded: {s['newly_excluded']}; newly eligible: {s['newly_eligible']}.", "",
             f"{r['counts_definition']}.", ""]
    sections = [("Newly excluded", r["newly_excluded"], MOVER_COLS), ("Newly eligible", r["newly_eligible"], MOVER_COLS),
                ("Status changes that do not change eligibility", r["status_changes"], MOVER_COLS),
                ("Territories without an ISO code (no effect on the list)", r["territory_status_changes"], MOVER_COLS),
                ("Watchlist", r["watchlist"], [("ISO2", "iso2"), ("Name", "name"), ("Category", "category"),
                                               ("Status", "status_after"), ("Total", "total_after"), ("Why", "text")]),
                ("Largest score moves", r["score_moves"], [("Name", "name"), ("Total", "total_before"),
                                                          ("→ Total", "total_after"), ("Change", "change")]),
                ("Renamed by FH", r["renamed"], [("ISO2", "iso2"), ("Before", "name_before"), ("After", "name_after")]),
                ("Added", r["entities_added"], [("ISO2", "iso2"), ("Name", "name"), ("Kind", "kind"), ("Note", "note")]),
                ("Dropped", r["entities_dropped"], [("ISO2", "iso2"), ("Name", "name"), ("Kind", "kind"), ("Note", "note")])]
    for title, rows, cols in sections:
        lines += [f"## {title}", ""] + _table(rows, cols)
    lines += ["## Per mandate", ""]
    for name, mdiff in r["mandates"].items():
        lines += [f"### {name}: {mdiff['description']}", "",
                  f"Eligible {mdiff['eligible_before']} -> {mdiff['eligible_after']}.", ""]
        lines += _table(mdiff["newly_excluded"] + mdiff["newly_eligible"], [("Moved", "direction"), *MOVER_COLS])
    pc, oc = r["policy_change"], r["override_changes"]
    lines += ["## Policy and overrides", "",
              "Policy unchanged." if not pc["changed"] else "Policy changed: " + ", ".join(x["field"] for x in pc["fields"]),
              "", f"Overrides added: {len(oc['added'])}; ended or revoked: {len(oc['ended'])}.", "",
              r["attribution"], ""]
    return "\n".join(lines)


def to_html(r: dict) -> str:
    from sovereign.templating import environment

    env = environment()
    return env.get_template("report.html.j2").render(r=r, charts=r.get("charts", {}), status_words=STATUS_WORDS)


def with_charts(conn: Connection, r: dict) -> dict:
    from sovereign import charts

    after = reads.entries_frame(conn, r["to"]["list_version"]).filter(pl.col("kind") == "c").to_dicts()
    return r | {"charts": {
        "scatter": charts.pr_cl_scatter(after, r["to"]["edition"],
                                        {m["iso2"]: "out" for m in r["newly_excluded"] if m.get("iso2")}
                                        | {m["iso2"]: "in" for m in r["newly_eligible"] if m.get("iso2")}),
        "moves": charts.score_changes(r["score_moves"], r["from"]["edition"], r["to"]["edition"]) if r["score_moves"] else "",
    }}


HEADERS = {"iso2": "ISO2", "name": "Country", "fh_name": "FH name", "status_before": "Status before",
           "status_after": "Status after", "pr_before": "PR before", "pr_after": "PR after", "cl_before": "CL before",
           "cl_after": "CL after", "total_before": "Total before", "total_after": "Total after", "reason": "Why",
           "reasons": "Why", "no_new_buys_from": "No new buys from", "divest_by": "Divest by",
           "issuers": "Issuers and securities", "valid_from": "From", "valid_to": "Until", "decided_by": "Decided by",
           "created_at": "Recorded", "revoked_at": "Revoked", "revoked_by": "Revoked by", "revoked_from": "Revoked from",
           "revoke_reason": "Why revoked", "pr_rating_before": "PR rating before", "pr_rating_after": "PR rating after",
           "cl_rating_before": "CL rating before", "cl_rating_after": "CL rating after", "uri": "Source",
           "sha256": "sha256", "fetched_at": "Ingested", "kind": "Kind", "verdict": "Verdict", "total": "Total",
           "pr": "PR", "cl": "CL", "status": "Status", "direction": "Moves", "by_committee": "Committee exclusion",
           "in_force": "In force on the date", "id": "Override"}


def _frame(rows: list[dict]) -> pl.DataFrame:
    """Rows as a sheet: human headers, text neutralised, nested values as text."""
    from sovereign.cells import neutral_frame

    if not rows:
        return pl.DataFrame()
    keys = list(dict.fromkeys(k for row in rows for k in row))
    clean = [{HEADERS.get(k, k.replace("_", " ").capitalize()): (v if v is None or isinstance(v, (int, float, str, bool))
                                                               else json.dumps(v, default=str)) for k, v in
              ((k, row.get(k)) for k in keys)} for row in rows]
    return neutral_frame(pl.DataFrame(clean, infer_schema_length=None))


def to_xlsx(r: dict, path: Path) -> None:
    """The same content as the page, one sheet a section (empty ones left out), each with human headers, the
    header frozen and a filter; the full list, the committee's exclusions and the policy among them."""
    from sovereign.tables import write_sheets

    s, dcs = r["summary"], r.get("decision") or {}
    lines = [("From", f"Freedom in the World {r['from']['label']}, list version {r['from']['list_version']}"),
             ("To", f"Freedom in the World {r['to']['label']}, list version {r['to']['list_version']} ({r['to']['state']})")]
    if dcs.get("required"):
        lines += [("Decision", f"required: {dcs['state']}, not in force until published"),
                  ("If published from", dcs["effective_from"]), ("No new buys from", dcs["no_new_buys_from"]),
                  ("Divest by", dcs["divest_by"]), ("Approvals required", str(dcs["approvals_required"]))]
    elif dcs:
        lines += [("Approved by", dcs["approved_by"]), ("Recorded", dcs["published_at"]),
                  ("In force from", dcs["effective_from"]), ("Minutes", dcs.get("minutes") or "")]
    lines += [("Eligible", f"{s['before']['eligible']} -> {s['after']['eligible']}"),
              ("Excluded by FH's status", f"{s['before']['excluded']} -> {s['after']['excluded']}"),
              ("Excluded by the committee as well", str(s["after"].get("excluded_by_committee", 0))),
              ("Newly excluded", str(s["newly_excluded"])), ("Newly eligible", str(s["newly_eligible"])),
              ("Counts", r["counts_definition"]), ("Verify", "OK" if r["provenance"]["verify"]["ok"] else "FAILED"),
              ("Source", r["attribution"])]
    sheets = {"Summary": _frame([{"What": k, "Value": v} for k, v in lines]),
              "Newly excluded": _frame(r["newly_excluded"]), "Newly eligible": _frame(r["newly_eligible"]),
              "Full list": _frame(r.get("full_list", [])),
              "Overrides": _frame((r.get("overrides") or {}).get("all", [])),
              "Status changes": _frame(r["status_changes"]),
              "Territory status changes": _frame(r["territory_status_changes"]),
              "Watchlist": _frame(r["watchlist"]), "Score moves": _frame(r["score_moves"]),
              "Renamed": _frame(r["renamed"]), "Added": _frame(r["entities_added"]),
              "Dropped": _frame(r["entities_dropped"])}
    for name, mdiff in r["mandates"].items():
        sheets[f"Mandate {name}"[:31]] = _frame(mdiff["newly_excluded"] + mdiff["newly_eligible"])
    policy = [{"Mandate": m["name"], "Description": m["description"]} for m in r.get("mandates_in_force", [])]
    policy += [{"Mandate": "(policy file)", "Description": line} for line in (r.get("policy_text") or "").splitlines()]
    sheets["Policy"] = _frame(policy)
    if r.get("book"):
        from sovereign.impact import to_sheets

        for title, frame in to_sheets(r["book"]).items():
            sheets[f"Book {title}"[:31]] = frame
    sheets["Sources"] = _frame(r["provenance"]["sources"])
    sheets["Conflicts"] = _frame(r["provenance"]["conflicts"])
    write_sheets(sheets, path)
