"""`sovereign whatif` over FH's real editions: the policy in force reproduces every stored list, persistence cuts
re-admissions (checked against a computation done here, from the statuses alone), the book moves as `impact`
says, and the report opens at desk and phone width."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from sovereign import paths, releases, whatif
from sovereign.holdings import read_book
from sovereign.policy import Policy
from sovereign.resolve import country_code
from sovereign.store import reads
from tests.conftest import Cli

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def scored(loaded_db):
    conn = sqlite3.connect(loaded_db)
    conn.row_factory = sqlite3.Row
    yield whatif.scored_from_store(conn)
    conn.close()


def _conn(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def test_the_policy_in_force_reproduces_every_stored_list(loaded_db, scored):
    conn = _conn(loaded_db)
    built = whatif.lists(scored, Policy())
    editions = sorted(built["edition"].unique().to_list())
    assert editions[0] == 1973 and editions[-1] == 2026 and len(editions) == 53
    for edition in editions:
        version = reads.latest_published(conn, edition)
        stored = reads.entries_frame(conn, version["id"]).filter(
            ~((pl.col("kind") == "t") & pl.col("iso2").is_null())).select("entity", "eligible", "reasons").sort("entity")
        mine = built.filter(pl.col("edition") == edition).select("entity", "eligible", "reasons").sort("entity")
        assert mine.equals(stored), edition
    same = whatif.backtest(scored, Policy(), Policy())
    assert all(not e["only_current"] and not e["only_alternative"] for e in same["editions"])


def _independent_readmissions(scored: pl.DataFrame, persistence: int, first: int, last: int) -> set[tuple[str, int]]:
    """From FH's statuses alone: excluded = Not Free or not rated; with persistence K, also excluded while any of
    the K-1 editions before (in which FH listed the place, as a country or, like Kosovo before 2010, as a
    territory) was excluded. A re-admission is a country excluded in one edition and not in the next."""
    editions = sorted(scored["edition"].unique().to_list())
    out = set()
    for _, rows in scored.group_by(["entity"]):
        status = {e: s for e, s in rows.select("edition", "status").rows()}
        country = {e: n for e, k, n in rows.select("edition", "kind", "fh_name").rows() if k == "c"}

        def excluded(e: int, status: dict = status) -> bool:
            i = editions.index(e)
            window = [editions[j] for j in range(max(0, i - persistence + 1), i + 1)]
            return any(status[w] in ("NF", None) for w in window if w in status)

        for before, after in zip(editions, editions[1:], strict=False):
            if first < after <= last and before in country and after in country:
                if excluded(before) and not excluded(after):
                    out.add((country[after], after))
    return out


def test_persistence_of_two_editions_cuts_readmissions_2005_2026(scored):
    result = whatif.backtest(scored, Policy(), Policy(persistence=2), first=2005, last=2026)
    now, k2 = result["turnover"]["current"], result["turnover"]["alternative"]
    mine_now = _independent_readmissions(scored, 1, 2005, 2026)
    mine_k2 = _independent_readmissions(scored, 2, 2005, 2026)
    assert now["readmissions"] == len(mine_now) and k2["readmissions"] == len(mine_k2)
    assert k2["readmissions"] < now["readmissions"]
    for side, mine in ((now, mine_now), (k2, mine_k2)):
        assert {(r["name"], r["edition"]) for r in side["readmitted"]} == mine
        for year in side["by_edition"][1:]:
            assert year["readmissions"] == sum(1 for _, e in mine if e == year["edition"]), year

    def per_country(found: set) -> dict[str, int]:
        return {n: sum(1 for m, _ in found if m == n) for n, _ in found}

    before, after = per_country(mine_now), per_country(mine_k2)
    fewer = {n: (before[n], after.get(n, 0)) for n in before if after.get(n, 0) < before[n]}
    more = {n for n in after if after[n] > before.get(n, 0)}
    # a country back for one edition is never re-admitted; the others come back one edition later
    assert fewer == {"Egypt": (1, 0), "Thailand": (3, 1), "Uganda": (1, 0)}
    # Kosovo: Not Free as a territory in 2009, so a Partly Free country only from 2011; Liberia's 2005 return moves to 2006
    assert more == {"Kosovo", "Liberia"}
    assert ("Thailand", 2008) in mine_now and ("Thailand", 2009) in mine_k2
    quick_now = {(q["name"], q["readmitted"]) for q in now["quick_readmissions"]}
    assert all(q[1] in range(2006, 2027) for q in quick_now)
    # every difference is the persistence rule, said in words, never a country the policy in force excludes alone
    for e in result["editions"]:
        assert e["only_current"] == []
        for c in e["only_alternative"]:
            assert "policy: persistence = 2" in c["why_alternative"] and "stays excluded" in c["why_alternative"]


def test_score_rules_say_which_rule_decided(scored):
    result = whatif.backtest(scored, Policy(), Policy(min_total=40, decline_points=10, decline_editions=5),
                             first=2020, last=2026)
    edition = next(e for e in result["editions"] if e["edition"] == 2026)
    why = {c["iso2"]: c["why_alternative"] for c in edition["only_alternative"]}
    assert "JO" in why and "below the policy's minimum of 40 (policy: min_total)" in why["JO"]
    assert all(c["total"] is None or c["total"] < 40 or "policy: decline" in c["why_alternative"]
               for c in edition["only_alternative"])
    counted = {y["edition"]: y["excluded"] for y in result["turnover"]["alternative"]["by_edition"]}
    for e in result["editions"]:
        assert counted[e["edition"]] == sum(1 for c in e["excluded_alternative"] if c["kind"] == "country")
        excluded_now = {c["name"] for c in e["excluded_current"]}
        assert excluded_now <= {c["name"] for c in e["excluded_alternative"]}  # the alternative only tightens


def _book(tmp_path: Path) -> Path:
    """As an OMS exports it: a title row, ISINs with the issuer's country beside them, a Total row."""
    path = tmp_path / "holdings.csv"
    path.write_text("Holdings as of 2026-11-30\nPortfolio,ISIN,Issuer Country,Market Value\nA,IN0020230010,IN,100.5\n"
                    "A,HK0000123452,HK,20\nB,NL0011223342,NL,1000\nB,US91086QBA17,MX,75\nB,XS2100000012,TR,50\n"
                    "B,XS1900000016,,10\nA,XS9999999997,,5\nA,,Puerto Rico,30\nB,XS0030000169,US,40\n"
                    "Total,,,1330.5\n")
    return path


def test_the_book_moves_as_impact_says_for_the_same_list(desk, tmp_path):
    from sovereign import store
    from sovereign.impact import impact
    from sovereign.pipeline import build_version

    alternative = Policy(min_total=82)  # the United States (81 in 2026) too, and Puerto Rico in its report
    conn = _conn(desk.db)
    scored = whatif.scored_from_store(conn)
    with store.writer(desk.db) as db, db.atomic():
        proposed = build_version(db, scored, alternative, 2026, "proposed", None, None)
    book = read_book(_book(tmp_path), ("ISIN", "Issuer Country"))
    in_force = reads.version_in_force(conn, "2026-12-01")
    changes = whatif.today(dict(in_force), reads.entries_frame(conn, in_force["id"]),
                           whatif.lists(scored, alternative), set())
    assert {"IN", "HK"} <= {c["iso2"] for c in changes["newly_excluded"]}
    mine = whatif.book(conn, book, changes, Policy(), alternative, "Market Value", "Portfolio", None)
    theirs = impact(conn, book, Policy(), "Market Value", "Portfolio", to_version=proposed)
    for key in ("newly_excluded", "newly_eligible", "unknown", "total", "by_portfolio"):
        assert mine[key] == theirs[key], key
    assert mine["newly_excluded"]["value"] == pytest.approx(100.5 + 20 + 75 + 30 + 40)
    assert {c["iso2"] for c in mine["newly_excluded"]["countries"]} == {"IN", "HK", "MX", "PR", "US"}


def test_whatif_cli_writes_every_format(desk, tmp_path):
    alt = tmp_path / "alternative.toml"
    alt.write_text("[base]\npersistence = 2\nmin_total = 63\n")
    book = _book(tmp_path)
    out = {f: tmp_path / f"whatif.{f}" for f in ("json", "md", "html", "xlsx")}
    for fmt, path in out.items():
        code, _, err = desk("whatif", "--policy", str(alt), "--from", "2003", "--holdings", str(book),
                            "--value-column", "Market Value", "--portfolio-column", "Portfolio", "--format", fmt,
                            "-o", str(path))
        assert code == 0, err
    d = json.loads(out["json"].read_text())
    assert {"current", "alternative", "editions", "turnover", "today", "book"} <= set(d)
    assert d["editions"][0]["edition"] == 2003 and d["editions"][-1]["edition"] == 2026
    assert d["book"]["holdings.csv"]["newly_excluded"]["value"] > 0
    readme = README.read_text()
    section = readme[readme.index("### `sovereign whatif`"):]
    keys = set()

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                if not re.fullmatch(r"[A-Z]{2}|.*\.csv|\d+", k) and k != "policy":
                    keys.add(k)
                    walk(v)
        elif isinstance(value, list):
            for v in value[:3]:
                walk(v)

    walk({k: v for k, v in d.items() if k != "book"})
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert not missing, missing
    md = out["md"].read_text()
    assert "## Why they differ" in md and "Source: Freedom House" in md

    import fastexcel  # the cells' own types, as Excel stores them (calamine)

    wb = fastexcel.read_excel(str(out["xlsx"]))
    assert {"Editions", "Differences", "Turnover", "Today"} <= set(wb.sheet_names)
    turnover = wb.load_sheet("Turnover").to_polars()
    assert turnover.schema["Edition"] == pl.Float64 and turnover["Edition"][0] == 2003
    assert turnover.schema["Effective"] in (pl.Date, pl.Datetime("ms"), pl.Datetime("us"))  # dates, not text
    assert str(turnover["Effective"][0]).startswith(releases.published(2003).isoformat())  # FH's release day
    assert turnover.schema["Re-admissions (alternative)"] == pl.Float64
    differences = wb.load_sheet("Differences").to_polars()
    assert differences.schema["Total"] == pl.Float64 and differences.schema["Country"] == pl.String


def test_whatif_refuses_a_loosening_alternative_and_bad_ranges(cli, tmp_path):
    alt = tmp_path / "loose.toml"
    alt.write_text("[base]\npersistence = 2\n[mandates.m]\npersistence = 1\n")
    code, _, err = cli("whatif", "--policy", str(alt))
    assert code == 2 and "[mandates.m] persistence" in err and "a mandate can only tighten" in err
    alt.write_text("[base]\ndecline_points = 10\n")
    code, _, err = cli("whatif", "--policy", str(alt))
    assert code == 2 and "needs both decline_points and decline_editions" in err
    alt.write_text("[base]\n")
    code, _, err = cli("whatif", "--policy", str(alt), "--from", "2026", "--to", "2020")
    assert code == 2 and "--from 2026 is after --to 2020" in err


def test_the_report_at_desk_and_phone_width(desk, browser, tmp_path):
    alt = tmp_path / "alternative.toml"
    alt.write_text("[base]\npersistence = 2\n")
    page_file = tmp_path / "whatif.html"
    code, _, err = desk("whatif", "--policy", str(alt), "--from", "2005", "--holdings", str(_book(tmp_path)),
                        "--value-column", "Market Value", "--format", "html", "-o", str(page_file))
    assert code == 0, err
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        page.goto(page_file.as_uri())
        assert errors == []
        body = page.inner_text("body")
        assert "Thailand" in body and "Source: Freedom House" in body
        assert page.locator("#chart-excluded svg").count() == 1 and page.locator("#chart-timeline svg").count() == 1
        chart = page.evaluate("document.querySelector('#chart-excluded svg').getBoundingClientRect().width")
        assert 0 < chart <= width
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
        page.close()


@pytest.mark.slow
def test_a_refresh_under_a_history_policy_builds_its_lists_with_history(tmp_path):
    policy = tmp_path / "persist.toml"
    policy.write_text(paths.POLICY.read_text().replace("[gate]", "persistence = 2\n\n[gate]"))
    cli = Cli(tmp_path / "s.db")
    code, _, err = cli("--policy", str(policy), "refresh", "--source", "bundled")
    assert code == 0, err
    code, rows = cli.json("list", "--edition", "2008", "--format", "json")
    thailand = next(r for r in rows if r["iso2"] == "TH")
    assert thailand["status"] == "PF" and not thailand["eligible"]
    assert "excluded in Freedom in the World 2007" in json.dumps(thailand)
    code, out, err = cli("--policy", str(policy), "verify")  # the list in force rebuilt with its history agrees
    assert code == 0, out + err
    code, out, _ = cli("--policy", str(policy), "refresh", "--source", "bundled")
    assert code == 0 and not reads.versions(_conn(tmp_path / "s.db"))[-1]["withdrawn"]
    assert len(reads.versions(_conn(tmp_path / "s.db"))) == 53  # a second refresh builds nothing new


def test_a_new_edition_alone_reads_the_editions_before_from_the_store(fresh_db, tmp_path):
    from tests.conftest import india_not_free_2027

    policy = tmp_path / "decline.toml"
    policy.write_text(paths.POLICY.read_text().replace("[gate]", "decline_points = 20\ndecline_editions = 1\n\n[gate]"))
    cli = Cli(fresh_db)
    code, _, err = cli("--policy", str(policy), "import", str(india_not_free_2027(tmp_path)))
    assert code == 0, err
    conn = _conn(fresh_db)
    version = reads.newest_version(conn, 2027, ("proposed",))
    india = next(r for r in reads.entries(conn, version["id"]) if r["iso2"] == "IN")
    assert "Total fell from 62 (Freedom in the World 2026) to 36: 26 points lost, more than 20 over 1 editions" \
        in india["reasons"]


def test_a_mandate_with_history_rules_answers_the_desk_as_the_backtest_builds_it(cli, scored, tmp_path):
    from sovereign.policy import load_policy

    path = tmp_path / "patient.toml"
    path.write_text(paths.POLICY.read_text() + "\n[mandates.patient]\npersistence = 2\ndecline_points = 10\n"
                    "decline_editions = 5\n")
    mandate = load_policy(path, country_code).mandate("patient")
    built = whatif.lists(scored, Policy(), mandate)
    for edition in (2008, 2026):
        code, rows = cli.json("--policy", str(path), "list", "--edition", str(edition), "--mandate", "patient",
                              "--format", "json")
        assert code == 0
        desk = {r["iso2"]: r["eligible"] for r in rows if r["iso2"] and not r["covered_by"]}  # FH's own entities
        mine = dict(built.filter((pl.col("edition") == edition) & pl.col("iso2").is_not_null())
                    .select("iso2", "eligible").rows())
        assert desk == mine, edition
    code, answers = cli.json("--policy", str(path), "check", "TN", "--mandate", "patient", "--edition", "2026",
                             "--json")
    assert not answers[0]["eligible"]
    assert any("Total fell from 71 (Freedom in the World 2021) to 42" in r for r in answers[0]["reasons"])


def test_a_mandate_is_compared_as_each_policy_defines_it(cli, tmp_path):
    alt = tmp_path / "alternative.toml"
    alt.write_text("[base]\nmin_total = 50\n[mandates.min_score_60]\nmin_total = 70\n")
    code, d = cli.json("whatif", "--policy", str(alt), "--mandate", "min_score_60", "--from", "2020", "--format", "json")
    assert code == 0
    assert d["current"]["mandate"] == d["alternative"]["mandate"] == "min_score_60"
    assert "policy" in d["alternative"] and d["alternative"]["policy"]["mandates"][0]["min_total"] == 70
    e2026 = next(e for e in d["editions"] if e["edition"] == 2026)
    assert e2026["only_current"] == [] and e2026["only_alternative"]
    assert all("mandate min_score_60: Total" in c["why_alternative"] for c in e2026["only_alternative"])
    assert {c["iso2"] for c in d["today"]["newly_excluded"]} == {c["iso2"] for c in e2026["only_alternative"]}
    code, _, err = cli("whatif", "--policy", str(alt), "--mandate", "strict")
    assert code == 2 and "unknown mandate 'strict'" in err


def test_the_diff_of_a_history_mandate_moves_the_countries_the_backtest_moves(cli, scored, tmp_path):
    from sovereign.policy import load_policy

    path = tmp_path / "patient.toml"
    path.write_text(paths.POLICY.read_text() + "\n[mandates.patient]\npersistence = 2\ndecline_points = 5\n"
                    "decline_editions = 3\n")
    patient = load_policy(path, country_code).mandate("patient")
    built = whatif.lists(scored, Policy(), patient).filter(pl.col("iso2").is_not_null())
    ok = {e: set(built.filter((pl.col("edition") == e) & pl.col("eligible"))["iso2"]) for e in (2025, 2026)}
    code, d = cli.json("--policy", str(path), "diff", "--from", "2025", "--to", "2026", "--format", "json")
    assert code == 0
    moved = d["mandates"]["patient"]
    assert moved["eligible_after"] == len(built.filter((pl.col("edition") == 2026) & pl.col("eligible")
                                                       & (pl.col("kind") == "c")))
    assert {r["iso2"] for r in moved["newly_excluded"]} == ok[2025] - ok[2026]
    assert {r["iso2"] for r in moved["newly_eligible"]} == ok[2026] - ok[2025]
    assert moved["newly_excluded"] or moved["newly_eligible"]


def test_the_book_reads_lookup_s_covered_by_fact_not_its_own(desk, tmp_path):
    """Whether a place is answered from its parent's report is lookup's fact for the list in force, not a mapping
    of whatif's own: when FH rates Puerto Rico again (a 2027 table with its own row), a Puerto Rico position moves
    with Puerto Rico's own rating under the alternative, never with the United States'."""
    from sovereign import clock
    from tests.conftest import WEB_2026, member

    scores = tmp_path / "fiw-2027.csv"
    scores.write_text(WEB_2026.read_text() + "Puerto Rico,PR,territory,69,Partly Free,28,41\n")
    assert desk("import", str(scores))[0] == 0
    code, out, err = desk("publish", "--approved-by", member(desk), "--effective-from", clock.today().isoformat())
    assert code == 0, err
    code, [rico] = desk.json("check", "PR", "--json")
    assert rico["covered_by"] is None and rico["edition"] == 2027 and rico["status"] == "PF"
    alt = tmp_path / "alt.toml"
    alt.write_text("[base]\nmin_total = 75\n")  # Puerto Rico (69) out, the United States (81) stays
    book = tmp_path / "book.csv"
    book.write_text("Portfolio,ISIN,Issuer Country,Market Value\nA,,Puerto Rico,30\nB,,US,40\n", encoding="utf-8")
    code, out, err = desk("whatif", "--policy", str(alt), "--from", "2020", "--to", "2026", "--holdings", str(book),
                          "--value-column", "Market Value", "--format", "json")
    assert code == 0, err
    moved = json.loads(out)["book"]["book.csv"]["newly_excluded"]
    assert [(c["iso2"], c["value"]) for c in moved["countries"]] == [("PR", 30.0)]
