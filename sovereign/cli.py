"""The `sovereign` command. Each command is a thin shell over a library function.

Exit codes: 0 ok; 1 the answer is "not eligible" (check) or a data problem was found (verify);
2 bad input or usage, with a message and no traceback. Heavy imports stay inside the commands
that need them, so desk lookups start fast. One settings object per invocation (`ctx.obj`), one
database connection per command, closed when the command ends.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fiw import words
from fiw.errors import UserError
from sovereign import __version__, clock, present
from sovereign.settings import Settings

if TYPE_CHECKING:
    import sqlite3

    import sqlite_utils

    from sovereign.policy import Mandate

EDITION = click.IntRange(1900, 2200)
VERSION = click.IntRange(1, 2**62)


class Group(click.Group):
    """Turns a UserError (or an OS error on a file we were given) anywhere below into one line and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other command-line tools do
            quiet_stdout()
            ctx.exit(128 + 13)  # SIGPIPE's exit status
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except Exception as exc:  # locked past the busy timeout, a damaged file: one line, never "excluded"
            from sovereign.store.schema import busy_or, is_database_error

            if not is_database_error(exc):
                raise
            click.echo(f"error: {settings(ctx).db}: {busy_or(exc)}", err=True)
            ctx.exit(2)


def quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush has no closed pipe to fail on."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def settings(ctx: click.Context) -> Settings:
    """The invocation's settings; a command may narrow them (`ctx.obj = settings(ctx).but(...)`)."""
    return ctx.obj


def reader(ctx: click.Context) -> sqlite3.Connection:
    """The command's read-only connection, opened once and closed when the command ends."""
    from sovereign import store

    return ctx.with_resource(store.reader(settings(ctx).db, key_file=settings(ctx).key_file))


def writer(ctx: click.Context, create: bool = False) -> sqlite_utils.Database:
    """The command's write connection (migrating the file first), closed when the command ends."""
    from sovereign import store

    return ctx.with_resource(store.writer(settings(ctx).db, create, settings(ctx).key_file))


def mandate_of(ctx: click.Context, name: str | None) -> Mandate | None:
    """An empty name is a typo, not "no mandate": it never loosens an answer."""
    return None if name is None else settings(ctx).policy.mandate(name)


def _any_date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} {value!r}: {_not_a_day(value)}") from None


def _not_a_day(value: str) -> str:
    """Why a text is not a date: a day that does not exist (2025-02-30) is said so, not called a bad format."""
    import calendar
    import re

    parts = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if not parts:
        return "expected a date as YYYY-MM-DD"
    year, month, day = (int(p) for p in parts.groups())
    if year == 0:
        return "that day does not exist: there is no year 0"
    if not 1 <= month <= 12:
        return f"that day does not exist: there is no month {month}"
    return (f"that day does not exist: {calendar.month_name[month]} {year} has "
            f"{calendar.monthrange(year, month)[1]} days")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", help="Database file (default: SOVEREIGN_DB, else sovereign.db in the user data directory).")
@click.option("--policy", help="Policy TOML (default: SOVEREIGN_POLICY, else data/policy.toml).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the log here (default: standard error only).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object a line, for a log collector.")
@click.version_option(__version__, prog_name="sovereign")
@click.pass_context
def main(ctx: click.Context, db: str | None, policy: str | None, log_file: Path | None, log_format: str) -> None:
    """Sovereign issuer exclusions from Freedom House's Freedom in the World."""
    ctx.obj = Settings.load(db=db, policy_path=policy)
    fixed = clock.fixed()
    if fixed is not None:
        click.echo(f"The clock is fixed by {clock.FIXED}: now {fixed.isoformat()}, today {clock.today()} in "
                   f"{clock.ZONE}.", err=True)
    if log_file is not None or log_format == "json":
        from sovereign.logs import configure

        configure(log_file, log_format)


@main.command()
@click.option("--source", default="bundled", show_default=True, metavar="bundled|web|workbooks|FILE",
              help="The bundled snapshot, FH's scores page, the workbooks on FH's data page, or a file.")
@click.option("--base-url", help="Where FH's site is (a mirror, or a test server); default SOVEREIGN_BASE_URL, "
                                 "else https://freedomhouse.org.")
@click.option("--with-details", is_flag=True, help="Also read every country page (indicators), ~210 requests.")
@click.option("--user-agent", help="Identify us to FH, with a contact address (default: SOVEREIGN_USER_AGENT).")
@click.option("--min-interval", type=float, help="Seconds between requests to a host (default 1).")
@click.option("--timeout", type=float, help="Seconds to wait for an answer (default 30).")
@click.option("--accept-held", type=int, metavar="RUN",
              help="After review: store the scores page run RUN held (from the archive), as the edition it was held "
                   "as, or --edition.")
@click.option("--edition", type=EDITION, help="With --accept-held: the edition the page holds.")
@click.pass_context
def refresh(ctx: click.Context, source: str, base_url: str | None, with_details: bool, user_agent: str | None,
            min_interval: float | None, timeout: float | None, accept_held: int | None, edition: int | None) -> None:
    """Load Freedom in the World, recompute every status, and build the list versions."""
    from sovereign import acquire

    if accept_held is not None:
        page, held_as = acquire.held_page(reader(ctx), accept_held)
        _run_refresh(ctx, str(page), f"refresh --accept-held {accept_held}", edition=edition or held_as)
        return
    if edition is not None:
        raise UserError("--edition goes with --accept-held (or import FILE --edition)")
    acquire.check_source(source)
    ctx.obj = settings(ctx).but(base_url=base_url, user_agent=user_agent, min_interval=min_interval, timeout=timeout)
    _run_refresh(ctx, source, f"refresh --source {source}", with_details=with_details)


@main.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--edition", type=EDITION, help="The edition of a scores CSV that has no edition column or year in its name.")
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, edition: int | None) -> None:
    """An FH workbook (All data, Aggregate, historical ratings) or a scores CSV, handed in by an operator."""
    if not file.is_file():
        raise UserError(f"{file}: no such file")
    _run_refresh(ctx, str(file), f"import {file.name}", edition=edition, after=False)


def _run_refresh(ctx: click.Context, source: str, command: str, edition: int | None = None,
                 with_details: bool = False, after: bool = True) -> None:
    """The one refresh flow, recorded in `runs`, then what the desk now sees."""
    from sovereign import pipeline
    from sovereign import refresh as refreshing
    from sovereign.store import reads

    conf = settings(ctx)
    conf.check()
    db = writer(ctx, create=True)

    def bar(items, label):
        with click.progressbar(items, label=label, file=sys.stderr) as it:
            yield from it

    outcome = refreshing.run(db, conf, source, trigger="manual", command=command, actor=conf.actor,
                             edition=edition, with_details=with_details, progress=bar,
                             say=lambda line: click.echo(line, err=True))
    for line in refreshing.summary(db, conf.db, source, outcome):
        click.echo(line)
    if after:
        _print_in_force(db)
        _print_gaps(db)
        click.echo(_verify_line(pipeline.verify_stored(db)))
    if outcome.held:
        for held in outcome.held:
            click.echo(f"Held, not stored: {held['reason']}.", err=True)
        click.echo(f"After review, store it anyway with: sovereign refresh --accept-held {outcome.run_id} "
                   "[--edition N]", err=True)
        click.echo("The list in force stays in force (exit 4).", err=True)
        ctx.exit(4)
    if any((reads.version(db, v) or {}).get("state") == "held" for v in outcome.versions):
        click.echo("The anomaly gate held the new edition: the list in force stays in force (exit 4).", err=True)
        ctx.exit(4)


def _print_in_force(conn: Any) -> None:
    from sovereign.store import reads

    version = reads.version_in_force(conn, clock.today().isoformat())
    if version is None:
        click.echo("No list is in force today.")
        return
    entries = reads.entries(conn, version["id"])
    countries = [e for e in entries if e["kind"] == "c"]
    territories = [e for e in entries if e["kind"] == "t"]
    eligible = sum(e["eligible"] for e in countries)
    click.echo(
        f"List in force today: {words.title(version['edition'])}, version {version['id']}, effective "
        f"{version['effective_from']}: {eligible} countries eligible, {len(countries) - eligible} excluded; "
        f"{len(territories)} territories ({sum(1 for t in territories if t['iso2'])} with an ISO code of their own)."
    )


def _print_gaps(conn: Any) -> None:
    """What the stored newest edition lacks of what FH rated, said next to the counts."""
    from sovereign.store import reads

    newest = reads.latest_edition(conn)
    missing = reads.missing_rows(conn, newest)
    stored = reads.edition(conn, newest)
    if missing and stored:
        click.echo(f"{words.title(newest)}: {stored['entities']} entities stored; {len(missing)} more FH rated "
                   f"{'is' if len(missing) == 1 else 'are'} missing from the source ({', '.join(missing)}), recorded "
                   "as a source conflict; importing FH's own workbook for the edition fills the gap.")


def archive_words(found: dict | None) -> str:
    """What re-reading the archived payloads found, in the verdict line."""
    if not found:
        return ""
    out = "".join(f": {p['problem']}" for p in found["payloads"])
    rows = found["contradicted"]
    if rows:
        named = "; ".join(f"{r['edition']} {r['fh_name']} {r['field']} stored {r['stored']}, payload {r['payload']}"
                          for r in rows[:8])
        out += (f": {len(rows)} stored score(s) contradicted by the archived FH payload they came from ({named}"
                f"{' and more' if len(rows) > 8 else ''})")
    if found["unread"]:
        out += (f" (not compared: {len(found['unread'])} archived payload(s) could not be parsed again, "
                f"{found['unread'][0]['uri']}: {found['unread'][0]['why']})")
    return out


def _verify_line(report: dict) -> str:
    from fiw.methodology import MECHANICAL_FROM

    head = "Verify: OK" if report["ok"] else "Verify: FAILED"
    tampered = report.get("tampered_versions") or []
    damaged = report.get("quick_check", "ok") != "ok"
    if tampered:
        head += (f": list version(s) {', '.join(str(t['list_version']) for t in tampered)} do not match their recorded "
                 "digest (changed outside sovereign)")
    for stale in report.get("stale_versions") or []:
        why = (f"FH's correction is in list version {stale['successor']} ({stale['successor_state']}), not yet "
               "published" if stale.get("successor") else
               "a revision that never reached the list, or scores changed outside sovereign")
        head += (f": list version {stale['list_version']} ({stale['state']}{', in force' if stale.get('in_force') else ''})"
                 f" does not agree with the stored scores of edition {stale['edition']} "
                 f"({', '.join(stale['entities'][:8])}{' and more' if len(stale['entities']) > 8 else ''}): {why}")
    if damaged:
        head += f": the database file is damaged ({report['quick_check'][:300]})"
    for problem in report.get("anchors") or []:
        head += f": {problem}"
    head += archive_words(report.get("archive"))
    return (f"{head}: {len(report['errors'])} mismatch(es) from edition {MECHANICAL_FROM} on; "
            f"{len(report['expected'])} expected pre-{MECHANICAL_FROM} difference(s) ({len(report['overlap'])} FH's "
            f"overlapping band at a Freedom Rating of 5.5, {len(report['exceptions'])} FH departing from its rule); "
            f"{len(report['known_errata'])} known FH erratum(s); {len(report['source_conflicts'])} source conflict(s).")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Per-edition counts and every row, as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also list FH's errata, the expected pre-2004 differences and "
                                                      "where FH's files disagree.")
@click.option("--digest", "digests", multiple=True, metavar="VERSION:DIGEST",
              help="A list digest printed outside the database (pack, public list, notice): the list must still have it.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool, verbose: bool, digests: tuple[str, ...]) -> None:
    """Recompute every stored rating and status and compare with FH's published ones; check every list
    version against its digest. The verdict first; mismatches always; the expected differences with -v."""
    from sovereign.anchors import digest_problem
    from sovereign.pipeline import verify_stored
    from sovereign.store import reads

    conn = reader(ctx)
    if not reads.latest_edition(conn):
        raise UserError(f"{settings(ctx).db}: no scores are stored, so there is nothing to verify (a first refresh "
                        "that did not finish leaves the database so; see `sovereign runs`, then `sovereign refresh`)")
    anchors = [p for p in (digest_problem(conn, spec) for spec in digests) if p]  # a mistyped digest: at once
    report = verify_stored(conn)
    report["anchors"] = anchors
    report["ok"] = report["ok"] and not report["anchors"]
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo(_verify_line(report))
        sections = [("Mismatches (errors)", "errors")]
        if verbose:
            sections += [("Known FH errata", "known_errata"),
                         ("Before 2004, FH's overlapping band at a Freedom Rating of 5.5 (FH's status stands)",
                          "overlap"),
                         ("Before 2004, FH departing from its stated rule (FH's status stands)", "exceptions")]
        for title, key in sections:
            rows = report[key]
            if rows:
                click.echo(f"\n{title}: {len(rows)}")
                for r in rows:
                    click.echo(f"  {r['edition']}  {r['fh_name']:<36} {r['field']:<14} published {r['published']:<3} "
                               f"recomputed {r['recomputed']:<3} (ratings {r['pr_rating_pub']}/{r['cl_rating_pub']})"
                               + (f"  {r['erratum']}" if r.get("erratum") else ""))
        if report["source_conflicts"] and verbose:
            click.echo(f"\nWhere FH's own files disagree: {len(report['source_conflicts'])}")
            for r in report["source_conflicts"]:
                click.echo(f"  {r['edition']}  {r['fh_name']:<36} {r['field']:<14} {r['values']} -> kept {r['kept']}")
    ctx.exit(0 if report["ok"] else 1)


@main.command(name="list")
@click.option("--edition", type=EDITION, help="The list of this edition (default: the one in force).")
@click.option("--as-of", "as_of", help="The list in force on this date (YYYY-MM-DD).")
@click.option("--version", "version_id", type=VERSION, help="List version N, whatever its state (not in force).")
@click.option("--as-known-on", "as_known_on", help="As the records stood at the end of this date.")
@click.option("--mandate", help="Eligibility under this mandate's stricter rules.")
@click.option("--excluded", is_flag=True, help="Only the excluded entities.")
@present.output_options()
@click.pass_context
def list_cmd(ctx: click.Context, edition: int | None, as_of: str | None, version_id: int | None,
             as_known_on: str | None, mandate: str | None, excluded: bool, out: present.Output) -> None:
    """Every FH entity of an edition with its status, scores and eligibility."""
    from sovereign import listing

    chosen = mandate_of(ctx, mandate)
    known = _any_date(as_known_on, "--as-known-on")
    found = listing.on_date(reader(ctx), _any_date(as_of, "--as-of"), edition=edition, version_id=version_id,
                            as_known_on=known, mandate=chosen)
    version = found.version
    rows = [{k: v for k, v in r.items() if k != "fh_excluded"} for r in (found.excluded() if excluded else found.rows)]
    state = "" if found.in_force else f", {version['state']}: NOT IN FORCE"
    lines = [f"{words.title(version['edition'])}, list version {version['id']} "
             f"(effective {version['effective_from'] or 'not set'}{state})" + (f", mandate {mandate}" if mandate else "")]
    for r in rows:
        mark = "eligible" if r["eligible"] else "EXCLUDED"
        scores = f"PR {r['pr']:>3} CL {r['cl']:>3}" if r["pr"] is not None else f"ratings {r['pr_rating']}/{r['cl_rating']}"
        covered = f"  (in the report of {r['covered_by']})" if r["covered_by"] else ""
        lines.append(f"{r['iso2'] or '--':<3} {r['name']:<40} {r['kind']:<9} {r['status'] or '-':<3} {scores:<15} {mark}"
                     f"{covered}")
    lines.append(words.attribution(version["edition"]))
    present.rows(out, rows, list(listing.ROW_KEYS), text="\n".join(lines) + "\n", sheet="list")


VERDICT_WORDS = {"eligible": "ELIGIBLE", "excluded": "NOT ELIGIBLE", "unknown": "UNKNOWN"}


def read_ids(ids: tuple[str, ...], file: Path | None) -> list[str]:
    """IDs from the command line, `-` (standard input) and --file, one a line; blank lines skipped."""
    out: list[str] = []
    for value in ids:
        if value == "-":
            out += [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
        else:
            out.append(value)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"{file}: not UTF-8 text; save it as UTF-8 with one identifier a line") from None
        out += [line.strip() for line in text.splitlines() if line.strip()]
    if not out:
        raise UserError("give at least one identifier (an ISIN, an LEI, an ISO code or a country name), "
                        "`-` to read them from standard input, or --file")
    return out


def check_exit(answers: list[dict]) -> int:
    """2 if an identifier could not be read, 1 if any is excluded, 3 if none is but some is unknown, else 0."""
    verdicts = {a.get("verdict") for a in answers}
    if any("error" in a for a in answers):
        return 2
    if "excluded" in verdicts:
        return 1
    return 3 if "unknown" in verdicts else 0


@main.command()
@click.argument("ids", nargs=-1)
@click.option("--file", "id_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read identifiers from this file, one a line (`-` as an ID reads standard input).")
@click.option("--edition", type=EDITION, help="Answer from this edition's list instead of the one in force.")
@click.option("--version", "version_id", type=VERSION, help="Answer from list version N, whatever its state.")
@click.option("--as-of", "as_of", help="Answer from the list in force on this date (YYYY-MM-DD), a future one too.")
@click.option("--as-known-on", "as_known_on", help="Answer as the records stood at the end of this date.")
@click.option("--mandate", help="Apply this mandate's stricter rules (see the policy file).")
@present.output_options(flags=("json",))
@click.pass_context
def check(ctx: click.Context, ids: tuple[str, ...], id_file: Path | None, edition: int | None, version_id: int | None,
          as_of: str | None, as_known_on: str | None, mandate: str | None, out: present.Output) -> None:
    """May we buy this issuer? ID: ISIN, LEI, ISO2, ISO3 or a country name.

    Exit 0 all eligible, 1 any excluded, 3 none excluded but some unknown, 2 an ID could not be read."""
    from sovereign import lookup

    chosen = mandate_of(ctx, mandate)
    known = _any_date(as_known_on, "--as-known-on")
    answers = lookup.check(reader(ctx), read_ids(ids, id_file), edition, _any_date(as_of, "--as-of"), chosen,
                           version_id, known)
    text = None
    if out.fmt == "table":
        lines = []
        for a in answers:
            if "error" in a:
                click.echo(f"error: {a['error']}", err=True)
            else:
                lines += _answer_lines(a)
        lines.append(words.attribution(next((a["edition"] for a in answers if "edition" in a), None)))
        text = "\n".join(lines) + "\n"
    present.rows(out, answers, CHECK_COLUMNS, text=text, sheet="answers")
    ctx.exit(check_exit(answers))


CHECK_COLUMNS = ["query", "verdict", "eligible", "iso2", "name", "kind", "status", "reasons", "edition", "list_version",
                 "state", "in_force", "effective_from", "as_of", "as_known_on", "no_new_buys_from", "divest_by",
                 "mandate", "by_committee", "issuer", "upcoming", "pending", "error"]


def _answer_lines(a: dict) -> list[str]:
    scope = f" for mandate {a['mandate']}" if a.get("mandate") else ""
    where = (f"list version {a['list_version']}, effective {a['effective_from'] or 'not set'}"
             + ("" if a["in_force"] else f", {a['state']}: NOT IN FORCE"))
    lines = [f"{a['query']}: {a['name']} ({a['iso2'] or 'no ISO code'}) {VERDICT_WORDS[a['verdict']]}{scope}. "
             f"{'; '.join(a['reasons'])}. [{where}]"]
    if a["verdict"] == "unknown":
        lines.append("  unknown is not eligible: add the issuer to the register (`sovereign issuers import`)")
    if a.get("divest_by"):
        lines.append(f"  no new buys from {a['no_new_buys_from']}; divest by {a['divest_by']}")
    if a["as_known_on"] != clock.today().isoformat():
        lines.append(f"  as the records stood on {a['as_known_on']}")
    elif a["as_of"] > clock.today().isoformat():
        lines.append(f"  a future date: answered from the lists published as of today ({a['as_known_on']})")
    up = a.get("upcoming")
    if up:
        lines.append(f"  {_upcoming_line(a, up)}")
    review = a.get("pending")
    if review:
        lines.append(f"  under review: {review['state']} list {review['list_version']} "
                     f"({words.title(review['edition'])}) {review['change']}")
    return lines


def _upcoming_line(a: dict, up: dict) -> str:
    """The next change in words: the committee's own start or end, or a list taking effect."""
    staging = (f"; no new buys from {up['no_new_buys_from']}, divest by {up['divest_by']}"
               if up.get("divest_by") and up["verdict"] == "excluded" else "")
    ids = ", ".join(str(i) for i in up.get("by_committee") or [])
    if up["list_version"] == a["list_version"] and up["verdict"] == "excluded" and ids:
        return f"excluded by the committee from {up['effective_from']} (override {ids}){staging}"
    if up["list_version"] == a["list_version"] and a.get("by_committee") and up["verdict"] != a["verdict"]:
        return f"from {up['effective_from']}: {VERDICT_WORDS[up['verdict']]} (the committee's override ends)"
    return (f"from {up['effective_from']}, list version {up['list_version']} ({words.title(up['edition'])}): "
            f"{VERDICT_WORDS[up['verdict']]}{staging.replace(';', ',', 1)}")


@main.command()
@click.argument("query")
@present.output_options(flags=("json",))
@click.pass_context
def history(ctx: click.Context, query: str, out: present.Output) -> None:
    """Status, scores and eligibility of one country or territory in every edition."""
    from sovereign import lookup

    target, rows = lookup.history(reader(ctx), query)
    lines = []
    if target.issuer:
        lines.append(f"{query}: issued by {target.issuer.name} ({target.issuer.type}); the history of its country:")
    lines.append(f"{target.name} ({target.iso2 or 'no ISO code'}): {len(rows)} editions")
    for r in rows:
        scores = f"PR {r['pr']:>3} CL {r['cl']:>3} total {r['total']:>3}" if r["pr"] is not None else " " * 23
        pub = f" (FH published {r['status_pub']})" if r["status_pub"] and r["status_pub"] != r["status"] else ""
        before = f"  (predecessor: {r['name']})" if r.get("predecessor") else ""
        before += "  (had ceased to exist)" if r["ceased"] and r["reasons"] == r["ceased"] else ""
        before += f"  (in the report of {r['covered_by']})" if r.get("covered_by") else ""
        lines.append(f"  {r['edition']}  {r['label'] or r['edition']:<9} effective {r['effective_from']}  "
                     f"{r['status'] or '-':<3} ratings {r['pr_rating']}/{r['cl_rating']}  {scores}  "
                     f"{'eligible' if r['eligible'] else 'EXCLUDED'}{pub}{before}")
        if r.get("note") and "FH erratum" in r["note"]:
            lines.append(f"        note: {r['note']}")
    for end in dict.fromkeys(r["ceased"] for r in rows if r.get("ceased") and not r.get("predecessor")):
        lines.append(f"  from then on {end}")
    lines.append(words.attribution())
    present.rows(out, rows, text="\n".join(lines) + "\n", sheet="history")


@main.command()
@click.option("--edition", type=EDITION, help="Publish this edition's proposed version (default: the newest proposed).")
@click.option("--approved-by", help="Who approved it (the committee's record).")
@click.option("--effective-from", help="The date it takes effect (YYYY-MM-DD).")
@click.option("--accept-held", is_flag=True, help="Also publish a version the anomaly gate held, after review.")
@click.option("--backdate-reason", help="Why an effective date before today is right (recorded; required then).")
@click.option("--minutes", help="The committee's minutes reference for this decision (shown in the approval pack).")
@click.option("--withdraw", "withdraw_id", type=VERSION,
              help="Instead: withdraw published version N before it takes effect (needs --reason and --by).")
@click.option("--reason", help="Why the version is withdrawn (recorded).")
@click.option("--by", "withdrawn_by", help="Who decided the withdrawal.")
@click.pass_context
def publish(ctx: click.Context, edition: int | None, approved_by: str | None, effective_from: str | None,
            accept_held: bool, backdate_reason: str | None, minutes: str | None, withdraw_id: int | None,
            reason: str | None, withdrawn_by: str | None) -> None:
    """Put a proposed list version in force from a date (or withdraw one not yet in force)."""
    from sovereign import pipeline
    from sovereign.store import reads

    if withdraw_id is not None:
        again = pipeline.withdraw(writer(ctx), withdraw_id, withdrawn_by or "", reason or "", settings(ctx).actor)
        click.echo(f"Withdrew list version {withdraw_id}: {(reason or '').strip()}. The list in force before it "
                   "stays in force." + (f" Its list is proposed again as version {again}: publish it with the right "
                                        "date." if again else ""))
        return
    if not approved_by or not effective_from:
        raise UserError("publish needs --approved-by and --effective-from (or --withdraw N)")
    eff = _any_date(effective_from, "--effective-from")
    assert eff is not None
    db = writer(ctx)
    done = pipeline.publish(db, settings(ctx).policy, approved_by, eff, edition, accept_held, backdate_reason,
                            settings(ctx).actor, minutes, settings(ctx).actor)
    version = done.version
    who = done.approvers[-1] if done.approvers else approved_by.strip()
    if done.moved_from:
        click.echo(f"{who}'s approval of list version {version} moved from {done.moved_from} to {eff}.")
    if not done.in_force:
        click.echo(f"Approval recorded for list version {version} from {eff} by {who} (OS user {settings(ctx).actor}; "
                   f"{len(done.approvers)} of {done.required}): a second, different approver of the same date "
                   "puts it in force.")
        return
    row = reads.version(db, version) or {}
    click.echo(f"Published list version {version} ({words.title(row['edition'])}), in force from {eff}, "
               f"approved by {row['approved_by']}; {reads.staged_count(db, version)} newly excluded with staging dates.")


@main.group()
def override() -> None:
    """Committee exclusions: add, revoke, list. They only ever exclude."""


@override.command(name="add")
@click.argument("country")
@click.option("--reason", required=True, help="The committee's internal note (not on the public list).")
@click.option("--by", "decided_by", required=True, help="Who decided (the committee's record).")
@click.option("--from", "valid_from", help="First day it applies (default: today).")
@click.option("--until", "valid_to", help="Last day it applies (default: open-ended).")
@click.option("--backdate-reason", help="Why a --from before today is right (recorded; required then).")
@click.option("--public-reason-nl", help="The reason the public list gives, in Dutch.")
@click.option("--public-reason-en", help="The reason the public list gives, in English.")
@click.pass_context
def override_add(ctx, country: str, reason: str, decided_by: str, valid_from: str | None, valid_to: str | None,
                 backdate_reason: str | None, public_reason_nl: str | None, public_reason_en: str | None) -> None:
    """Exclude a country from a date, for the base list and every mandate."""
    from sovereign import overrides

    row = overrides.add(writer(ctx), country, reason, decided_by, _any_date(valid_from, "--from"),
                        _any_date(valid_to, "--until"), backdate_reason, settings(ctx).actor, public_reason_nl,
                        public_reason_en)
    coming = " (an upcoming change: not in force before then)" if row["valid_from"] > clock.today().isoformat() else ""
    click.echo(f"Override {row['id']}: {row['name']} ({row['iso2']}) excluded from {row['valid_from']}"
               + (f" until {row['valid_to']}" if row["valid_to"] else "") + f", by {row['decided_by']}: {row['reason']}"
               + coming)


@override.command(name="revoke")
@click.argument("override_id", type=click.IntRange(1, 2**62))
@click.option("--by", "revoked_by", required=True, help="Who decided the revocation.")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option("--from", "revoked_from", help="First day it no longer applies (default: today).")
@click.option("--entered-in-error", "in_error", is_flag=True,
              help="It was entered in error: remove it from its first day, as if it never applied (no --from).")
@click.option("--backdate-reason", help="Why a --from before today is right (recorded; required then).")
@click.pass_context
def override_revoke(ctx, override_id: int, revoked_by: str, reason: str, revoked_from: str | None, in_error: bool,
                    backdate_reason: str | None) -> None:
    """End an override from a date; what the desk was told before stays on record. Re-admitting a country needs
    as many approvals as publishing (the policy's approvals_required)."""
    from sovereign import overrides

    conf = settings(ctx)
    done = overrides.revoke(writer(ctx), override_id, revoked_by, reason, _any_date(revoked_from, "--from"),
                            backdate_reason, conf.actor, in_error, conf.policy.approvals_required, conf.actor)
    who = done["approvals"][-1]
    if done["moved_from"]:
        click.echo(f"{who}'s approval of revoking override {override_id} moved from {done['moved_from']} to "
                   f"{done['revoked_from']}.")
    if not done["in_force"]:
        click.echo(f"Approval recorded for revoking override {override_id} from {done['revoked_from']} by {who} "
                   f"(OS user {conf.actor}; {len(done['approvals'])} of {done['required']}): a second, different "
                   "approver of the same date revokes it.")
        return
    kind = " (entered in error: removed from its first day, as if it never applied)" if in_error else ""
    click.echo(f"Override {override_id} revoked by {' and '.join(done['approvals'])} from {done['revoked_from']}"
               f"{kind}: {reason.strip()}")


@override.command(name="list")
@present.output_options(flags=("json",))
@click.pass_context
def override_list(ctx, out: present.Output) -> None:
    """Every override with its state today (active, coming, ended, revoked), who decided and who revoked."""
    from sovereign.overrides import listed

    rows = listed(reader(ctx))

    def line(r: dict) -> str:
        text = (f"{r['id']:>3}  {r['iso2']}  {r['state']:<26} {r['valid_from']} to {r['valid_to'] or 'open':<10}  "
                f"decided by {r['decided_by']} (recorded {clock.day_of(r['created_at'])}): {r['reason']}")
        if r["revoked_at"]:
            kind = " (entered in error: never applied)" if r.get("revoke_kind") == "error" else ""
            text += (f"\n     revoked by {r['revoked_by']} on {clock.day_of(r['revoked_at'])}, from {r['revoked_from']}{kind}: "
                     f"{r['revoke_reason']}")
        return text

    present.rows(out, rows, OVERRIDE_COLUMNS, text="".join(line(r) + "\n" for r in rows), sheet="overrides")


OVERRIDE_COLUMNS = ["id", "iso2", "state", "valid_from", "valid_to", "reason", "decided_by", "created_at",
                    "backdate_reason", "public_reason_nl", "public_reason_en", "revoked_at", "revoked_by",
                    "revoked_from", "revoke_reason", "revoke_kind"]


@main.group()
def issuers() -> None:
    """The issuer register: ISIN -> issuer -> country."""


@issuers.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Make the register exactly the file (default: merge into it).")
@click.option("--merge", is_flag=True, help="Add and update the file's issuers, keep the others (the default).")
@click.option("--map", "maps", multiple=True, metavar="HEADER=FIELD",
              help='A header of a vendor export for a field: --map "Country of Risk=country" (repeatable).')
@click.option("--type", "default_type", type=click.Choice(["sovereign", "agency", "sub-sovereign", "supranational"]),
              help="The type of every issuer whose row gives none.")
@click.pass_context
def issuers_import(ctx, file: Path, replace: bool, merge: bool, maps: tuple[str, ...], default_type: str | None) -> None:
    """Issuers and their ISINs from a CSV, XLSX or Parquet file: issuer, country, type, isins, and LEI and
    short name where known. One row per issuer or one per ISIN."""
    from sovereign.issuers import import_register, parse_mapping

    if replace and merge:
        raise UserError("give --merge or --replace, not both")
    n_issuers, n_securities = import_register(writer(ctx), file, settings(ctx).actor, replace, parse_mapping(maps),
                                              default_type)
    how = "replaced by" if replace else "merged with"
    click.echo(f"Issuer register {how} {file.name}: {n_issuers} issuers, {n_securities} ISINs.")


@issuers.command(name="add")
@click.argument("name")
@click.option("--country", help="ISO code or name (none for a supranational).")
@click.option("--type", "kind", required=True, type=click.Choice(["sovereign", "agency", "sub-sovereign", "supranational"]))
@click.option("--lei", help="Its LEI, where it has one.")
@click.option("--short", "short_name", help="A short name to be asked by (EIB, KfW).")
@click.option("--isin", "isins", multiple=True, help="An ISIN it issued (repeatable).")
@click.pass_context
def issuers_add(ctx, name: str, country: str | None, kind: str, lei: str | None, short_name: str | None,
                isins: tuple[str, ...]) -> None:
    """Add one issuer by hand (or update the one with that LEI or name)."""
    from sovereign.issuers import add_issuer

    row = add_issuer(writer(ctx), name, country, kind, lei, short_name, isins, settings(ctx).actor)
    lei = f", LEI {row['lei']}" if row["lei"] else ""
    codes = f"; ISINs {' '.join(row['isins'])}" if row["isins"] else ""
    click.echo(f"Issuer {'updated' if row['updated'] else 'added'}: {row['name']} ({row['iso2'] or 'no country'}, "
               f"{row['type']}{lei}){codes}.")


@issuers.command(name="remove")
@click.argument("key")
@click.pass_context
def issuers_remove(ctx, key: str) -> None:
    """Take an issuer (by LEI, name, short name or one of its ISINs) and its ISINs out of the register."""
    from sovereign.issuers import remove_issuer

    row = remove_issuer(writer(ctx), key, settings(ctx).actor)
    click.echo(f"Issuer removed: {row['name']} and its ISINs.")


@issuers.command(name="list")
@present.output_options(flags=("json",))
@click.pass_context
def issuers_list(ctx, out: present.Output) -> None:
    """Every issuer in the register with its country, type, LEI and ISINs."""
    from sovereign.store import reads

    rows = reads.register(reader(ctx))
    present.rows(out, rows, ["name", "short_name", "lei", "country", "type", "isins"], sheet="issuers",
                 text="".join(f"{r['name']:<32} {r['short_name'] or '':<8} {r['lei'] or '(no LEI)':<20}  "
                              f"{r['country'] or '--':<3} {r['type']:<14} {r['isins'] or ''}\n" for r in rows))


def book_options(fn):
    """How a holdings book is read: the same options for `screen`, `impact` and `pai`."""
    for option in reversed([
        click.option("--column", "columns", multiple=True,
                     help="Identifier column, case ignored; repeat it: the first with a value wins (default: ISIN, "
                          "LEI, then the issuer's country)."),
        click.option("--sheet", help="XLSX: the sheet (default: the first with an identifier column)."),
        click.option("--header-row", type=click.IntRange(1), help="The header's row (default: found)."),
        click.option("--sep", help="CSV separator (default: found; ';' from Dutch Excel, 'tab')."),
        click.option("--decimal-comma/--decimal-point", default=None,
                     help="Numbers written 1.234,56 (default: found)."),
        click.option("--value-column", help="Market value: totals by verdict (and per portfolio)."),
        click.option("--portfolio-column", help="Portfolio or mandate account: totals per portfolio."),
    ]):
        fn = option(fn)
    return fn


def _book(file: Path, kw: dict):
    from sovereign.holdings import read_book

    return read_book(file, kw["columns"], kw["sheet"], kw["header_row"], kw["sep"], kw["decimal_comma"])


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@book_options
@click.option("--mandate", help="Apply this mandate's stricter rules.")
@click.option("--as-of", "as_of", help="Screen against the list in force on this date.")
@click.option("--version", "version_id", type=VERSION, help="Screen against list version N, whatever its state "
                                                           "(a proposed list: what it would do).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (.csv, .xlsx or .parquet); default: CSV on standard output.")
@click.option("--summary-json", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write positions and value by verdict (overall, per portfolio) as JSON.")
@click.pass_context
def screen(ctx, file: Path, mandate: str | None, as_of: str | None, version_id: int | None, output: Path | None,
           summary_json: Path | None, **kw) -> None:
    """A holdings book (CSV, XLSX, Parquet) in; the same rows out, their columns and types intact, with verdict,
    eligible, iso2, country, issuer, status, reason, no_new_buys_from, divest_by, list_version and edition.
    Exit 0 all eligible, 1 any excluded, 3 none excluded but some unknown."""
    from sovereign.cells import atomic_write
    from sovereign.screen import screen_book, write_book

    chosen = mandate_of(ctx, mandate)
    conn = reader(ctx)
    if as_of is not None and version_id is not None:
        raise UserError("give --as-of or --version, not both")
    book = _book(file, kw)
    screened = screen_book(conn, book, _any_date(as_of, "--as-of"), None, chosen, version_id, kw["value_column"],
                           kw["portfolio_column"])
    if screened.tally.is_empty():
        raise UserError(f"{file.name}: the file has no holdings rows")
    write_book(screened, book, output)
    summary = screened.summary()
    if summary_json is not None:
        versions = sorted(screened.answers["list_version"].drop_nulls().unique().to_list())
        text = json.dumps(summary | {"file": file.name, "list_versions": versions, "mandate": mandate,
                                     "attribution": words.attribution()}, indent=2)
        atomic_write(summary_json, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""),
                     lambda tmp: present.text_back(tmp, text))
    overall = summary["overall"]
    version = f" against list version {version_id} (not necessarily in force)" if version_id else ""
    how = ", ".join(book.notes)
    click.echo(f"Screened {overall['positions']} rows of {file.name}{f' ({how})' if how else ''} on "
               f"{' then '.join(repr(c) for c in book.id_columns)}{version}"
               + (f" for mandate {mandate}" if mandate else "")
               + f": {overall['eligible']['positions']} eligible, {overall['excluded']['positions']} excluded, "
               f"{overall['unknown']['positions']} unknown (not eligible)"
               + (f"; {summary['summary_rows']} summary row(s) (totals, subtotals, blank) kept, marked and left "
                  "out of the tallies" if summary["summary_rows"] else "") + ".", err=True)
    later = overall["eligible_excluded_later"]["positions"]
    if later:
        click.echo(f"{later} eligible position(s) are excluded by a list already published for a later date: see "
                   "no_new_buys_from and divest_by.", err=True)
    if kw["value_column"]:
        click.echo("Value: " + ", ".join(f"{v} {overall[v]['value']:,.2f}" for v in ("eligible", "excluded", "unknown"))
                   + f" of {overall['value']:,.2f}"
                   + (f" ({overall['rows_without_value']} row(s) without a value)" if overall["rows_without_value"]
                      else "") + ".", err=True)
    ctx.exit(1 if overall["excluded"]["positions"] else 3 if overall["unknown"]["positions"] else 0)


def _emit_book(result: dict, out: present.Output, module: Any) -> None:
    """An impact or PAI result as JSON, Markdown, HTML or XLSX, on standard output or written whole; the last
    line of its lead on standard error when written."""
    from sovereign.tables import html_page

    def render(fmt: str) -> str:
        if fmt == "json":
            return json.dumps(result, indent=2, default=str)
        if fmt == "md":
            return module.to_markdown(result)
        return html_page(module.title(result), module.lead(result), module.to_sheets(result),
                         [result.get("methodology", ""), result["attribution"]])

    present.document(out, render, lambda: module.to_sheets(result))
    if out.path is not None:
        click.echo(module.lead(result)[-1], err=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@book_options
@click.option("--version", "to_version", type=VERSION, help="The list to measure (default: the newest proposed).")
@click.option("--edition", type=EDITION, help="The newest list version of this edition.")
@click.option("--from-version", type=VERSION, help="Compared with this version (default: the list in force today).")
@click.option("--mandate", help="Apply this mandate's stricter rules to both lists.")
@click.option("--effective-from", help="For a list not yet published: the date its staging dates count from "
                                       "(default: today).")
@present.output_options(present.DOCUMENTS, default="md")
@click.pass_context
def impact(ctx, file: Path, to_version: int | None, edition: int | None, from_version: int | None,
           mandate: str | None, effective_from: str | None, out: present.Output, **kw) -> None:
    """What a list would do to the book: positions and value newly excluded (with no-new-buys and divest-by
    dates), newly eligible and unknown, overall and per portfolio, with the countries and issuers behind them."""
    from sovereign import impact as module

    if not kw["value_column"]:
        raise UserError("--value-column: name the market-value column")
    conn = reader(ctx)
    result = module.impact(conn, _book(file, kw), settings(ctx).policy, kw["value_column"], kw["portfolio_column"],
                           to_version, edition, from_version, mandate_of(ctx, mandate),
                           _any_date(effective_from, "--effective-from") if effective_from else None)
    _emit_book(result, out, module)


@main.command()
@click.option("--policy", "alternative", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The alternative policy file, compared with the policy in force.")
@click.option("--mandate", help="Compare this mandate (as each policy defines it; else as the policy in force does).")
@click.option("--from", "first", type=EDITION, help="First edition (default: the first stored).")
@click.option("--to", "last", type=EDITION, help="Last edition (default: the newest stored).")
@click.option("--flips", "flips_over", type=click.IntRange(0, 100), default=2, show_default=True,
              help="Name the countries that flip more than this many times.")
@click.option("--holdings", "books", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A holdings book: what the alternative would change in it today (repeat for several).")
@book_options
@present.output_options(present.DOCUMENTS, default="md")
@click.pass_context
def whatif(ctx, alternative: Path, mandate: str | None, first: int | None, last: int | None, flips_over: int,
           books: tuple[Path, ...], out: present.Output, **kw) -> None:
    """The policy in force against an alternative over every stored edition: per edition who each excludes and
    why, turnover, what the alternative changes in the list in force today and, with --holdings, in the book."""
    import polars as pl

    from sovereign import whatif as module
    from sovereign.store import reads

    if first is not None and last is not None and first > last:
        raise UserError(f"--from {first} is after --to {last}")
    if books and not kw["value_column"]:
        raise UserError("--value-column: name the market-value column of the holdings")
    current, other = settings(ctx).policy, settings(ctx).but(policy_path=alternative).policy
    conn = reader(ctx)
    scored = module.scored_from_store(conn)
    result = module.backtest(scored, current, other, mandate=mandate, first=first, last=last, flips_over=flips_over,
                             sources=(f"policy in force ({settings(ctx).policy_path.name})", alternative.name))
    in_force = reads.version_in_force(conn, clock.today().isoformat())
    if in_force is not None:
        overridden = {o["iso2"] for o in reads.active_overrides(conn, clock.today().isoformat())}
        chosen = module.mandate_for(current, current, mandate)
        entries = (reads.entries_frame(conn, in_force["id"]) if chosen is None  # the list in force as stored
                   else module.lists(scored, current, chosen).filter(pl.col("edition") == in_force["edition"]))
        result["today"] = module.today(dict(in_force), entries,
                                       module.lists(scored, other, module.mandate_for(other, current, mandate)),
                                       overridden)
        if books:
            result["book"] = {book.name: module.book(conn, _book(book, kw), result["today"], current, other,
                                                     kw["value_column"], kw["portfolio_column"], chosen)
                              for book in books}
    elif books:
        raise UserError("no list is in force today: the book cannot be compared")
    present.document(out, lambda fmt: json.dumps(result, indent=2, default=str) if fmt == "json"
                     else module.to_markdown(result) if fmt == "md" else module.to_html(result),
                     lambda: module.to_sheets(result))
    if out.path is not None:
        click.echo(module.lead(result)[-1], err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@book_options
@click.option("--date-column", help="The snapshot date of each row (default: each file is one snapshot, dated by "
                                    "its name).")
@present.output_options(present.DOCUMENTS, default="md")
@click.pass_context
def pai(ctx, files: tuple[Path, ...], date_column: str | None, out: present.Output, **kw) -> None:
    """SFDR principal adverse impact for sovereign holdings: PAI 16 (investee countries the house list excludes,
    count and share) and FH's total and Freedom of Expression and Belief, value-weighted, per snapshot and
    averaged; each snapshot judged against the list in force on its date."""
    from sovereign import pai as module

    if not kw["value_column"]:
        raise UserError("--value-column: name the market-value column")
    conn = reader(ctx)
    result = module.pai(conn, [_book(f, kw) for f in files], kw["value_column"], date_column)
    _emit_book(result, out, module)


@main.command()
@click.option("--from", "from_", help="Edition (2025) or list version (v54); default: the published edition before --to.")
@click.option("--to", "to", help="Edition or list version; default: the newest version (the proposed one, if any).")
@click.option("--version", "version_id", type=VERSION, help="The same as --to vN: any version, whatever its state.")
@present.output_options(present.DOCUMENTS, default="md")
@click.pass_context
def diff(ctx, from_: str | None, to: str | None, version_id: int | None, out: present.Output) -> None:
    """What changes between two list versions, and why."""
    from sovereign import report

    if version_id is not None:
        if to is not None:
            raise UserError("give --to or --version, not both")
        to = f"v{version_id}"
    conn = reader(ctx)
    result = report.build(conn, settings(ctx).policy, from_, to)
    for key in ("reversed", "not_recomputed"):
        if result.get(key):
            click.echo(f"note: {result[key]}", err=True)
    _emit(conn, result, out)


def _emit(conn, result: dict, out: present.Output) -> None:
    """A diff or approval pack as JSON, Markdown, HTML (with its charts) or XLSX, read back when written."""
    from sovereign import report

    try:
        if out.path is not None:
            out.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write {out.path}: {exc.strerror}") from None
    renderers = {"json": report.to_json, "md": report.to_markdown,
                 "html": lambda r: report.to_html(report.with_charts(conn, r))}
    present.document(out, lambda fmt: renderers[fmt](result), lambda: report.to_sheets(result))


@main.command(name="report")
@click.option("--edition", type=EDITION, help="The edition to report on (default: the newest list version).")
@click.option("--version", "version_id", type=VERSION, help="List version N, whatever its state.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.html (an .xlsx of the same content beside it), or FILE.pdf for those two and an A4 PDF.")
@click.option("--effective-from", help="For a list awaiting a decision: the date to show what publishing does "
                                       "(default: today).")
@click.option("--holdings", type=click.Path(dir_okay=False, path_type=Path),
              help="A holdings book: adds \"What it means for our book\" (needs --value-column).")
@book_options
@click.pass_context
def report_cmd(ctx, edition: int | None, version_id: int | None, output: Path, effective_from: str | None,
               holdings: Path | None, **kw) -> None:
    """The committee's approval pack: one self-contained HTML page, an XLSX beside it, and a PDF when asked."""
    from sovereign import report

    if edition is not None and version_id is not None:
        raise UserError("give --edition or --version, not both")
    value_column = kw["value_column"]
    if holdings is not None and not value_column:
        raise UserError("--holdings needs --value-column (the book's market-value column)")
    if holdings is None and any(kw[k] not in (None, ()) for k in kw):
        raise UserError("--column, --sheet, --header-row, --sep, --decimal-comma, --value-column and "
                        "--portfolio-column describe the --holdings book: give --holdings FILE")
    conn = reader(ctx)
    to = f"v{version_id}" if version_id else str(edition) if edition else None
    staged_from = _any_date(effective_from, "--effective-from") if effective_from else None
    result = report.build(conn, settings(ctx).policy, None, to, staged_from)
    if holdings is not None and value_column:
        from sovereign.impact import impact

        result["book"] = impact(conn, _book(holdings, kw), settings(ctx).policy, value_column, kw["portfolio_column"],
                                result["to"]["list_version"], None, result["from"]["list_version"],
                                effective_from=staged_from) | {"file": holdings.name}
    _emit(conn, result, present.Output("html", output.with_suffix(".html")))
    _emit(conn, result, present.Output("xlsx", output.with_suffix(".xlsx")))
    if output.suffix.lower() == ".pdf":
        from sovereign.cells import atomic_write
        from sovereign.exclusion_list import to_pdf

        page = output.with_suffix(".html").read_text(encoding="utf-8")
        atomic_write(output, lambda tmp: to_pdf(page, tmp))
        click.echo(f"Wrote {output}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--read-only", is_flag=True, help="Answer from a replica (--db replica.db) and refuse every write "
                                                 "(also SOVEREIGN_READ_ONLY=1).")
@click.pass_context
def serve(ctx, host: str, port: int, read_only: bool) -> None:
    """The HTTP API (/api/v1, OpenAPI at /docs) and the desk's lookup page at /."""
    import logging
    import os

    if read_only:
        os.environ["SOVEREIGN_READ_ONLY"] = "1"  # the API refuses writes and the store opens no write connection

    import uvicorn

    from sovereign import store
    from sovereign.api import create_app

    conf = settings(ctx)
    with store.reader(conf.db):  # refuse to start on a missing or empty database
        pass
    if conf.access_log and not logging.getLogger().handlers:  # the access log goes to standard error at least
        from sovereign.logs import configure

        configure(None, "text")
    # proxy_headers off: the console decides itself which peers may speak for a user (SOVEREIGN_TRUSTED_PROXIES)
    uvicorn.run(create_app(conf), host=host, port=port, log_level="info", access_log=False, proxy_headers=False)


@main.command()
@click.option("--once", is_flag=True, help="Run the poll now and exit.")
@click.option("--base-url", help="Where FH's site is (default: SOVEREIGN_BASE_URL, else https://freedomhouse.org).")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path),
              help="Where the committee report of a new edition is written (default: reports/ beside the database).")
@click.option("--webhook", help="POST a JSON notice here on a new edition (default: SOVEREIGN_WEBHOOK).")
@click.option("--notify-command", help="Run this shell command on a new edition (SOVEREIGN_EDITION, "
                                       "SOVEREIGN_REPORT... set; default: SOVEREIGN_NOTIFY_COMMAND).")
@click.option("--smtp", help="Send notices by e-mail through smtp://host:port (default: SOVEREIGN_SMTP).")
@click.option("--mail-to", help="Who gets the notices (default: SOVEREIGN_MAIL_TO).")
@click.option("--public-url", help="Where the service is reached, for links in notices (SOVEREIGN_PUBLIC_URL).")
@click.option("--user-agent", help="Identify us to FH, with a contact address (default: SOVEREIGN_USER_AGENT).")
@click.option("--min-interval", type=float, help="Seconds between requests to a host (default 1).")
@click.option("--timeout", type=float, help="Seconds to wait for an answer (default 30).")
@click.pass_context
def schedule(ctx, once: bool, base_url: str | None, reports: Path | None, webhook: str | None,
             notify_command: str | None, smtp: str | None, mail_to: str | None, public_url: str | None,
             user_agent: str | None, min_interval: float | None, timeout: float | None) -> None:
    """The scheduler daemon: weekly polls February-April, monthly otherwise; one instance only."""
    import logging

    from sovereign.schedule import run_daemon

    if not logging.getLogger().handlers:  # --log-file / --log-format configured it already
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    conf = settings(ctx).but(base_url=base_url, reports=reports, webhook=webhook, notify_command=notify_command,
                             smtp=smtp, mail_to=mail_to, public_url=public_url, user_agent=user_agent,
                             min_interval=min_interval, timeout=timeout)
    conf.check()
    run_daemon(conf, once)


@main.command()
@present.output_options()
@click.pass_context
def versions(ctx: click.Context, out: present.Output) -> None:
    """Every list version: edition, state, effective date, when recorded and published, approved by, counts."""
    from sovereign.store import reads

    conn = reader(ctx)
    counts = reads.version_counts(conn)
    rows = [{"version": v["id"], "edition": v["edition"], "state": "withdrawn" if v["withdrawn"] else v["state"],
             "effective_from": v["effective_from"], "recorded": v["created_at"], "published": v["published_at"],
             "approved_by": v["approved_by"], "eligible": counts.get(v["id"], (0, 0))[0],
             "excluded": counts.get(v["id"], (0, 0))[1], "reason": v["reason"] or v["withdrawn_reason"]
             or v["backdate_reason"]} for v in reads.versions(conn)]
    present.rows(out, rows, ["version", "edition", "state", "effective_from", "recorded", "published", "approved_by",
                             "eligible", "excluded", "reason"], sheet="versions",
                 empty="No list versions yet: no refresh or import has finished (see `sovereign runs`); run `sovereign refresh`.")


@main.command()
@present.output_options()
@click.pass_context
def runs(ctx: click.Context, out: present.Output) -> None:
    """Everything that ran or was decided: refreshes, polls, imports, publishes, overrides, register changes."""
    from sovereign.store import reads

    rows = []
    for r in reads.audit(reader(ctx)):
        details = json.loads(r["details"])
        rows.append({"when": r["recorded_at"], "who": r["actor"], "what": r["action"], "subject": r["subject"],
                     "outcome": details.get("outcome", "ok"),
                     "message": details.get("message") or r["reason"] or ""})
    present.rows(out, rows, ["when", "who", "what", "subject", "outcome", "message"], sheet="runs",
                 empty="No runs recorded yet.")


@main.command(name="backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup_cmd(ctx: click.Context, dest: Path) -> None:
    """Copy the database (consistent while serve and the scheduler run) and its payload archive into DEST."""
    from sovereign.backup import backup

    done = backup(settings(ctx).db, dest)
    click.echo(f"Backed up {settings(ctx).db} to {dest} ({done['bytes']:,} bytes, schema {done['schema']}, "
               f"{done['archived_payloads']} archived payloads); sha256 {done['sha256']}.")


@main.command(name="replicate")
@click.option("--to", "to", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A replica path (repeatable; default: SOVEREIGN_REPLICAS).")
@click.pass_context
def replicate_cmd(ctx: click.Context, to: tuple[Path, ...]) -> None:
    """Push a consistent copy of the database to the read replicas now (every write does so by itself)."""
    from sovereign import replicas

    db = settings(ctx).db
    chosen = list(to) or replicas.targets(db)
    if not chosen:
        raise UserError("no replicas: give --to PATH or set SOVEREIGN_REPLICAS (paths separated by ':')")
    failed = [(path, why) for path, why in replicas.push(db, chosen) if why]
    for path, why in failed:
        click.echo(f"error: replica {path} not updated: {why}", err=True)
    if failed:
        ctx.exit(2)
    click.echo(f"Pushed {db} to {len(chosen)} replica(s): " + ", ".join(str(p) for p in chosen) + ".")


@main.command(name="restore")
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
@click.option("--as-found", is_flag=True, help="A backup taken before digests were keyed: take its records as found.")
@click.pass_context
def restore_cmd(ctx: click.Context, src: Path, yes: bool, as_found: bool) -> None:
    """Put a backup made by `sovereign backup` in place of the database (stop the scheduler first), after the
    full verify of the backup; the replaced database is kept beside the backup and the restore recorded."""
    from sovereign.backup import restore

    conf = settings(ctx)
    if conf.db.exists() and not yes:
        raise UserError(f"{conf.db} exists: give --yes to replace it with the backup in {src}")
    done = restore(src, conf.db, conf.key_file, conf.actor, as_found)
    rolled = "; ".join(f"{kind} {', '.join(map(str, ids))}" for kind, ids in done["rolled_back"].items())
    click.echo(f"Restored {src} (made {done['made_at']}) to {conf.db}, verified whole first; "
               + (f"rolled back: {rolled}; " if rolled else "")
               + (f"the replaced database is kept as {done['kept_as']}; " if done["kept_as"] else "")
               + "a running service answers from it at once. Recorded in `sovereign runs` and the audit trail.")


@main.group(name="export")
def export_group() -> None:
    """The answers as data for other engines: a warehouse table, the issuer register, restricted lists."""


@export_group.command(name="answers")
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder: answers.parquet (or .csv) and manifest.json go there.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--mandate", "mandates", multiple=True, help="Also this mandate's rows (repeatable; default: every mandate).")
@click.pass_context
def export_answers_cmd(ctx: click.Context, out: Path, fmt: str, mandates: tuple[str, ...]) -> None:
    """One row per entity (and mandate) per interval of validity: an as-of join gives what `check --as-of` gives."""
    from sovereign.export import export_answers

    conf = settings(ctx)
    done = export_answers(conf.db, out, fmt, conf.policy, mandates)
    click.echo(f"Wrote {done['path']} ({done['rows']:,} rows, {done['bytes']:,} bytes) and {done['manifest']}.")


@export_group.command(name="register")
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder: register.parquet (or .csv) and manifest.json go there.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.pass_context
def export_register_cmd(ctx: click.Context, out: Path, fmt: str) -> None:
    """Every ISIN and LEI in the issuer register -> issuer -> country -> type."""
    from sovereign.export import export_register

    done = export_register(settings(ctx).db, out, fmt)
    click.echo(f"Wrote {done['path']} ({done['rows']:,} identifiers) and {done['manifest']}.")


@export_group.command(name="restricted")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.csv or FILE.xlsx (FILE-<mandate>.csv for each of several mandates).")
@click.option("--mandate", "mandates", multiple=True, help="This mandate's restricted list (repeatable: one file each).")
@click.option("--level", type=click.Choice(["isin", "country"]), default="isin", show_default=True,
              help="Every ISIN and LEI of the register, or one row per country.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="Default: from the file's suffix.")
@click.option("--all-dates", is_flag=True, help="Also restrictions that ended before today (the whole history).")
@click.pass_context
def export_restricted_cmd(ctx: click.Context, out: Path, mandates: tuple[str, ...], level: str, fmt: str | None,
                          all_dates: bool) -> None:
    """The restricted list a pre-trade compliance tool imports: in force today and already published for later."""
    from sovereign.export import export_restricted

    if fmt is not None:
        out = out if out.suffix else out.with_suffix(f".{fmt}")
        present.choose(fmt, out, ("csv", "xlsx"))  # a suffix that contradicts --format is refused
    conf = settings(ctx)
    for done in export_restricted(conf.db, out, conf.policy, mandates, level, None if all_dates else clock.today()):
        click.echo(f"Wrote {done['path']} ({done['rows']:,} restrictions"
                   + (f", mandate {done['mandate']}" if done["mandate"] else ", base list") + ").")


@main.command(name="exclusion-list")
@click.option("--edition", type=EDITION, help="The published list of this edition (default: the one in force).")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.html, FILE.csv or FILE.pdf (printed by Chromium).")
@click.pass_context
def exclusion_list(ctx: click.Context, edition: int | None, lang: str, output: Path) -> None:
    """The yearly public list of excluded countries, for the website: names in Dutch or English, the basis
    of each exclusion, the dates, and Freedom House's credit."""
    from sovereign import exclusion_list as public
    from sovereign.cells import atomic_write

    result = public.build(reader(ctx), lang, edition)
    suffix = output.suffix.lower()
    if suffix not in (".html", ".csv", ".pdf"):
        raise UserError(f"-o {output}: expected a .html, .csv or .pdf file")
    if suffix in (".csv", ".html"):
        text = public.to_csv(result) if suffix == ".csv" else public.to_html(result)
        atomic_write(output, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""),
                     lambda tmp: present.text_back(tmp, text))
    else:
        atomic_write(output, lambda tmp: public.to_pdf(public.to_html(result), tmp))
    click.echo(f"Wrote {output}: {len(result['rows'])} excluded countries, list version {result['version']} "
               f"in force from {result['effective_from']}.", err=True)


@main.group()
def tokens() -> None:
    """Admin API tokens, one per person: who decided is who authenticated."""


@tokens.command(name="add")
@click.argument("person")
@click.pass_context
def tokens_add(ctx: click.Context, person: str) -> None:
    """Make a token for PERSON; it is shown once, only its hash is kept."""
    import hashlib
    import secrets

    from sovereign import people
    from sovereign.store import writes

    db = writer(ctx)
    person = people.token_holder(db, person, settings(ctx).actor)
    token = secrets.token_urlsafe(32)
    with db.atomic():
        writes.add_token(db, person, hashlib.sha256(token.encode()).hexdigest())
        writes.audit(db, settings(ctx).actor, "token add", person, None, None, {})
    click.echo(token)
    click.echo(f"The admin token of {person}, shown this once: give it to them, and keep no copy.", err=True)


@tokens.command(name="revoke")
@click.argument("person")
@click.pass_context
def tokens_revoke(ctx: click.Context, person: str) -> None:
    """Revoke every token of PERSON."""
    from sovereign import people
    from sovereign.store import reads, writes

    db = writer(ctx)
    wanted = people.key(person)
    holders = {t["person"] for t in reads.tokens(db) if not t["revoked_at"] and people.key(t["person"]) == wanted}
    with db.atomic():
        n = sum(writes.revoke_tokens(db, holder) for holder in holders)
        if n:
            writes.audit(db, settings(ctx).actor, "token revoke", person.strip(), None, None, {"tokens": n})
    if not n:
        raise UserError(f"{person!r} has no active token")
    click.echo(f"Revoked {n} token(s) of {person.strip()}.")


@tokens.command(name="list")
@present.output_options()
@click.pass_context
def tokens_list(ctx: click.Context, out: present.Output) -> None:
    """Every admin token: whose, when made, when revoked (never the token)."""
    from sovereign.store import reads

    present.rows(out, reads.tokens(reader(ctx)), ["id", "person", "created_at", "revoked_at"], sheet="tokens",
                 empty="No tokens.")


@main.group(name="people")
def people_cmd() -> None:
    """The register of people who decide and approve (token holders are people too)."""


@people_cmd.command(name="add")
@click.argument("name")
@click.option("--email", help="Their e-mail address: how the console knows them behind a single-sign-on proxy.")
@click.option("--role", type=click.Choice(["committee", "desk", "ops"]),
              help="What they do: only committee members approve and decide in the console.")
@click.pass_context
def people_add(ctx: click.Context, name: str, email: str | None, role: str | None) -> None:
    """Add NAME; another spelling of someone already there (case, spaces, look-alike letters) is refused, except to
    give someone already there (a token holder) the e-mail or role they lack."""
    from sovereign import people

    row = people.add(writer(ctx), name, email, role, settings(ctx).actor)
    if row.get("updated"):
        click.echo(f"Gave {row['name']} their " + " and ".join(f"{k} {row[k]}" for k in row["updated"]) + ".")
        return
    click.echo(f"Added {row['name']}" + (f" ({row['role']})" if row["role"] else "") + " to the register of people.")


@people_cmd.command(name="remove")
@click.argument("name")
@click.pass_context
def people_remove(ctx: click.Context, name: str) -> None:
    """Take NAME off the register (their past decisions stay as recorded; revoke their tokens apart)."""
    from sovereign import people

    row = people.remove(writer(ctx), name, settings(ctx).actor)
    click.echo(f"Removed {row['name']} from the register of people; what they decided stays on record.")


@people_cmd.command(name="list")
@present.output_options()
@click.pass_context
def people_list(ctx: click.Context, out: present.Output) -> None:
    """The register of people: e-mail, role, tokens, who recorded them."""
    from sovereign import people

    present.rows(out, people.listed(reader(ctx)), ["name", "email", "role", "tokens", "created_at", "recorded_by"],
                 sheet="people")


AUDIT_COLUMNS = ["id", "recorded_at", "actor", "action", "subject", "effective_from", "reason", "details", "hash"]


@main.group(invoke_without_command=True)
@click.option("--from", "start", help="First recorded date (YYYY-MM-DD).")
@click.option("--to", "end", help="Last recorded date (YYYY-MM-DD).")
@present.output_options(default="csv")
@click.pass_context
def audit(ctx: click.Context, start: str | None, end: str | None, out: present.Output) -> None:
    """Every decision: publish, overrides, register changes, refreshes, admin API actions; who, when, why."""
    if ctx.invoked_subcommand is not None:
        return

    from sovereign.store import reads

    first, last = _any_date(start, "--from"), _any_date(end, "--to")
    rows = reads.audit(reader(ctx), *clock.recorded_during(first, last))
    rows = [{k: r[k] for k in AUDIT_COLUMNS} for r in rows]
    present.rows(out, rows, AUDIT_COLUMNS, sheet="audit", empty="No decisions recorded in that period.",
                 as_json=[r | {"details": json.loads(r["details"])} for r in rows])


@audit.command(name="verify")
@click.option("--head", "anchor", help="A chain head printed outside the database (approval pack, public list, "
                                       "notice, log): the trail must still hold it, unaltered.")
@click.pass_context
def audit_verify(ctx: click.Context, anchor: str | None) -> None:
    """Recompute the audit trail's keyed hash chain and account for every decision in the database; exit 1
    naming the first row that was edited or removed, or the decisions the trail does not record."""
    from sovereign import audit as trail
    from sovereign import keys, macs
    from sovereign.store import reads

    conn = reader(ctx)
    rows = reads.audit(conn)
    at, why = trail.anchored(rows, anchor) if anchor is not None else (None, None)  # a mistyped head: at once
    decisions = reads.decisions(conn)
    found = ([why] if why else []) + trail.review(rows, keys.of(conn), reads.keyring(conn), decisions)
    if not found:
        head = rows[-1]["hash"] if rows else macs.GENESIS
        since = (f"; the anchor is row {at['id']}, {len(rows) - at['id']} row(s) recorded since" if at else "")
        click.echo(f"Audit trail: OK, {len(rows)} row(s), each as it was recorded; "
                   f"{len(decisions)} decision(s), each in the trail{since}. Head {head}.")
        return
    click.echo(f"Audit trail: FAILED: {found[0]}")
    for more in found[1:]:
        click.echo(f"  also: {more}")
    ctx.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
