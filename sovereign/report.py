"""The committee's diff and report: load two list versions, diff them, render JSON, Markdown, HTML, XLSX."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl

from fiw.errors import NotFound, UserError
from fiw.methodology import STATUS_WORDS
from sovereign import clock
from sovereign import diff as d
from sovereign.anchors import anchor
from sovereign.lookup import mandate_history
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
                  or (r["revoked_at"] and start < clock.day_of(r["revoked_at"]).isoformat() <= end)],
    }


def build(conn: Connection, policy: Policy, from_spec: str | None = None, to_spec: str | None = None,
          publish_on: date | None = None) -> dict:
    after = version_row(conn, to_spec, "to")
    before = version_row(conn, from_spec, "from", after)
    for side in (before, after):
        stored = reads.edition(conn, side["edition"])
        side["label"] = stored["label"] if stored else None
    end = after["effective_from"] or clock.today().isoformat()
    after_entries = reads.entries_frame(conn, after["id"])
    histories = {m.name: (mandate_history(conn, before, m), mandate_history(conn, after, m))
                 for m in policy.mandates if m.needs_history}
    result = d.compute(before, reads.entries_frame(conn, before["id"]), after, after_entries,
                       policy.mandates, override_changes(conn, before["effective_from"] or "", end), histories=histories)
    result["provenance"] = provenance(conn, [before["edition"], after["edition"]])
    result["anchor"] = anchor(conn, after["id"])
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
    from sovereign.listing import compared_days, entries_on
    from sovereign.people import SHARED
    from sovereign.pipeline import HISTORY
    from sovereign.policy import stored_policy

    before_day, after_day = compared_days(before, after, publish_on)
    on = after_day.isoformat()
    approvals = [dict(a) for a in reads.approvals(conn, after["id"], current=False)]
    if after["state"] == "published":
        decision = {"required": False, "state": "published", "approved_by": after["approved_by"],
                    "published_at": after["published_at"], "effective_from": after["effective_from"],
                    "minutes": after.get("minutes"), "backdate_reason": after.get("backdate_reason"),
                    "withdrawn": after.get("withdrawn"), "withdrawn_reason": after.get("withdrawn_reason"),
                    "history": after["approved_by"] == HISTORY, "approvals": approvals}
    else:
        no_new, divest = staging(date.fromisoformat(on), policy)
        decision = {"required": True, "state": after["state"], "reason": after["reason"], "effective_from": on,
                    "no_new_buys_from": no_new, "divest_by": divest, "approvals_required": policy.approvals_required,
                    "approvals": approvals}
    committee = [p["name"] for p in reads.people(conn) if p["role"] == "committee"]
    decision["sign_off"] = {
        "approvers": committee, "required": policy.approvals_required, "shared": SHARED,
        "command": (f"sovereign publish --edition {after['edition']} --approved-by NAME --effective-from {on} "
                    "--minutes REF" + (" --accept-held" if after["state"] == "held" else "")),
        "api": "POST /api/v1/admin/publish with the approver's own token (Authorization: Bearer ...)"}
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
    listed = entries_on(conn, after, date.fromisoformat(on))
    earlier = entries_on(conn, before, before_day)
    was = {row["iso2"]: row for row in earlier if row["iso2"]}
    active = [dict(o) for o in reads.active_overrides(conn, on)]
    before_active = {o["iso2"] for o in reads.active_overrides(conn, before_day.isoformat())}
    names = {row["iso2"]: row["name"] for row in listed if row["iso2"]}
    for o in active:
        o["name"] = names.get(o["iso2"], o["iso2"])
    by_committee = sorted({row["iso2"] for row in listed if row["by_committee"] and not row["fh_excluded"]
                           and row["kind"] == "country"})
    for row in listed:
        if row["iso2"] in by_committee and row["iso2"] not in before_active:
            prior = was.get(row["iso2"]) or {}
            why = "; ".join(o["reason"] for o in active if o["id"] in row["by_committee"])
            r["newly_excluded"].append({
                "iso2": row["iso2"], "name": row["name"], "reason": f"committee exclusion: {why}",
                "status_before": prior.get("status"), "status_after": row["status"],
                "pr_before": prior.get("pr"), "pr_after": row["pr"], "cl_before": prior.get("cl"), "cl_after": row["cl"],
                "total_before": prior.get("total"), "total_after": row["total"], "by_committee": True,
                "no_new_buys_from": row["no_new_buys_from"], "divest_by": row["divest_by"],
                "issuers": "; ".join(issuers.get(row["iso2"], [])) or None})
    in_force = {o["id"] for o in active}
    everything = [dict(o) | {"in_force": o["id"] in in_force} for o in reads.overrides(conn)]
    r["summary"]["before"] = counted(earlier)
    r["summary"]["after"] = counted(listed)
    r["summary"]["newly_excluded"] = len(r["newly_excluded"])
    full = [{"iso2": row["iso2"], "name": row["name"], "kind": row["kind"], "status": row["status"],
             "verdict": row["verdict"], "total": row["total"], "pr": row["pr"], "cl": row["cl"],
             "reasons": "; ".join(row["reasons"]), "by_committee": bool(row["by_committee"]),
             "no_new_buys_from": row["no_new_buys_from"], "divest_by": row["divest_by"]}
            for row in sorted(listed, key=lambda x: (x["kind"], x["name"]))]
    return {"decision": decision, "overrides": {"active": active, "all": everything, "by_committee": by_committee,
                                                "on": on},
            "full_list": full,
            "policy_text": after["policy"],
            "mandates_in_force": [{"name": m.name, "description": m.description}
                                  for m in stored_policy(after["policy"]).mandates]}


def counted(rows: list[dict]) -> dict:
    """Headline counts over countries (words.COUNTS), the committee's exclusions counted as excluded."""
    countries = [row for row in rows if row["kind"] == "country"]
    return {"eligible": sum(row["eligible"] for row in countries),
            "excluded": sum(not row["eligible"] for row in countries),
            "excluded_by_committee": sum(bool(row["by_committee"]) and not row["fh_excluded"] for row in countries)}


def provenance(conn: Connection, editions: list[int]) -> dict:
    from sovereign.pipeline import verify_stored

    checked = verify_stored(conn, editions)
    return {"sources": reads.edition_sources(conn, editions),
            "verify": {"ok": checked["ok"], "editions": checked["editions"], "errors": checked["errors"],
                       "known_errata": checked["known_errata"]},
            "conflicts": checked["source_conflicts"], "generated": clock.today().isoformat()}


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
             *([f"**Note: {r['not_recomputed']}.**", ""] if r.get("not_recomputed") else []),
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
    dcs = r.get("decision") or {}
    sign = dcs.get("sign_off") or {}
    if dcs.get("required"):
        lines += ["## Sign-off", "",
                  f"{sign.get('required')} different approver(s) of the same date: "
                  f"{', '.join(sign.get('approvers') or []) or 'the committee (sovereign people add NAME --role committee)'}."
                  " The shared admin token never counts as an approver.", "", f"`{sign.get('command')}`", ""]
    if dcs.get("approvals"):
        lines += ["## Approvals", ""] + _table(
            [a | {"replaced": "replaced" if a.get("replaced_at") else ""} for a in dcs["approvals"]],
            [("Approved by", "approved_by"), ("OS user", "os_user"), ("For", "effective_from"),
             ("Minutes", "minutes"), ("Recorded", "recorded_at"), ("", "replaced")])
    lines += ["## Per mandate", ""]
    for name, mdiff in r["mandates"].items():
        lines += [f"### {name}: {mdiff['description']}", "",
                  f"Eligible {mdiff['eligible_before']} -> {mdiff['eligible_after']}.", ""]
        lines += _table(mdiff["newly_excluded"] + mdiff["newly_eligible"], [("Moved", "direction"), *MOVER_COLS])
    pc, oc = r["policy_change"], r["override_changes"]
    lines += ["## Policy and overrides", "",
              "Policy unchanged." if not pc["changed"] else "Policy changed: " + ", ".join(x["field"] for x in pc["fields"]),
              "", f"Overrides added: {len(oc['added'])}; ended or revoked: {len(oc['ended'])}.", "",
              r["attribution"], "", r["anchor"]["line"], ""]
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


def to_sheets(r: dict) -> dict[str, pl.DataFrame]:
    """The pack's sections as frames, one a sheet."""
    s, dcs = r["summary"], r.get("decision") or {}
    lines = [("From", f"Freedom in the World {r['from']['label']}, list version {r['from']['list_version']}"),
             ("To", f"Freedom in the World {r['to']['label']}, list version {r['to']['list_version']} ({r['to']['state']})")]
    sign = dcs.get("sign_off") or {}
    if dcs.get("required"):
        who = ", ".join(sign.get("approvers") or []) or "the committee"
        lines += [("Sign-off", f"{sign.get('required')} approver(s): {who}; {sign.get('command')}")]
        lines += [("Decision", f"required: {dcs['state']}, not in force until published"),
                  ("If published from", dcs["effective_from"]), ("No new buys from", dcs["no_new_buys_from"]),
                  ("Divest by", dcs["divest_by"]), ("Approvals required", str(dcs["approvals_required"]))]
    elif dcs.get("history"):
        lines += [("Basis", f"Freedom House's publication of {r['to']['label']}, in force from {dcs['effective_from']}"),
                  ("Approved by", "no approval recorded (bundled history)")]
    elif dcs:
        lines += [("Approved by", dcs["approved_by"]), ("Recorded", dcs["published_at"]),
                  ("In force from", dcs["effective_from"]), ("Minutes", dcs.get("minutes") or "")]
    lines += [("Eligible", f"{s['before']['eligible']} -> {s['after']['eligible']}"),
              ("Excluded (FH's status or the committee)", f"{s['before']['excluded']} -> {s['after']['excluded']}"),
              ("Of them excluded by the committee alone", str(s["after"].get("excluded_by_committee", 0))),
              ("Newly excluded", str(s["newly_excluded"])), ("Newly eligible", str(s["newly_eligible"])),
              ("Counts", r["counts_definition"]), ("Verify", "OK" if r["provenance"]["verify"]["ok"] else "FAILED"),
              ("Source", r["attribution"]), ("Anchor", r["anchor"]["line"])]
    sheets = {"Summary": _frame([{"What": k, "Value": v} for k, v in lines]),
              "Newly excluded": _frame(r["newly_excluded"]), "Newly eligible": _frame(r["newly_eligible"]),
              "Full list": _frame(r.get("full_list", [])),
              "Approvals": _frame([{k: v for k, v in a.items() if k not in ("id", "person_key")}
                                   for a in dcs.get("approvals") or []]),
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
    return sheets
