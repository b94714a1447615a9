"""Answers right in time: what is coming, what is under review, unknown apart from excluded, a record that
cannot be rewritten, and FH's real publication dates."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from sovereign import clock
from sovereign.api import create_app
from sovereign.settings import Settings
from tests.conftest import Cli, db_fingerprint, india_not_free_2027, member, reseal

TODAY = clock.today()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def propose_india_not_free(cli: Cli, tmp_path) -> None:
    path = india_not_free_2027(tmp_path)
    code, out, err = cli("import", str(path))
    assert code == 0 and "List version 54 for edition 2027: proposed." in out, err


def test_a_proposed_list_is_pending_and_answers_by_version(desk, tmp_path):
    propose_india_not_free(desk, tmp_path)
    code, [india] = desk.json("check", "IN", "--json")
    assert code == 0 and india["verdict"] == "eligible" and india["edition"] == 2026 and india["in_force"]
    assert india["pending"] == {"verdict": "excluded", "eligible": False, "status": "NF", "list_version": 54,
                                "edition": 2027, "state": "proposed", "reason": None,
                                "change": "would exclude"}
    assert india["upcoming"] is None
    code, out, _ = desk("check", "IN")
    assert "under review: proposed list 54 (Freedom in the World 2027) would exclude" in out
    code, [asked] = desk.json("check", "IN", "--version", "54", "--json")
    assert code == 1 and asked["verdict"] == "excluded" and asked["state"] == "proposed" and not asked["in_force"]
    code, out, _ = desk("check", "IN", "--version", "54")
    assert "proposed: NOT IN FORCE" in out
    code, out, _ = desk("list", "--version", "54", "--excluded")
    assert code == 0 and "proposed: NOT IN FORCE" in out and "India" in out
    code, out, err = desk("screen", str(write(tmp_path, "isin\nIN0020230010\n")), "--version", "54")
    assert code == 1 and "against list version 54" in err and ",excluded,false,IN,India," in out


def write(tmp_path, text: str):
    path = tmp_path / "book.csv"
    path.write_text(text)
    return path


def test_an_exclusion_published_six_days_ahead_is_announced_today(desk, tmp_path):
    propose_india_not_free(desk, tmp_path)
    code, out, _ = desk("publish", "--approved-by", member(desk), "--effective-from", day(6))
    assert code == 0 and "1 newly excluded" in out
    code, [india] = desk.json("check", "IN", "--json")
    assert code == 0 and india["verdict"] == "eligible" and india["edition"] == 2026
    divest = (TODAY + timedelta(days=6 + 90)).isoformat()
    assert india["upcoming"] == {"verdict": "excluded", "eligible": False, "status": "NF", "effective_from": day(6),
                                 "list_version": 54, "edition": 2027, "no_new_buys_from": day(6), "divest_by": divest,
                                 "by_committee": []}
    assert india["pending"] is None
    code, out, _ = desk("check", "IN")
    assert f"from {day(6)}, list version 54 (Freedom in the World 2027): NOT ELIGIBLE, no new buys from {day(6)}, " \
           f"divest by {divest}" in out
    code, [later] = desk.json("check", "IN", "--as-of", day(7), "--json")
    assert code == 1 and later["verdict"] == "excluded" and later["edition"] == 2027
    assert later["as_of"] == day(7) and later["as_known_on"] == TODAY.isoformat()
    code, out, _ = desk("check", "IN", "--as-of", day(7))
    assert "a future date: answered from the lists published as of today" in out
    with TestClient(create_app(Settings.load(db=desk.db))) as client:
        body = client.get("/api/v1/check/IN").json()
        assert body["upcoming"] == india["upcoming"] and body["verdict"] == "eligible"
        assert client.get("/api/v1/check/IN", params={"as_of": day(7)}).json()["verdict"] == "excluded"


def test_unknown_is_not_excluded_and_an_unreadable_id_does_not_silence_the_others(desk, tmp_path):
    code, [isin] = desk.json("check", "XS1234567896", "--json")
    assert code == 3 and isin["verdict"] == "unknown" and isin["eligible"] is False
    code, answers = desk.json("check", "NL", "XS1234567896", "--json")
    assert code == 3 and [a["verdict"] for a in answers] == ["eligible", "unknown"]
    code, answers = desk.json("check", "NL", "xyz", "TR", "--json")
    assert code == 2 and [a["verdict"] for a in answers] == ["eligible", None, "excluded"]
    assert answers[1]["query"] == "xyz" and "no country or territory" in answers[1]["error"]
    code, out, err = desk("check", "NL", "xyz", "TR")
    assert code == 2 and "NL: Netherlands (NL) ELIGIBLE" in out and "TR: Turkey (TR) NOT ELIGIBLE" in out
    assert "error: 'xyz'" in err
    ids = write(tmp_path, "NL\n\nXS2100000012\n")
    code, answers = desk.json("check", "--file", str(ids), "--json")
    assert code == 1 and [a["iso2"] for a in answers] == ["NL", "TR"]
    result = __import__("click.testing").testing.CliRunner().invoke(
        __import__("sovereign.cli").cli.main, ["--db", str(desk.db), "check", "-", "--json"], input="DE\nFR\n")
    assert result.exit_code == 0 and '"iso2": "FR"' in result.stdout


def test_a_past_effective_date_needs_a_recorded_reason(desk, tmp_path):
    propose_india_not_free(desk, tmp_path)
    member(desk)
    before = db_fingerprint(desk.db)
    code, _, err = desk("publish", "--approved-by", member(desk), "--effective-from", day(-3))
    assert code == 2 and "give --backdate-reason" in err
    code, _, err = desk("override", "add", "FR", "--reason", "x", "--by", "RI", "--from", day(-3))
    assert code == 2 and "give --backdate-reason" in err
    assert db_fingerprint(desk.db) == before
    code, out, _ = desk("publish", "--approved-by", member(desk), "--effective-from", day(-3),
                        "--backdate-reason", "decided on that day, recorded late")
    assert code == 0
    row = sqlite3.connect(desk.db).execute("SELECT backdate_reason FROM list_versions WHERE id = 54").fetchone()
    assert row == ("decided on that day, recorded late",)
    code, trail = desk.json("audit", "--format", "json")
    publish = next(r for r in trail if r["action"] == "publish")
    assert publish["reason"] == "decided on that day, recorded late" and publish["effective_from"] == day(-3)


def backdate_records(db, days: int) -> None:
    """Move every recorded time back, as if the history had been loaded `days` ago (test set-up only)."""
    conn = sqlite3.connect(db)
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'published_versions_stay'").fetchone()[0]
    with conn:
        conn.execute("DROP TRIGGER published_versions_stay")
        conn.execute(f"UPDATE list_versions SET created_at = datetime(created_at, '-{days} days'), "
                     f"published_at = datetime(published_at, '-{days} days')")
        conn.execute(trigger)
    conn.close()
    reseal(db)


def test_as_known_on_answers_as_the_records_stood(desk):
    backdate_records(desk.db, 30)
    code, _, _ = desk("override", "add", "FR", "--reason", "committee decision", "--by", "RI")
    code, [today] = desk.json("check", "FR", "--json")
    assert code == 1 and today["verdict"] == "excluded" and today["no_new_buys_from"] == TODAY.isoformat()
    code, [yesterday] = desk.json("check", "FR", "--as-known-on", day(-1), "--json")
    assert code == 0 and yesterday["verdict"] == "eligible" and yesterday["as_known_on"] == day(-1)
    code, out, _ = desk("override", "revoke", "1", "--by", member(desk), "--reason", "entered in error")
    assert code == 0
    code, [after] = desk.json("check", "FR", "--json")
    assert after["verdict"] == "eligible"
    code, rows = desk.json("list", "--excluded", "--as-known-on", day(-1), "--format", "json")
    assert "FR" not in {r["iso2"] for r in rows}


def test_revoking_an_override_entered_in_error_makes_it_never_apply(desk):
    code, _, _ = desk("override", "add", "FR", "--reason", "wrong country", "--by", "RI", "--from", "2026-01-01",
                      "--backdate-reason", "minutes of January")
    assert desk.json("check", "FR", "--as-of", "2026-06-01", "--json")[1][0]["verdict"] == "excluded"
    code, out, _ = desk("override", "revoke", "1", "--by", member(desk), "--reason", "entered in error", "--from",
                        "2026-01-01", "--backdate-reason", "it never applied")
    assert code == 0 and "from 2026-01-01" in out
    assert desk.json("check", "FR", "--as-of", "2026-06-01", "--json")[1][0]["verdict"] == "eligible"
    conn = sqlite3.connect(desk.db)
    with pytest.raises(sqlite3.DatabaseError, match="never edited"):
        conn.execute("UPDATE overrides SET revoke_reason = 'changed' WHERE id = 1")


def test_audit_verify_catches_an_edited_or_removed_row(desk, tmp_path):
    propose_india_not_free(desk, tmp_path)
    desk("publish", "--approved-by", member(desk), "--effective-from", day(1))
    desk("override", "add", "FR", "--reason", "x", "--by", "RI")
    code, out, _ = desk("audit", "verify")
    assert code == 0 and "Audit trail: OK" in out
    code, trail = desk.json("audit", "--format", "json")
    assert [r["action"] for r in trail][-5:] == ["issuers import", "import", "person add", "publish", "override add"]
    conn = sqlite3.connect(desk.db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'someone else'")
    conn.execute("DROP TRIGGER audit_append_only_update")
    conn.execute("UPDATE audit SET reason = 'not what was said' WHERE action = 'publish'")
    conn.commit()
    code, out, _ = desk("audit", "verify")
    publish_id = next(r["id"] for r in trail if r["action"] == "publish")
    assert code == 1 and f"audit row {publish_id} (" in out and "edited after it was recorded" in out
    conn.execute("DROP TRIGGER audit_append_only_delete")
    conn.execute("DELETE FROM audit WHERE id = 1")
    conn.commit()
    code, out, _ = desk("audit", "verify")
    assert code == 1 and "audit row 2" in out and "does not follow the row before it" in out


@pytest.mark.parametrize("query,on,edition,verdict", [
    ("GM", "1993-12-15", 1992, "eligible"),   # the 1993-94 survey was released at a news conference on 16 Dec 1993
    ("GM", "1995-12-31", 1994, "excluded"),   # FH's 1994-95 survey, covering the July 1994 coup
    ("SU", "1990-06-01", 1989, "excluded"),   # the USSR's own rating, not "not rated"
    ("DDR", "1990-01-30", 1988, "excluded"),  # 1989-90: year-end rule, 31 January 1990
    ("DDR", "1990-06-01", 1989, "excluded"),
    ("TR", "2018-01-15", 2017, "eligible"),   # FIW.md section 2: Turkey Not Free from 16 January 2018
    ("TR", "2018-01-16", 2018, "excluded"),
    ("TR", "2018-01-25", 2018, "excluded"),
    ("RU", "2004-12-19", 2004, "eligible"),   # Russia Not Free from 20 December 2004
    ("RU", "2005-01-10", 2005, "excluded"),
    ("ET", "2011-01-12", 2010, "eligible"),   # Ethiopia Not Free in the 2011 edition, released 13 January 2011
    ("ET", "2011-02-01", 2011, "excluded"),
    ("EG", "2014-01-22", 2013, "eligible"),   # Egypt Not Free in the 2014 edition, released 23 January 2014
    ("EG", "2014-02-01", 2014, "excluded"),
    ("TH", "2025-02-25", 2024, "eligible"),   # FH published the 2025 edition on 26 February 2025
    ("TH", "2025-02-26", 2025, "excluded"),
])
def test_lists_take_effect_when_fh_published_them(cli, query, on, edition, verdict):
    code, [a] = cli.json("check", query, "--as-of", on, "--json")
    assert (a["edition"], a["verdict"]) == (edition, verdict) and a["status"] is not None


@pytest.mark.slow
def test_an_older_database_is_carried_forward(tmp_path, monkeypatch):
    """Lists loaded with the old 1 March dates are withdrawn, as records, and published again on FH's dates."""
    from sovereign import pipeline

    db = tmp_path / "sovereign.db"
    cli = Cli(db)
    monkeypatch.setattr(pipeline, "published", lambda edition: date(edition, 3, 1))
    assert cli("refresh")[0] == 0
    code, [gambia] = cli.json("check", "GM", "--as-of", "1994-05-01", "--json")
    assert gambia["edition"] == 1994 and gambia["verdict"] == "excluded"  # the old answer, a survey not yet out
    monkeypatch.undo()
    code, out, err = cli("refresh")
    assert code == 0, err
    conn = sqlite3.connect(db)
    withdrawn = conn.execute("SELECT COUNT(*) FROM withdrawals").fetchone()[0]
    assert withdrawn == 52  # every edition but 2026, whose list already took effect on 1 March 2026
    assert conn.execute("SELECT COUNT(*) FROM list_versions").fetchone()[0] == 53 + 52
    code, [gambia] = cli.json("check", "GM", "--as-of", "1994-05-01", "--json")
    assert gambia["edition"] == 1993 and gambia["verdict"] == "eligible"  # 1993-94, released 16 December 1993
    code, [turkey] = cli.json("check", "TR", "--as-of", "2018-01-25", "--json")
    assert turkey["edition"] == 2018 and turkey["verdict"] == "excluded"
    code, [asked] = cli.json("check", "GM", "--version", "22", "--json")
    assert asked["edition"] == 1994 and not asked["in_force"]  # the withdrawn version is still on record
    code, report = cli.json("verify", "--json")
    assert code == 0


def test_a_schema_4_database_is_migrated_and_keeps_its_records(tmp_path):
    from sovereign import store
    from sovereign.store.schema import MIGRATIONS, statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO overrides (iso2, reason, decided_by, valid_from, created_at, revoked_at, revoked_by) "
                 "VALUES ('FR', 'r', 'RI', '2026-01-01', '2026-01-02T10:00:00+00:00', '2026-02-03T10:00:00+00:00', "
                 "'RI')")
    conn.commit()
    conn.close()
    with store.writer(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        row = db.execute("SELECT created_at, revoked_at, revoked_from, revoke_reason FROM overrides").fetchone()
    assert row == ("2026-01-02T10:00:00+00:00", "2026-02-03T10:00:00+00:00", "2026-02-03",
                   "revoked before revocation reasons were recorded")


@pytest.mark.parametrize(("code", "asked", "ends"), [("CS", "1992-12-01", "1993-01-01"), ("SU", "1991-12-01", "1991-12-26")])
def test_a_state_about_to_cease_announces_the_day_it_ends(fresh_db, code, asked, ends):
    """A desk asking in December 1992 about Czechoslovakia is told what is coming: from 1 January 1993 it is not
    eligible (it ceased), on the same days the exported answers change."""
    from sovereign import export, store

    code_, [answer] = Cli(fresh_db).json("check", code, "--as-of", asked, "--json")
    assert answer["eligible"] is True, answer
    assert (answer["upcoming"]["effective_from"], answer["upcoming"]["eligible"]) == (ends, False)
    with store.reader(fresh_db) as conn:
        assert ends in export.change_days(conn)
