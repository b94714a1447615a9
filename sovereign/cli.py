"""The `sovereign` command. Each command is a thin shell over a library function.

Exit codes: 0 ok; 1 the answer is "not eligible" (check) or a data problem was found (verify);
2 bad input or usage, with a message and no traceback. Heavy imports stay inside the commands
that need them, so desk lookups start fast.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

import click

from sovereign.errors import UserError

ATTRIBUTION = "Source: Freedom House, Freedom in the World {edition}"


class Group(click.Group):
    """Turns a UserError anywhere below into one clear message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _db_path(ctx: click.Context) -> Path:
    from sovereign.paths import default_db

    return Path(ctx.obj["db"]) if ctx.obj.get("db") else default_db()


def _policy(ctx: click.Context):
    from sovereign import paths
    from sovereign.policy import load_policy

    return load_policy(Path(ctx.obj["policy"]) if ctx.obj.get("policy") else paths.POLICY)


def _parse_date(value: str | None, what: str = "--as-of") -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} {value!r}: expected a date as YYYY-MM-DD") from None
    if parsed > date.today():
        raise UserError(f"{what} {value}: a date in the future has no list in force yet; give today or earlier")
    return parsed


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="SOVEREIGN_DB", help="Database file (default: sovereign.db in the user data directory).")
@click.option("--policy", envvar="SOVEREIGN_POLICY", help="Policy TOML (default: data/policy.toml).")
@click.version_option(package_name="sovereign")
@click.pass_context
def main(ctx: click.Context, db: str | None, policy: str | None) -> None:
    """Sovereign issuer exclusions from Freedom House's Freedom in the World."""
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, policy=policy)


@main.command()
@click.option("--source", default="bundled", show_default=True, type=click.Choice(["bundled"]),
              help="Where the scores come from: the snapshot bundled in data/.")
@click.pass_context
def refresh(ctx: click.Context, source: str) -> None:
    """Load Freedom in the World, recompute every status, and build the list versions."""
    from sovereign import pipeline, store

    policy = _policy(ctx)
    path = _db_path(ctx)
    db = store.open_db(path)
    run = store.start_run(db, "manual", f"refresh --source {source}")
    try:
        outcome = pipeline.refresh_bundled(db, path, policy)
    except Exception as exc:
        store.finish_run(db, run, "failed", str(exc))
        raise
    counts = {k: sum(1 for v in outcome.editions.values() if v == k) for k in ("new", "revised", "unchanged")}
    editions = sorted(outcome.editions)
    click.echo(f"Database: {path}")
    click.echo(f"Loaded the bundled snapshot: {len(editions)} editions ({editions[0]}-{editions[-1]}), "
               f"{outcome.entities} edition-entity rows.")
    if outcome.changed:
        click.echo(f"Editions: {counts['new']} new, {counts['revised']} revised, {counts['unchanged']} unchanged; "
                   f"{len(outcome.versions)} list version(s) published.")
    else:
        click.echo(f"Nothing changed: all {counts['unchanged']} editions and their lists are already stored.")
    _print_in_force(store.connect_readonly(path))
    report = _verify_report(db)
    click.echo(_verify_line(report))
    store.finish_run(db, run, "ok" if outcome.changed else "unchanged",
                     json.dumps(counts), max(editions) if counts["new"] or counts["revised"] else None)
    db.close()


@main.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--edition", type=int, help="The edition of a scores CSV that has no edition column or year in its name.")
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, edition: int | None) -> None:
    """An FH workbook (All data, Aggregate, historical ratings) or a scores CSV, handed in by an operator."""
    from sovereign import pipeline, store

    policy = _policy(ctx)
    path = _db_path(ctx)
    db = store.open_db(path)
    run = store.start_run(db, "manual", f"import {file.name}")
    try:
        outcome = pipeline.import_file(db, path, file, policy, edition)
    except Exception as exc:
        store.finish_run(db, run, "failed", str(exc))
        raise
    by = {}
    for e, what in sorted(outcome.editions.items()):
        by.setdefault(what, []).append(e)
    click.echo(f"Imported {file.name}: {outcome.entities} edition-entity rows.")
    for what in ("new", "revised", "unchanged", "compared"):
        if by.get(what):
            label = {"compared": "compared only (stored data is more detailed; differences recorded as conflicts)"}.get(what, what)
            click.echo(f"  {label}: {_span(by[what])}")
    for v in outcome.versions:
        row = db.execute("SELECT edition, state FROM list_versions WHERE id = ?", [v]).fetchone()
        click.echo(f"List version {v} for edition {row[0]}: {row[1]}.")
    store.finish_run(db, run, "ok" if outcome.changed else "unchanged", json.dumps(by),
                     max(by.get("new", [0]) + by.get("revised", [0])) or None)
    db.close()


def _span(editions: list[int]) -> str:
    """[2003, 2004, 2005, 2013] -> '2003-2005, 2013' (FH has no 2002 edition, so 2001-2003 is a run)."""
    runs: list[list[int]] = []
    for e in editions:
        if runs and e - runs[-1][-1] <= (2 if runs[-1][-1] == 2001 else 1):
            runs[-1].append(e)
        else:
            runs.append([e])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _print_in_force(conn) -> None:
    from sovereign import store

    version = store.version_in_force(conn, date.today().isoformat())
    if version is None:
        click.echo("No list is in force today.")
        return
    rows = conn.execute(
        "SELECT kind, iso2 IS NOT NULL AS coded, eligible, COUNT(*) FROM list_entries WHERE version_id = ? "
        "GROUP BY 1, 2, 3", [version["id"]]).fetchall()
    count = lambda k, e: sum(r[3] for r in rows if r[0] == k and r[1] and r[2] == e)  # noqa: E731
    territories = sum(r[3] for r in rows if r[0] == "t")
    click.echo(
        f"List in force today: Freedom in the World {version['edition']}, version {version['id']}, effective "
        f"{version['effective_from']}: {count('c', 1)} countries eligible, {count('c', 0)} excluded; "
        f"{territories} territories ({count('t', 1) + count('t', 0)} with an ISO code of their own)."
    )


def _verify_report(db) -> dict:
    import polars as pl

    from sovereign.countries import read_errata
    from sovereign.verify import report

    scores = pl.DataFrame(list(db.query("SELECT * FROM scores")), infer_schema_length=None)
    conflicts = pl.DataFrame(list(db.query('SELECT edition, entity, fh_name, field, "values", kept FROM conflicts')),
                             schema={"edition": pl.Int64, "entity": pl.String, "fh_name": pl.String,
                                     "field": pl.String, "values": pl.String, "kept": pl.String})
    return report(scores, read_errata(), conflicts)


def _verify_line(report: dict) -> str:
    from sovereign.methodology import MECHANICAL_FROM

    head = "Verify: OK" if report["ok"] else "Verify: FAILED"
    return (f"{head}: {len(report['errors'])} mismatch(es) from edition {MECHANICAL_FROM} on; "
            f"{len(report['expected'])} expected pre-{MECHANICAL_FROM} difference(s); "
            f"{len(report['known_errata'])} known FH erratum(s); {len(report['source_conflicts'])} source conflict(s).")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Per-edition counts and every row, as JSON.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Recompute every stored rating and status and compare with FH's published ones."""
    from sovereign import store

    db = store.open_db(_db_path(ctx), create=False)
    report = _verify_report(db)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo(_verify_line(report))
        for title, key in (("Mismatches (errors)", "errors"), ("Known FH errata", "known_errata"),
                           ("Expected differences before 2004 (FH's published status stands)", "expected")):
            rows = report[key]
            if rows:
                click.echo(f"\n{title}: {len(rows)}")
                for r in rows:
                    click.echo(f"  {r['edition']}  {r['fh_name']:<36} {r['field']:<14} published {r['published']:<3} "
                               f"recomputed {r['recomputed']:<3} (ratings {r['pr_rating_pub']}/{r['cl_rating_pub']})"
                               + (f"  {r['erratum']}" if r.get("erratum") else ""))
        if report["source_conflicts"]:
            click.echo(f"\nWhere FH's own files disagree: {len(report['source_conflicts'])}")
            for r in report["source_conflicts"]:
                click.echo(f"  {r['edition']}  {r['fh_name']:<36} {r['field']:<14} {r['values']} -> kept {r['kept']}")
    ctx.exit(0 if report["ok"] else 1)


def _readonly(ctx: click.Context):
    from sovereign import store

    return store.connect_readonly(_db_path(ctx))


@main.command(name="list")
@click.option("--edition", type=int, help="The list of this edition (default: the one in force).")
@click.option("--as-of", "as_of", help="The list in force on this date (YYYY-MM-DD).")
@click.option("--excluded", is_flag=True, help="Only the excluded entities.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_context
def list_cmd(ctx: click.Context, edition: int | None, as_of: str | None, excluded: bool, fmt: str) -> None:
    """Every FH entity of an edition with its status, scores and eligibility."""
    from sovereign import lookup

    if edition is not None and as_of is not None:
        raise UserError("give --edition or --as-of, not both")
    conn = _readonly(ctx)
    version = lookup.pick_version(conn, edition, _parse_date(as_of))
    rows = lookup.list_entries(conn, version, excluded)
    columns = ["iso2", "name", "kind", "status", "eligible", "pr", "cl", "total", "pr_rating", "cl_rating", "reasons",
               "no_new_buys_from", "divest_by"]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
    else:
        click.echo(f"Freedom in the World {version['edition']}, list version {version['id']} "
                   f"(effective {version['effective_from']})")
        for r in rows:
            mark = "eligible" if r["eligible"] else "EXCLUDED"
            scores = f"PR {r['pr']:>3} CL {r['cl']:>3}" if r["pr"] is not None else f"ratings {r['pr_rating']}/{r['cl_rating']}"
            click.echo(f"{r['iso2'] or '--':<3} {r['name']:<40} {r['kind']:<9} {r['status'] or '-':<3} {scores:<15} {mark}")
        click.echo(ATTRIBUTION.format(edition=version["edition"]))


@main.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--edition", type=int, help="Answer from this edition's list instead of the one in force.")
@click.option("--as-of", "as_of", help="Answer from the list in force on this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="A JSON list, one object per ID.")
@click.pass_context
def check(ctx: click.Context, ids: tuple[str, ...], edition: int | None, as_of: str | None, as_json: bool) -> None:
    """May we buy this issuer? ID: ISO2, ISO3 or a country name. Exit 1 if any is not eligible."""
    from sovereign import lookup

    if edition is not None and as_of is not None:
        raise UserError("give --edition or --as-of, not both")
    answers = lookup.check(_readonly(ctx), list(ids), edition, _parse_date(as_of))
    if as_json:
        click.echo(json.dumps(answers, indent=2, ensure_ascii=False))
    else:
        for a in answers:
            verdict = "ELIGIBLE" if a["eligible"] else "NOT ELIGIBLE"
            click.echo(f"{a['query']}: {a['name']} ({a['iso2'] or 'no ISO code'}) {verdict}. {'; '.join(a['reasons'])}. "
                       f"[list version {a['list_version']}, effective {a['effective_from']}]")
            if a.get("divest_by"):
                click.echo(f"  no new buys from {a['no_new_buys_from']}; divest by {a['divest_by']}")
        click.echo(ATTRIBUTION.format(edition=answers[0]["edition"]))
    ctx.exit(0 if all(a["eligible"] for a in answers) else 1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
