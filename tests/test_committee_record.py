"""The committee's record, its loose ends: every approval names a person in the register, the same person approving
the same date twice is refused by every surface in the same words, "today" is one day (Amsterdam's) everywhere,
and impact and the approval pack count the same change."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sovereign import clock, paths
from tests.conftest import Cli, india_not_free_2027
from tests.test_service import Server

SHARED = "shared-admin-token-for-the-committee-tests"


def day(offset: int) -> str:
    return (clock.today() + timedelta(days=offset)).isoformat()


# --- 1. an approval names a person in the register, whatever the count ------------------------------------------

def test_with_one_approval_required_a_free_text_approver_is_refused(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert "approvals_required = 1" in paths.POLICY.read_text()  # the house policy: one approval
    assert cli("import", str(india_not_free_2027(tmp_path)))[0] == 0
    assert cli("override", "add", "FR", "--reason", "committee decision", "--by", "RI committee")[0] == 0
    for args in (("publish", "--approved-by", "Mallory", "--effective-from", day(30)),
                 ("override", "revoke", "1", "--by", "Mallory", "--reason", "decided again")):
        code, out, err = cli(*args)
        assert code == 2 and "'Mallory' is not in the register of people" in err and "`sovereign people add" in err
        assert "Traceback" not in err and out == ""
    code, [india] = cli.json("check", "IN", "--json")
    assert india["edition"] == 2026 and india["pending"]["change"] == "would exclude"  # nothing was published
    code, [france] = cli.json("check", "FR", "--json")
    assert france["verdict"] == "excluded"  # nor re-admitted
    assert cli("people", "add", "Ria de Boer", "--role", "committee")[0] == 0
    code, out, err = cli("publish", "--approved-by", "ria  de boer", "--effective-from", day(30))
    assert code == 0 and "approved by Ria de Boer" in out, err


def test_through_the_api_the_shared_token_never_approves_and_a_person_does(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("import", str(india_not_free_2027(tmp_path)))[0] == 0
    anna = cli("tokens", "add", "Anna de Vries")[1].strip()
    server = Server(fresh_db, env={"SOVEREIGN_ADMIN_TOKEN": SHARED})
    try:
        body = {"effective_from": day(30)}
        r = httpx.post(server.url + "/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {SHARED}"})
        assert r.status_code == 400 and "`sovereign people add NAME`" in r.json()["detail"]
        r = httpx.post(server.url + "/api/v1/admin/publish", json=body, headers={"Authorization": f"Bearer {anna}"})
        assert r.status_code == 200 and r.json()["in_force"] is True and r.json()["approvers"] == ["Anna de Vries"]
    finally:
        server.stop()


# --- 2. the same person, the same date, again: one refusal everywhere ------------------------------------------

@pytest.fixture
def two(fresh_db, tmp_path):
    """Two approvals required, a proposed 2027 list, an override on France, and Anna with a token."""
    policy = tmp_path / "policy.toml"
    policy.write_text(paths.POLICY.read_text().replace("approvals_required = 1", "approvals_required = 2"))
    cli = Cli(fresh_db)

    def run(*args):
        return cli("--policy", str(policy), *args)

    assert run("import", str(india_not_free_2027(tmp_path)))[0] == 0
    assert run("override", "add", "FR", "--reason", "committee decision", "--by", "RI committee")[0] == 0
    run.token = run("tokens", "add", "Anna de Vries")[1].strip()  # type: ignore[attr-defined]
    run.policy, run.db = policy, fresh_db  # type: ignore[attr-defined]
    return run


def test_the_same_person_approving_the_same_date_again_is_refused_in_the_cli_and_the_api(two):
    code, out, err = two("publish", "--approved-by", "Anna de Vries", "--effective-from", day(30))
    assert code == 0 and "1 of 2" in out, err
    code, out, cli_refusal = two("publish", "--approved-by", "anna de vries", "--effective-from", day(30))
    assert code == 2 and out == ""
    assert cli_refusal.strip() == (f"error: Anna de Vries has already approved list version 54 for {day(30)}: the same "
                                   "person approving the same date again counts once; a different person approving "
                                   "the same date puts it in force")
    code, out, err = two("override", "revoke", "1", "--by", "Anna de Vries", "--reason", "decided again")
    assert code == 0 and "1 of 2" in out, err
    code, _, revoke_refusal = two("override", "revoke", "1", "--by", "Anna de Vries", "--reason", "again")
    assert code == 2 and f"already approved revoking override 1 for {day(0)}" in revoke_refusal
    server = Server(two.db, env={"SOVEREIGN_POLICY": str(two.policy)})
    try:
        auth = {"Authorization": f"Bearer {two.token}"}
        r = httpx.post(server.url + "/api/v1/admin/publish", json={"effective_from": day(30)}, headers=auth)
        assert r.status_code == 409 and "error: " + r.json()["detail"] == cli_refusal.strip()
        r = httpx.post(server.url + "/api/v1/admin/overrides/1/revoke", json={"reason": "again"}, headers=auth)
        assert r.status_code == 409 and "error: " + r.json()["detail"] == revoke_refusal.strip()
        schema = httpx.get(server.url + "/openapi.json").json()
        assert "409" in schema["paths"]["/api/v1/admin/publish"]["post"]["responses"]
    finally:
        server.stop()
    code, [india] = Cli(two.db).json("check", "IN", "--json")
    assert india["edition"] == 2026  # one person, however often, is one approval: nothing in force
    code, [france] = Cli(two.db).json("check", "FR", "--json")
    assert france["verdict"] == "excluded"


# --- 3. one "today": Amsterdam's calendar day; recorded times in UTC ---------------------------------------------

@pytest.mark.pure
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_today_is_the_day_in_amsterdam_and_a_record_falls_inside_it(moment):
    import os
    from zoneinfo import ZoneInfo

    os.environ[clock.FIXED] = moment.isoformat()
    try:
        today = clock.today()
        assert today == moment.astimezone(ZoneInfo("Europe/Amsterdam")).date()
        assert clock.day_of(clock.stamp()) == today
        assert clock.end_of(today - timedelta(days=1)) <= clock.stamp() < clock.end_of(today)
    finally:
        del os.environ[clock.FIXED]


@pytest.mark.pure
def test_a_clock_that_names_no_instant_is_refused(monkeypatch):
    from fiw.errors import UserError

    for text in ("2027-02-28T23:30:00", "tomorrow"):
        monkeypatch.setenv(clock.FIXED, text)
        with pytest.raises(UserError, match="expected an instant with its offset"):
            clock.today()


@pytest.mark.pure
def test_no_surface_reads_the_machine_clock_but_the_clock_module():
    """One function decides the day: a second `date.today()` or `datetime.now()` is a second answer."""
    package = paths.DATA.parent / "sovereign"
    found = [f"{path.relative_to(package)}:{n}" for path in sorted(package.rglob("*.py"))
             if path.name != "clock.py"
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\bdate\.today\(|\bdatetime\.(now|utcnow|today)\(|\btime\.localtime\(", line)]
    assert found == []


NIGHT = {  # 28 February 2027 in UTC; Amsterdam is an hour ahead (CET)
    "before": "2027-02-28T22:59:00+00:00",  # 23:59 on the 28th in Amsterdam
    "after": "2027-02-28T23:30:00+00:00",   # 00:30 on 1 March in Amsterdam, still the 28th in UTC
}


def test_around_midnight_the_cli_and_the_api_answer_for_the_same_day(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    rehearsal = {clock.FIXED: "2027-02-01T09:00:00+00:00"}
    assert cli("import", str(india_not_free_2027(tmp_path)), env=rehearsal)[0] == 0
    assert cli("people", "add", "Ria de Boer", env=rehearsal)[0] == 0
    code, out, err = cli("publish", "--approved-by", "Ria de Boer", "--effective-from", "2027-03-01", env=rehearsal)
    assert code == 0 and "The clock is fixed by SOVEREIGN_NOW" in err, err
    answers = {}
    for when, instant in NIGHT.items():
        env = {clock.FIXED: instant}
        code, out, err = cli("check", "IN", "--json", env=env)
        india = json.loads(out)[0]
        answers[when] = india
        server = Server(fresh_db, env=env)
        try:
            api = httpx.get(server.url + "/api/v1/check/IN").json()
        finally:
            server.stop()
        assert (api["verdict"], api["as_of"]) == (india["verdict"], india["as_of"]), when
    assert (answers["before"]["verdict"], answers["before"]["as_of"]) == ("eligible", "2027-02-28")
    assert (answers["after"]["verdict"], answers["after"]["as_of"]) == ("excluded", "2027-03-01")


def test_an_override_recorded_after_midnight_in_amsterdam_belongs_to_that_day(fresh_db):
    """Recorded at 23:30 UTC on 28 February, which is 1 March in Amsterdam: it starts on 1 March by default, needs
    no back-date reason for that day, and is known on 1 March, not on 28 February."""
    cli = Cli(fresh_db)
    night = {clock.FIXED: NIGHT["after"]}
    code, out, err = cli("override", "add", "FR", "--reason", "committee decision", "--by", "RI committee", env=night)
    assert code == 0 and "excluded from 2027-03-01" in out, err
    code, _, err = cli("override", "add", "HU", "--reason", "x", "--by", "RI", "--from", "2027-02-28", env=night)
    assert code == 2 and "is before today (2027-03-01)" in err
    code, rows = Cli(fresh_db).json("override", "list", "--json")
    assert rows[0]["valid_from"] == "2027-03-01" and rows[0]["created_at"].startswith("2027-02-28T23:30")
    later = {clock.FIXED: "2027-03-02T12:00:00+00:00"}
    code, out, _ = cli("check", "FR", "--as-of", "2027-03-01", "--as-known-on", "2027-03-01", "--json", env=later)
    assert json.loads(out)[0]["verdict"] == "excluded"
    code, out, _ = cli("check", "FR", "--as-of", "2027-03-01", "--as-known-on", "2027-02-28", "--json", env=later)
    assert json.loads(out)[0]["verdict"] == "eligible"  # on 28 February nobody had recorded it yet
    code, out, _ = cli("override", "list", env=later)
    assert "recorded 2027-03-01" in out
    code, out, _ = cli("audit", "--from", "2027-03-01", "--to", "2027-03-01", "--format", "json", env=later)
    assert [r["action"] for r in json.loads(out)] == ["override add"]
    code, out, _ = cli("audit", "--from", "2027-02-28", "--to", "2027-02-28", "--format", "json", env=later)
    assert json.loads(out) == []  # the UTC date of the record is the 28th; the day it was made is 1 March


# --- 5. impact and the pack: what changes on the effective date against the list in force today -----------------

def test_impact_and_the_pack_count_the_same_changes(fresh_db, tmp_path):
    """France's override is in force today: no change on the effective date, in neither. Hungary's starts before the
    proposal would take effect: a change in both. India: FH's Not Free in the proposal, in both."""
    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "in force already", "--by", "RI committee")[0] == 0
    assert cli("override", "add", "HU", "--reason", "coming", "--by", "RI committee", "--from", day(10))[0] == 0
    assert cli("import", str(india_not_free_2027(tmp_path)))[0] == 0
    book = tmp_path / "book.csv"
    book.write_text("Country,Market value\nFrance,100\nHungary,200\nIndia,300\nGermany,400\n")
    options = ("--column", "Country", "--value-column", "Market value", "--effective-from", day(30))
    code, out, err = cli("impact", str(book), *options, "--format", "json")
    assert code == 0, err
    impact = json.loads(out)
    by_impact = {c["iso2"] for c in impact["newly_excluded"]["countries"]}
    assert by_impact == {"HU", "IN"} and impact["newly_excluded"]["value"] == 500
    pack = tmp_path / "pack.html"
    code, _, err = cli("report", "--version", "54", "--holdings", str(book), *options, "-o", str(pack))
    assert code == 0, err
    html = pack.read_text()
    table = re.search(r'<table id="newly-excluded">(.*?)</table>', html, re.S)
    assert table is not None
    by_pack = set(re.findall(r'data-iso2="([A-Z]{2})"', table.group(1)))
    assert by_pack == by_impact
    assert re.search(r'id="count-out">2<', html)
    moved_out = set(re.findall(r"<tr><td>out</td><td>[^<]* \(([A-Z]{2})\)</td>", html))
    assert moved_out == by_impact  # the pack's own book section: impact, read by the same rule


@pytest.mark.pure
@given(st.datetimes(min_value=datetime(1973, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)))
def test_today_is_the_calendar_day_in_amsterdam_at_every_instant(moment):
    """The shortcut before 22:00 UTC and the time zone agree at every instant, summer time and its changes included."""
    import os

    os.environ[clock.FIXED] = moment.isoformat()
    try:
        assert clock.today() == moment.astimezone(clock.zone()).date()
    finally:
        del os.environ[clock.FIXED]
