"""One list on a date: every view (check, screen, list, the pack, the public list, the API) gives the same answer for
every entity, whatever overrides the committee recorded, for any mandate and any date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sovereign import clock, exclusion_list, listing, report, store
from sovereign.api import create_app
from sovereign.settings import Settings
from tests.conftest import Cli, copy_db, india_not_free_2027, member

TODAY = clock.today()
COUNTRIES = ["IN", "FR", "TR", "HU", "NL", "US", "RU", "BR"]  # rated Free, Partly Free and Not Free alike
MANDATES = [None, "strict_pf", "min_score_60"]


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


override = st.fixed_dictionaries({
    "country": st.sampled_from(COUNTRIES), "start": st.integers(-500, 200),
    "length": st.one_of(st.none(), st.integers(0, 400)), "revoke": st.one_of(st.none(), st.integers(-30, 200)),
})


def record(cli: Cli, overrides: list[dict]) -> None:
    for n, o in enumerate(overrides, start=1):
        args = ["override", "add", o["country"], "--reason", f"committee decision {n}", "--by", "RI committee",
                "--from", day(o["start"]), "--backdate-reason", "decided earlier"]
        if o["length"] is not None:
            args += ["--until", day(o["start"] + o["length"])]
        code, _, err = cli(*args)
        assert code == 0, err
        if o["revoke"] is not None:
            code, _, err = cli("override", "revoke", str(n), "--by", member(cli), "--reason", "decided again",
                               "--from", day(o["revoke"]), "--backdate-reason", "decided earlier")
            assert code == 0, err


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(overrides=st.lists(override, max_size=4), mandate=st.sampled_from(MANDATES), offset=st.integers(-400, 400))
def test_every_view_agrees_with_check_entity_by_entity(loaded_db, tmp_path_factory, overrides, mandate, offset):
    db = copy_db(loaded_db, tmp_path_factory.mktemp("listing") / "sovereign.db")
    cli = Cli(db)
    record(cli, overrides)
    as_of = TODAY + timedelta(days=offset)
    extra = ["--mandate", mandate] if mandate else []
    with store.reader(db) as conn:
        policy = Settings.load(db=db).policy
        chosen = policy.mandate(mandate) if mandate else None
        found = listing.on_date(conn, as_of, mandate=chosen)
        import polars as pl

        from sovereign.screen import screen

        screened = screen(conn, pl.DataFrame({"Country": COUNTRIES}), "Country", as_of=as_of, mandate=chosen)
    rows = found.by_iso2()
    assert dict(zip(COUNTRIES, screened["verdict"].to_list(), strict=True)) == {c: rows[c]["verdict"] for c in COUNTRIES}
    code, listed = cli.json("list", "--as-of", as_of.isoformat(), "--format", "json", *extra)
    assert code == 0 and {r["iso2"]: r["verdict"] for r in listed if r["iso2"]} == {k: r["verdict"] for k, r in rows.items()}
    code, answers = cli.json("check", *COUNTRIES, "--as-of", as_of.isoformat(), "--json", *extra)
    for a in answers:
        row = rows[a["iso2"]]
        assert (a["verdict"], a["status"], a["pr"], a["no_new_buys_from"], a["divest_by"], a["by_committee"]) == (
            row["verdict"], row["status"], row["pr"], row["no_new_buys_from"], row["divest_by"], row["by_committee"]), a
    # today's list, as the pack, the public list and the desk's check read it
    with store.reader(db) as conn:
        today = listing.on_date(conn).by_iso2()
        pack = report.build(conn, policy)
        public = exclusion_list.build(conn, "en")
    code, now = cli.json("check", *COUNTRIES, "--json")
    for a in now:
        assert a["verdict"] == today[a["iso2"]]["verdict"]
    full = {r["iso2"]: r for r in pack["full_list"] if r["iso2"]}
    for iso2 in COUNTRIES:
        assert (full[iso2]["verdict"], full[iso2]["divest_by"]) == (today[iso2]["verdict"], today[iso2]["divest_by"])
    excluded_countries = {k for k, r in today.items() if not r["eligible"] and r["kind"] == "country"}
    assert {r["iso2"] for r in public["rows"]} == excluded_countries
    committee = {k for k, r in today.items() if r["by_committee"] and not r["fh_excluded"] and r["kind"] == "country"}
    assert pack["summary"]["after"]["excluded_by_committee"] == len(committee)
    assert pack["summary"]["after"]["eligible"] == sum(r["eligible"] for r in today.values() if r["kind"] == "country")


def test_the_api_reads_the_same_list_and_refuses_what_the_cli_refuses(fresh_db):
    cli = Cli(fresh_db)
    assert cli("override", "add", "IN", "--reason", "committee decision", "--by", "RI", "--from", day(10))[0] == 0
    code, cli_rows = cli.json("list", "--as-of", day(12), "--format", "json")
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:
        body = client.get("/api/v1/lists/current", params={"as_of": day(12)}).json()
        assert {r["iso2"]: r["verdict"] for r in body["entries"]} == {r["iso2"]: r["verdict"] for r in cli_rows}
        india = next(r for r in body["entries"] if r["iso2"] == "IN")
        assert india["verdict"] == "excluded" and india["by_committee"] == [1] and india["no_new_buys_from"] == day(10)
        r = client.get("/api/v1/check/IN", params={"as_of": day(3), "version": 53})
        assert r.status_code == 400 and "give one of --edition, --version and --as-of" in r.text
    code, _, err = cli("check", "IN", "--as-of", day(3), "--version", "53")
    assert code == 2 and "give one of --edition, --version and --as-of" in err


def test_a_committee_exclusion_in_the_pack_has_its_status_scores_and_divest_date(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "committee decision", "--by", "RI")[0] == 0
    code, pack = cli.json("diff", "--format", "json")
    assert not any(m["iso2"] == "FR" for m in pack["newly_excluded"]), "in force today already: not a move"
    france = next(m for m in pack["full_list"] if m["iso2"] == "FR")
    assert france["status"] == "F" and france["verdict"] == "excluded" and france["by_committee"]
    assert france["no_new_buys_from"] == TODAY.isoformat() and france["divest_by"] == day(90)
    code, [check] = cli.json("check", "FR", "--json")
    assert (check["status"], check["divest_by"], check["total"]) == ("F", france["divest_by"], france["total"])
    assert pack["summary"]["after"]["excluded_by_committee"] == 1


def test_the_next_change_is_a_future_committee_exclusion_and_the_pending_line_compares_with_today(desk, tmp_path):
    assert desk("override", "add", "IN", "--reason", "committee decision", "--by", "RI", "--from", day(12))[0] == 0
    code, path = 0, india_not_free_2027(tmp_path)
    code, out, err = desk("import", str(path))
    assert code == 0, err
    code, out, _ = desk("check", "IN", "TR")
    assert f"excluded by the committee from {day(12)} (override 1); no new buys from {day(12)}" in out
    assert "under review: proposed list 54 (Freedom in the World 2027) would exclude" in out
    assert "TR: Turkey (TR) NOT ELIGIBLE" in out and "(Freedom in the World 2027) no change" in out
    code, [india, turkey] = desk.json("check", "IN", "TR", "--json")
    assert india["upcoming"]["effective_from"] == day(12) and india["upcoming"]["by_committee"] == [1]
    assert turkey["pending"]["change"] == "no change" and turkey["upcoming"] is None
    with TestClient(create_app(Settings.load(db=desk.db))) as client:
        body = client.get("/api/v1/check/IN").json()
        assert body["upcoming"] == india["upcoming"] and body["pending"]["change"] == "would exclude"
        r = client.get("/api/v1/lists/2027")
        assert r.status_code == 404 and "ask it with --version 54" in r.text
    code, _, err = desk("check", "IN", "--edition", "2027")
    assert code == 2 and "list version 54 is proposed and not in force; ask it with --version 54" in err


@pytest.mark.parametrize("shape", ["cli", "api"])
def test_a_re_admission_is_said_as_such(desk, tmp_path, shape):
    path = tmp_path / "fiw-2027.csv"
    from tests.conftest import WEB_2026
    line = next(x for x in WEB_2026.read_text().splitlines() if x.startswith("Turkey,") or x.startswith("Türkiye,"))
    parts = line.split(",")
    freed = ",".join(parts[:3] + ["55", "Partly Free", "20", "35"] + parts[7:])
    path.write_text(WEB_2026.read_text().replace(line, freed))
    code, out, err = desk("import", str(path))
    assert code == 0, err + out
    if shape == "cli":
        code, out, _ = desk("check", "TR")
        assert "(Freedom in the World 2027) would re-admit" in out
    else:
        with TestClient(create_app(Settings.load(db=desk.db))) as client:
            assert client.get("/api/v1/check/TR").json()["pending"]["change"] == "would re-admit"


def test_import_and_refresh_end_with_who_moves_and_the_publish_command(loaded_db, tmp_path, monkeypatch):
    from scrapers.freedomhouse import read_workbook
    from tests.conftest import ALL_DATA
    from tests.fhsite import FHSite, edition_2027
    from tests.test_live_site import FAST

    cli = Cli(copy_db(loaded_db, tmp_path / "import.db"))
    code, out, err = cli("import", str(india_not_free_2027(tmp_path)))
    assert code == 0, err
    assert "If published: 1 newly excluded (India (IN)); 0 re-admitted (none)." in out
    assert "`sovereign publish --edition 2027 --approved-by NAME --effective-from YYYY-MM-DD`" in out
    assert "`sovereign report --version 54 -o pack.html`" in out
    monkeypatch.setenv("SOVEREIGN_ADMIN_TOKEN", "s" * 40)
    with FHSite() as site:
        site.publish_live(edition_2027(read_workbook(ALL_DATA)), 2027, details=False)
        code, out, err = Cli(copy_db(loaded_db, tmp_path / "cli.db"))("refresh", "--source", "web", "--base-url",
                                                                         site.url, *FAST)
        api_db = copy_db(loaded_db, tmp_path / "api.db")
        with TestClient(create_app(Settings.load(db=api_db, base_url=site.url, min_interval=0, timeout=1))) as c:
            r = c.post("/api/v1/admin/refresh", json={"source": "web"}, headers={"Authorization": "Bearer " + "s" * 40})
    assert code == 0 and r.status_code == 200, err + r.text
    [step] = r.json()["next"]
    assert step["publish"] == "sovereign publish --edition 2027 --approved-by NAME --effective-from YYYY-MM-DD"
    assert (f"If published: {len(step['newly_excluded'])} newly excluded ({', '.join(step['newly_excluded']) or 'none'})"
            in out)
