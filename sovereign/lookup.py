"""Desk answers against list versions: which version answers, and the answer itself, built in one place.

`check`, `screen`, the API and the lookup page all come through `answers()`: resolve (sovereign.resolve),
pick the version, answer each target from that version's entries, then apply committee overrides and
a mandate. Light on purpose: stdlib sqlite3 on the common path, so `sovereign check` starts fast;
polars is loaded only when a mandate or a committee override has to be applied.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from fiw import words
from fiw.errors import NotFound, Unavailable, UserError
from sovereign import clock
from sovereign.resolve import Resolver, Target, after_ceasing, assessed_within, ceased_answer, ceased_by, ceased_states
from sovereign.store import reads
from sovereign.store.reads import Connection, Row

if TYPE_CHECKING:
    from sovereign.policy import Mandate, Policy

ANSWER_KEYS = ("query", "verdict", "iso2", "name", "kind", "eligible", "status", "edition", "list_version", "state",
               "in_force", "effective_from", "as_of", "as_known_on", "reasons", "pr", "cl", "total", "pr_rating", "cl_rating",
               "no_new_buys_from", "divest_by", "mandate", "by_committee", "covered_by", "issuer", "upcoming", "pending")
UNRESOLVED = "unresolved"
COVERED_BY = "covered_by"  # the ISO2 of the country whose FH report answers for a place (its overrides apply too)
SUPRANATIONAL = "supranational"
ELIGIBLE, EXCLUDED, UNKNOWN = "eligible", "excluded", "unknown"


def known_bound(as_known_on: date | None) -> str | None:
    """`--as-known-on D`: everything recorded before the end of D in Amsterdam (an exclusive bound on recorded
    UTC times). A day
    after tomorrow is refused: nothing is known of it yet, and 9999-12-31 has no end to compute."""
    if as_known_on and as_known_on > clock.today() + timedelta(days=1):
        raise UserError(f"as known on {as_known_on}: that day has not come; give today or an earlier date")
    return clock.end_of(as_known_on) if as_known_on else None


def pick_version(conn: Connection, edition: int | None = None, as_of: date | None = None,
                 version_id: int | None = None, as_known_on: date | None = None) -> Row:
    """The list an answer comes from: version N (any state, marked not in force), the newest published for
    `edition`, else the published one in force on `as_of` (a future date too) as the records stood on
    `as_known_on` (default: now). The rule for combining them is `listing.check_arguments`."""
    from sovereign.listing import check_arguments

    check_arguments(edition, version_id, as_of)
    known = known_bound(as_known_on)
    if version_id is not None:
        version = reads.version(conn, version_id)
        if version is None:
            raise NotFound(f"no list version {version_id}")
        return version
    if edition is not None:
        version = reads.latest_published(conn, edition, known)
        if version is None:
            waiting = reads.newest_version(conn, edition, ("proposed", "held"))
            if waiting is not None:
                raise NotFound(f"edition {edition} has no published list yet: list version {waiting['id']} is "
                               f"{waiting['state']} and not in force; ask it with --version {waiting['id']}")
            have = reads.published_editions(conn)
            span = f"{have[0]}-{have[-1]}" if have else "none"
            raise NotFound(f"no published list for edition {edition} (published editions: {span}; "
                           "there is no 2002 edition)")
        return version
    on = (as_of or clock.today()).isoformat()
    version = reads.version_in_force(conn, on, known)
    if version is None:
        first = reads.first_effective(conn, known)
        when = f" as known on {as_known_on}" if as_known_on else ""
        raise NotFound(f"no list was in force on {on}{when}"
                       + (f": the first took effect on {first}" if first else ": nothing was published yet"))
    return version


def in_force(version: Row, on: date, as_known_on: date | None) -> bool:
    """Whether `version` is the one the desk acts on for `on`: published, not withdrawn, effective by then."""
    known = known_bound(as_known_on) or "9999"
    return (version["state"] == "published" and (version["published_at"] or "9999") < known
            and not (version["withdrawn"] and version["withdrawn"] < known)
            and (version["effective_from"] or "9999") <= on.isoformat())


def supranational_reason(name: str) -> str:
    return f"{name} is a supranational issuer: out of scope of the Freedom House country rule"


def verdict(answer: dict) -> str:
    """eligible, excluded, or unknown: a well-formed identifier nobody registered. Unknown is never eligible."""
    if answer["kind"] == UNRESOLVED:
        return UNKNOWN
    return ELIGIBLE if answer["eligible"] else EXCLUDED


def answer(target: Target, version: Row, entries: dict[str, Row]) -> dict:
    """One target against one version's entries (entity -> entry): eligible, status and why."""
    base = dict.fromkeys(ANSWER_KEYS) | {
        "query": target.query, "edition": version["edition"], "list_version": version["id"],
        "state": version["state"], "effective_from": version["effective_from"], "iso2": target.iso2,
        "name": target.name, "issuer": target.issuer.as_dict() if target.issuer else None,
    }
    if target.unregistered:
        return base | {"kind": UNRESOLVED, "eligible": False, "reasons": [target.unregistered]}
    if target.issuer and not target.entities:
        return base | {"kind": SUPRANATIONAL, "eligible": True, "reasons": [supranational_reason(target.issuer.name)]}
    prefix = []
    if target.issuer:
        i = target.issuer
        prefix = [f"{i.isin or i.lei or i.name}: issued by {i.name} ({i.type}, {i.country})"]
    # a code two rated states carried in one list (North and South Vietnam): the stricter answers, never the other
    rated = sorted((entries[e] for e in target.entities if e in entries), key=lambda r: (r["kind"], bool(r["eligible"])))
    within = target.within
    if not rated and within and version["edition"] >= within.from_edition:
        parent = next((entries[e] for e in within.parent_entities if e in entries), None)
        folded = (f"no longer rated separately: FH covers {target.name} in its {within.parent} report (from "
                  f"{words.title(within.from_edition)})")
        if parent is None:  # the covering report is not in this list: never eligible on a missing answer
            return base | {"kind": "territory", "eligible": False,
                           "reasons": prefix + [f"{folded}, which this list does not hold"]}
        issuer = "" if within.own_code else "; with no ISO code of its own it is not a separate issuer"
        return base | {
            "kind": "territory", "eligible": bool(parent["eligible"]) and within.own_code, "status": parent["status"],
            "reasons": prefix + [f"{folded}{issuer}. {within.parent}: {parent['reasons']}"],
            "pr": parent["pr"], "cl": parent["cl"], "total": parent["total"], "pr_rating": parent["pr_rating"],
            "cl_rating": parent["cl_rating"], "no_new_buys_from": parent["no_new_buys_from"],
            "divest_by": parent["divest_by"], COVERED_BY: parent["iso2"]}
    if rated and rated[0]["eligible"] and all(r["entity"] in target.continued for r in rated):
        unrated = policy_of(version).unrated  # the named state itself is not rated: its forerunner only tightens
        if unrated != "eligible":
            entry = rated[0]
            return base | {"kind": target.kind, "eligible": False, "reasons": prefix + [
                f"{words.not_rated(version['edition'])}: {target.name} itself is not rated in this list; FH rated "
                f"{entry['fh_name']}, the state it continues, {words.status_word(entry['status'])}, which answers for "
                f"{target.name} only where it is stricter"]}
    if not rated:
        held_by = sorted(set(target.names.values()))  # a code carried by several states, none rated then
        name = " or ".join(held_by) if len(held_by) > 1 else target.name
        if target.former:
            return base | {"kind": "country", "eligible": False, "name": name, "reasons": prefix + [
                f"{words.not_rated(version['edition'])}: {name} no longer exists as a state, never eligible"]}
        unrated = policy_of(version).unrated
        return base | {"kind": target.kind, "eligible": unrated == "eligible", "name": name,
                       "reasons": prefix + [words.not_rated(version["edition"])]}
    entry = rated[0]
    if len(shared := [r for r in rated if r["kind"] == entry["kind"]]) > 1:
        prefix = prefix + [f"{target.query} names {' and '.join(r['fh_name'] for r in shared)} in this list: "
                           f"answered for the stricter, {entry['fh_name']}"]
    return base | {
        "iso2": entry["iso2"], "name": entry["fh_name"], "kind": words.kind_word(entry["kind"]),
        "eligible": bool(entry["eligible"]), "status": entry["status"], "reasons": prefix + [entry["reasons"]],
        "pr": entry["pr"], "cl": entry["cl"], "total": entry["total"],
        "pr_rating": entry["pr_rating"], "cl_rating": entry["cl_rating"],
        "no_new_buys_from": entry["no_new_buys_from"], "divest_by": entry["divest_by"],
    }


def covered(conn: Connection, version: Row) -> list[dict]:
    """The places with an ISO code of their own that FH covers in another country's report in this version and does
    not rate apart (Puerto Rico in the United States' report from 2017), each answered as `check` answers it: the
    list on a date carries them, so a table joined on ISO2 finds a row for them (data/assessed_within.csv)."""
    resolver = Resolver(conn)
    targets = [target for name, row in assessed_within().items()
               if row["answer"] == "parent" and version["edition"] >= int(row["from_edition"])
               and (target := resolver.resolve(name)).within is not None and target.within.own_code]
    wanted = tuple({e for t in targets for e in (*t.entities, *(t.within.parent_entities if t.within else ()))})
    entries = {r["entity"]: r for r in reads.entries(conn, version["id"], wanted)} if wanted else {}
    return [answer(t, version, entries) for t in targets if not any(e in entries for e in t.entities)]


def covering(conn: Connection, version: Row) -> dict[str, str]:
    """Place -> the country whose report answers for it in this version (PR -> US), as `covered` answers it."""
    return {a["iso2"]: a[COVERED_BY] for a in covered(conn, version) if a[COVERED_BY]}


def policy_of(version: Row) -> Policy:
    from sovereign.policy import stored_policy  # only when needed: keeps `check`'s start-up light

    return stored_policy(version["policy"])


def mandate_history(conn: Connection, version: Row, mandate: Mandate | None) -> Any:
    """The published lists of the editions before `version`'s that a mandate's persistence or decline reads
    (None when it has neither)."""
    if mandate is None or not mandate.needs_history:
        return None
    import polars as pl

    back = (mandate.persistence or 1) - 1 + (mandate.decline_editions or 0)
    frames = [reads.entries_frame(conn, row["id"]).select(
        "entity", "iso2", "status", "pr", "cl", "total", "eligible", pl.col("kind").replace_strict(
            words.KIND_WORDS, default="country").alias("scope"), edition=pl.lit(edition, pl.Int64))
        for edition in [e for e in reads.published_editions(conn) if e < version["edition"]][-back:]
        if (row := reads.latest_published(conn, edition)) is not None]
    return pl.concat(frames) if frames else None


def tighten(rows: list[dict], overrides: list[Row], mandate: Mandate | None, version: Row,
            history: Any = None) -> list[dict]:
    """Committee overrides (staged like list exclusions) and a mandate, applied through the one frame
    implementation in `eligibility`; then each answer's verdict and the overrides that exclude it."""
    committee: dict[str, list[int]] = {}
    for o in overrides:
        committee.setdefault(o["iso2"], []).append(int(o["id"]))
    judged = [r.get(COVERED_BY) or r["iso2"] for r in rows]  # a place in its parent's report: the parent's
    if rows and (overrides or mandate is not None):
        import polars as pl

        from sovereign.eligibility import apply_mandate, apply_overrides

        frame = pl.DataFrame(
            [{"i": i, "iso2": judged[i], "status": r["status"], "pr": r["pr"], "cl": r["cl"], "total": r["total"],
              "eligible": r["eligible"], "reasons": r["reasons"], "scope": r["kind"],
              "no_new_buys_from": r["no_new_buys_from"], "divest_by": r["divest_by"]} for i, r in enumerate(rows)],
            schema={"i": pl.Int64, "iso2": pl.String, "status": pl.String, "pr": pl.Int64, "cl": pl.Int64,
                    "total": pl.Int64, "eligible": pl.Boolean, "reasons": pl.List(pl.String), "scope": pl.String,
                    "no_new_buys_from": pl.String, "divest_by": pl.String},
        )
        frame = apply_overrides(frame, overrides, policy_of(version).divest_days)
        if mandate is not None:
            frame = apply_mandate(frame, mandate, version["edition"], history)
        out = {r["i"]: r for r in frame.select("i", "eligible", "reasons", "no_new_buys_from", "divest_by")
               .iter_rows(named=True)}
        rows = [r | {k: out[i][k] for k in ("eligible", "reasons", "no_new_buys_from", "divest_by")}
                | {"mandate": mandate.name if mandate else None} for i, r in enumerate(rows)]
    return [r | {"verdict": verdict(r), "by_committee": committee.get(code or "", [])}
            for r, code in zip(rows, judged, strict=True)]


_PROVED: set[tuple[str, int, str]] = set()


def proved(conn: Connection, version: Row) -> None:
    """A version answers only if its entries still match the digest recorded with them: a list changed
    under the product's nose is an error naming it, never an answer. Checked once per version per process while
    the database file stands as it was (`reads.database_identity`): any write, a refresh or a restore proves again."""
    recorded = reads.version_check(conn, version["id"])
    key = (reads.database_identity(conn), version["id"], recorded or "")
    if recorded is not None and key in _PROVED:
        return
    if not reads.version_matches(conn, version):
        raise Unavailable(f"list version {version['id']} ({words.title(version['edition'])}) does not match the digest "
                        "recorded with it: its entries were changed outside sovereign. No answer is given from it; "
                        "run `sovereign verify` and restore the database from a backup")
    _PROVED.add(key)


def unproved(conn: Connection, version: Row) -> str | None:
    """Why a version cannot answer (its digest fails, the key is missing or wrong), or None: for /health."""
    try:
        proved(conn, version)
    except UserError as exc:
        return str(exc)
    return None


def answer_version(conn: Connection, targets: list[Target], version: Row, on: date, mandate: Mandate | None,
                   known: str | None) -> list[dict]:
    """Targets answered from one version, with the overrides in force on `on` as known then."""
    proved(conn, version)
    wanted = tuple({e for t in targets for e in (*t.entities, *(t.within.parent_entities if t.within else ()))})
    entries = {r["entity"]: r for r in reads.entries(conn, version["id"], wanted)} if wanted else {}
    out = [after_ceasing(t, answer(t, version, entries), on) for t in targets]
    return tighten(out, reads.active_overrides(conn, on.isoformat(), known), mandate, version,
                   mandate_history(conn, version, mandate))


def answers(conn: Connection, targets: list[Target], edition: int | None = None, as_of: date | None = None,
            mandate: Mandate | None = None, version_id: int | None = None,
            as_known_on: date | None = None, on: date | None = None) -> list[dict]:
    """Targets answered from one version; an answer for a date (not a pinned edition or version) also says
    what is coming: the next published list (`upcoming`) and a list awaiting a decision (`pending`). `on`: the
    day a pinned version is read for, when not its own (`listing.compared_days`)."""
    from sovereign.listing import answer_date

    known = known_bound(as_known_on)
    version = pick_version(conn, edition, as_of, version_id, as_known_on)
    on = on if on is not None and version_id is not None else answer_date(version, as_of)
    out = answer_version(conn, targets, version, on, mandate, known)
    stamp = {"as_of": on.isoformat(), "as_known_on": (as_known_on or clock.today()).isoformat(),
             "in_force": in_force(version, on, as_known_on)}
    out = [a | stamp for a in out]
    if edition is not None or version_id is not None:
        return out
    for a, change in zip(out, next_changes(conn, targets, out, on, mandate, known), strict=True):
        a["upcoming"] = change
    review = reads.pending(conn, known)
    if review is not None and review["id"] > version["id"]:
        waiting = answer_version(conn, targets, review, on, mandate, known)
        for a, b in zip(out, waiting, strict=True):
            a["pending"] = {k: b[k] for k in ("verdict", "eligible", "status", "list_version", "edition")} | {
                "state": review["state"], "reason": review["reason"], "change": pending_change(a["verdict"], b["verdict"])}
    return out


UPCOMING_KEYS = ("verdict", "eligible", "status", "effective_from", "list_version", "edition", "no_new_buys_from",
                 "divest_by", "by_committee")
MAX_CHANGE_DATES = 50


def override_days(conn: Connection, known: str | None = None) -> set[str]:
    """The days committee overrides recorded before `known` (all, without it) can change an answer: an override's
    first day, the day after its last, and a recorded revocation's first day."""
    days = set()
    for o in reads.overrides(conn):
        if known and o["created_at"] >= known:
            continue
        days.add(o["valid_from"])
        if o["valid_to"]:
            days.add((date.fromisoformat(o["valid_to"]) + timedelta(days=1)).isoformat())
        if o["revoked_at"] and (not known or o["revoked_at"] < known) and o["revoked_from"]:
            days.add(o["revoked_from"])
    return days


def ceasing_days() -> set[str]:
    """The days states ceased to exist: from each, the state answers "ceased"."""
    return {end.on.isoformat() for end in ceased_states().values()}


def change_dates(conn: Connection, on: date, known: str | None) -> list[str]:
    """Days after `on` on which an answer can change, as known: the next published list's first day, the
    overrides' days (`override_days`) and the days states ceased."""
    days = override_days(conn, known) | ceasing_days()
    coming = reads.upcoming(conn, on.isoformat(), known)
    if coming is not None:
        days.add(coming["effective_from"])
    return sorted(d for d in days if d > on.isoformat())[:MAX_CHANGE_DATES]


def next_changes(conn: Connection, targets: list[Target], today: list[dict], on: date, mandate: Mandate | None,
                 known: str | None) -> list[dict | None]:
    """For each target, what is coming: the first later day its verdict changes (a list taking effect, a committee
    override starting or ending), else the next published list even when it changes nothing for it."""
    found: list[dict | None] = [None] * len(targets)
    for day in change_dates(conn, on, known):
        if all(f is not None for f in found):
            break
        version = reads.version_in_force(conn, day, known)
        if version is None:
            continue
        ahead = answer_version(conn, targets, version, date.fromisoformat(day), mandate, known)
        for i, (a, b) in enumerate(zip(today, ahead, strict=True)):
            if found[i] is None and b["verdict"] != a["verdict"]:
                found[i] = {k: b[k] for k in UPCOMING_KEYS} | {"effective_from": day}
    coming = reads.upcoming(conn, on.isoformat(), known)
    if coming is not None and any(f is None for f in found):
        ahead = answer_version(conn, targets, coming, date.fromisoformat(coming["effective_from"]), mandate, known)
        found = [f if f is not None else {k: b[k] for k in UPCOMING_KEYS} for f, b in zip(found, ahead, strict=True)]
    return found


def pending_change(today: str, proposed: str) -> str:
    """The proposal against today's answer, in the committee's words."""
    if proposed == today:
        return "no change"
    return {"eligible": "would re-admit", "excluded": "would exclude"}.get(proposed, "cannot place it")


def check(conn: Connection, ids: list[str], edition: int | None = None, as_of: date | None = None,
          mandate: Mandate | None = None, version_id: int | None = None,
          as_known_on: date | None = None) -> list[dict]:
    """Every readable ID is answered; one that cannot be read is an object with `error` in its place."""
    resolver = Resolver(conn)
    targets: list[Target] = []
    slots: list[dict | int] = []
    for query in ids:
        try:
            targets.append(resolver.resolve(query))
            slots.append(len(targets) - 1)
        except UserError as exc:
            slots.append({"query": query, "error": str(exc), "verdict": None, "eligible": False})
    answered = answers(conn, targets, edition, as_of, mandate, version_id, as_known_on) if targets else []
    if not targets:
        pick_version(conn, edition, as_of, version_id, as_known_on)  # no list at all is its own error
    return [answered[s] if isinstance(s, int) else s for s in slots]


def list_entries(conn: Connection, version: Row, on: date | None = None, mandate: Mandate | None = None,
                 excluded_only: bool = False, as_known_on: date | None = None) -> list[dict]:
    """Every entity of a version, as the desk sees it on `on` (default today): `listing.entries_on`."""
    from sovereign.listing import entries_on

    rows = [{k: v for k, v in r.items() if k != "fh_excluded"}
            for r in entries_on(conn, version, on or clock.today(), mandate, as_known_on)]
    return [r for r in rows if not r["eligible"]] if excluded_only else rows


def history(conn: Connection, query: str) -> tuple[Target, list[dict]]:
    """Status, scores and eligibility of one entity in every edition's newest published list, with the states
    it succeeded (data/successors.csv) shown and marked as predecessors. A code several states carried
    (VN: South Vietnam too) gives the history of the one rated last, never a mix."""
    resolver = Resolver(conn)
    target = resolver.resolve(query)
    if not target.entities:
        raise UserError(f"{query!r}: history is kept for countries and territories; this is {target.name}")
    own = reads.history(conn, target.entities)
    present = own[-1]["entity"] if own else target.entities[0]
    chain = resolver.predecessors(present)
    names = {name for name, _ in chain}
    extra = reads.history(conn, tuple({resolver.entity_of(n) for n in names} - {present}))
    rows = [r for r in own if r["entity"] == present] + [r for r in extra if r["name"] in names]
    rows += covered_history(conn, target, {r["edition"] for r in rows})
    notes = dict(chain)
    if own:
        target = replace(target, name=next(r["name"] for r in reversed(own) if r["entity"] == present))
    ends = ceased_states()
    return target, sorted(({**as_listed(r), "predecessor": notes.get(r["name"]),
                            "ceased": ends[r["name"]].reason if r["name"] in ends else None} for r in rows),
                          key=lambda r: (r["edition"], r["predecessor"] is None))


def covered_history(conn: Connection, target: Target, rated: set[int]) -> list[dict]:
    """The editions in which FH covers a place in another country's report and does not rate it apart (Puerto Rico
    from 2017), each as `check` answers it from that edition's list: the parent's status, `covered_by` naming it."""
    within = target.within
    if within is None:
        return []
    out = []
    for edition in reads.published_editions(conn):
        version = reads.latest_published(conn, edition)
        if edition < within.from_edition or edition in rated or version is None:
            continue
        wanted = (*target.entities, *within.parent_entities)
        a = answer(target, version, {r["entity"]: r for r in reads.entries(conn, version["id"], wanted)})
        about = reads.edition(conn, edition) or {}
        out.append({k: a[k] for k in ("name", "status", "pr", "cl", "total", "pr_rating", "cl_rating", "eligible")} | {
            "edition": edition, "list_version": version["id"], "effective_from": version["effective_from"],
            "entity": None, "reasons": "; ".join(a["reasons"]), "status_pub": None, "note": None,
            "year_under_review": about.get("year_under_review"), "label": about.get("label"),
            COVERED_BY: a[COVERED_BY]})
    return out


def as_listed(row: dict) -> dict:
    """A history row as the list on its first day answers it: a state that had ceased to exist by then is not
    eligible (Czechoslovakia in the 1992-93 list, in force from 31 January 1993), by the rule `check` applies."""
    end = ceased_by(row["name"], date.fromisoformat(row["effective_from"])) if row["effective_from"] else None
    if end is None:
        return row
    listed = ceased_answer(row | {"reasons": [row["reasons"]]}, end)
    return listed | {"reasons": "; ".join(listed["reasons"])}
