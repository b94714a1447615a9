"""The answers as data: the table an engine joins as of a date, the register, the restricted list."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import isin as stdnum_isin

from sovereign import clock, export, lookup, store
from sovereign.settings import Settings
from tests.conftest import india_not_free_2027, member

TODAY = clock.today()
COMPARED = ("verdict", "status", "pr", "cl", "total", "list_version", "edition")


def _iso(d: date) -> str:
    return d.isoformat()


@pytest.fixture
def history(desk, tmp_path):
    """The bundled history, the sample register, committee overrides (one ended, one coming and then revoked) and
    a 2027 list published for a later date that excludes India."""
    assert desk("override", "add", "BR", "--reason", "committee note", "--by", "RI", "--from", "2026-06-01",
                "--until", "2026-08-31", "--backdate-reason", "minutes")[0] == 0
    assert desk("override", "add", "NL", "--reason", "committee note", "--by", "RI",
                "--from", _iso(TODAY + timedelta(days=10)))[0] == 0
    assert desk("override", "revoke", "2", "--by", member(desk), "--reason", "decided again",
                "--from", _iso(TODAY + timedelta(days=40)))[0] == 0
    assert desk("import", str(india_not_free_2027(tmp_path)))[0] == 0
    code, out, err = desk("publish", "--approved-by", member(desk), "--effective-from", _iso(TODAY + timedelta(days=30)))
    assert code == 0, err
    return desk


def _as_of(frame: pl.DataFrame, day: date, mandate: str | None) -> dict[str, dict]:
    rows = frame.filter(pl.col("mandate").eq_missing(mandate) & (pl.col("valid_from") <= day)
                        & (pl.col("valid_to").is_null() | (pl.col("valid_to") > day)))
    out = {r["iso2"] or r["name"]: r for r in rows.iter_rows(named=True)}
    assert len(out) == rows.height, f"two rows for one entity on {day}"
    return out


def _days(conn) -> list[date]:
    """Every edition's first day and the day before, every override's dates, and days inside the intervals."""
    days = set()
    for d in export.change_days(conn):
        day = date.fromisoformat(d)
        days |= {day, day - timedelta(days=1), day + timedelta(days=17)}
    return sorted(d for d in days if _iso(d) >= export.change_days(conn)[0])


@pytest.mark.slow
def test_an_as_of_join_of_the_table_is_what_check_says_on_every_edition_date(history):
    policy = Settings.load().policy
    strict = policy.mandate("strict_pf")
    with store.reader(history.db) as conn:
        frame = export.answers_frame(conn, [None, strict])
        days = _days(conn)
        assert len(days) > 150
        compared = 0
        for mandate in (None, strict):
            for day in days if mandate is None else days[-40:]:
                table = _as_of(frame, day, mandate and mandate.name)
                assert table, day
                keys = sorted(table)
                answers = lookup.check(conn, keys, as_of=day, mandate=mandate)
                for key, a in zip(keys, answers, strict=True):
                    row = table[key]
                    assert {k: row[k] for k in COMPARED} == {k: a[k] for k in COMPARED}, (key, day)
                    assert row["reason"] == "; ".join(a["reasons"]), (key, day)
                    assert (row["no_new_buys_from"], row["divest_by"]) == (
                        _day(a["no_new_buys_from"]), _day(a["divest_by"])), (key, day)
                    assert row["by_committee"] == (" ".join(map(str, a["by_committee"])) or None)
                    up = a["upcoming"] or {}
                    assert (row["upcoming_verdict"], row["upcoming_from"], row["upcoming_list_version"],
                            row["upcoming_no_new_buys_from"], row["upcoming_divest_by"]) == (
                        up.get("verdict"), _day(up.get("effective_from")), up.get("list_version"),
                        _day(up.get("no_new_buys_from")), _day(up.get("divest_by"))), (key, day)
                    compared += 1
        assert compared > 30_000
    # the committee is folded in, and the list published for later is already in the table
    brazil = _as_of(frame, date(2026, 7, 1), None)["BR"]
    assert brazil["verdict"] == "excluded" and brazil["by_committee"] == "1"
    india = _as_of(frame, TODAY + timedelta(days=30), None)["IN"]
    assert india["edition"] == 2027 and india["verdict"] == "excluded"
    assert _as_of(frame, TODAY, None)["IN"]["upcoming_from"] == TODAY + timedelta(days=30)
    # the command's own output, read back through the CLI's check
    code, out, err = history("check", "IN", "--as-of", _iso(TODAY + timedelta(days=31)), "--json")
    assert json.loads(out)[0]["list_version"] == india["list_version"]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@pytest.mark.slow
def test_export_answers_writes_the_table_and_a_manifest_read_back(history, tmp_path):
    out = tmp_path / "warehouse"
    code, stdout, err = history("export", "answers", "-o", str(out), "--mandate", "strict_pf")
    assert code == 0, err
    assert stdout.startswith(f"Wrote {out / 'answers.parquet'}")
    table = pl.read_parquet(out / "answers.parquet")
    assert list(table.columns) == list(export.ANSWER_SCHEMA)
    assert set(table["mandate"].unique().to_list()) == {None, "strict_pf"}
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["files"]["answers.parquet"]
    assert entry["rows"] == table.height
    assert entry["sha256"] == hashlib.sha256((out / "answers.parquet").read_bytes()).hexdigest()
    versions = sqlite3.connect(history.db).execute("SELECT COUNT(*) FROM list_versions").fetchone()[0]
    assert len(manifest["list_versions"]) == versions and len(manifest["database"]["sha256"]) == 64
    code, _, err = history("export", "register", "-o", str(out), "--format", "csv")
    assert code == 0, err
    register = pl.read_csv(out / "register.csv", infer_schema=False)
    connection = sqlite3.connect(history.db)
    isins = connection.execute("SELECT COUNT(*) FROM securities").fetchone()[0]
    leis = connection.execute("SELECT COUNT(*) FROM issuers WHERE lei IS NOT NULL").fetchone()[0]
    assert register.height == isins + leis
    assert register.filter(pl.col("identifier") == "IN0020230010").row(0, named=True) | {} == {
        "identifier": "IN0020230010", "identifier_type": "ISIN", "issuer": "Republic of India", "short_name": None,
        "lei": "INRBISMPL00000000097", "iso2": "IN", "iso3": "IND", "country": "India", "type": "sovereign"}
    both = json.loads((out / "manifest.json").read_text())["files"]
    assert set(both) == {"answers.parquet", "register.csv"}
    code, _, err = history("export", "answers", "-o", str(out / "answers.parquet"))
    assert code == 2 and "is a file" in err


def _restricted(history, tmp_path, *args: str) -> pl.DataFrame:
    path = tmp_path / "restricted.csv"
    code, out, err = history("export", "restricted", "-o", str(path), *args)
    assert code == 0, err
    assert out.startswith(f"Wrote {path}")
    return pl.read_csv(path, infer_schema=False)


def test_every_isin_of_an_excluded_country_is_restricted_with_the_right_dates(history, tmp_path):
    listed = _restricted(history, tmp_path)
    assert list(listed.columns) == list(export.RESTRICTED_SCHEMA)
    with store.reader(history.db) as conn:
        register = export.register_frame(conn)
        days = sorted({TODAY, *(date.fromisoformat(d) for d in export.change_days(conn) if d >= _iso(TODAY))})
        for day in days:
            ids = register["identifier"].to_list()
            answers = lookup.check(conn, ids, as_of=day)
            for identifier, a in zip(ids, answers, strict=True):
                rows = listed.filter((pl.col("identifier") == identifier) & (pl.col("from") <= _iso(day))
                                     & (pl.col("until").is_null() | (pl.col("until") >= _iso(day))))
                assert rows.height == (0 if a["eligible"] else 1), (identifier, day, rows)
                if rows.height:
                    row = rows.row(0, named=True)
                    divest = a["divest_by"]
                    assert row["restriction"] == ("no new buys" if divest and _iso(day) < divest else "sell")
                    assert row["country"] == a["iso2"]  # an unbroken restriction names the newest list carrying it
                    assert int(row["list_version"]) >= a["list_version"]
    # India: published for a later date, with its staging dates
    india = listed.filter(pl.col("identifier") == "IN0020230010").sort("from")
    start = TODAY + timedelta(days=30)
    divest = start + timedelta(days=90)
    assert india.select("restriction", "from", "until").rows() == [
        ("no new buys", _iso(start), _iso(divest - timedelta(days=1))), ("sell", _iso(divest), None)]
    assert india["reason"][0].startswith("Not Free in Freedom in the World 2027")
    # the Netherlands: the committee's exclusion from day 10, revoked from day 40
    dutch = listed.filter(pl.col("country") == "NL").select("restriction", "from", "until").unique().rows()
    assert dutch == [("no new buys", _iso(TODAY + timedelta(days=10)), _iso(TODAY + timedelta(days=39)))]


def test_an_isin_list_from_an_empty_register_is_refused(fresh_db, tmp_path):
    from tests.conftest import Cli

    code, _, err = Cli(fresh_db)("export", "restricted", "-o", str(tmp_path / "r.csv"))
    assert code == 2 and "the issuer register is empty" in err and not (tmp_path / "r.csv").exists()


@pytest.mark.slow
def test_country_level_and_per_mandate_lists_and_text_cells_neutralised(history, tmp_path):
    bad = stdnum_isin.validate("RU000000000" + stdnum_isin.calc_check_digit("RU000000000"))
    assert history("issuers", "add", "=HYPERLINK(\"http://x\")", "--country", "RU", "--type", "agency",
                   "--isin", bad)[0] == 0
    listed = _restricted(history, tmp_path)
    assert listed.filter(pl.col("identifier") == bad)["issuer"].to_list() == ["'=HYPERLINK(\"http://x\")"]
    countries = _restricted(history, tmp_path, "--level", "country")
    assert set(countries["identifier_type"]) == {"country"}
    assert {"CN", "RU", "IN", "TR"} <= set(countries["country"])
    strict = _restricted(history, tmp_path, "--level", "country", "--mandate", "strict_pf")
    assert set(strict["mandate"]) == {"strict_pf"} and strict.height > countries.height
    path = tmp_path / "r.xlsx"
    code, out, err = history("export", "restricted", "-o", str(tmp_path / "r"), "--format", "xlsx",
                             "--mandate", "strict_pf", "--mandate", "min_score_60")
    assert code == 0, err
    assert {p.name for p in tmp_path.glob("r-*.xlsx")} == {"r-strict_pf.xlsx", "r-min_score_60.xlsx"}
    assert not path.exists()
    code, _, err = history("export", "restricted", "-o", str(tmp_path / "r.txt"))
    assert code == 2 and "give a .csv or .xlsx file" in err


@pytest.mark.pure
@given(st.lists(st.tuples(st.integers(1, 40), st.booleans(), st.integers(0, 50)), min_size=1, max_size=8),
       st.booleans())
def test_restrictions_cover_exactly_the_excluded_days_with_the_right_kind(spans, open_end):
    """Any run of intervals: each day of an exclusion has one restriction, "no new buys" before divest-by and
    "sell" from it; an eligible day has none."""
    start, rows, expected = date(2026, 1, 1), [], {}
    for i, (length, eligible, divest_after) in enumerate(spans):
        end = None if open_end and i == len(spans) - 1 else start + timedelta(days=length)
        divest = None if eligible or divest_after == 0 else start + timedelta(days=divest_after)
        rows.append({"iso2": "XX", "name": "X", "eligible": eligible, "valid_from": start, "valid_to": end,
                     "no_new_buys_from": start if divest else None, "divest_by": divest, "reason": f"list {i}",
                     "list_version": i + 1, "edition": 2000 + i, "mandate": None})
        for n in range(length + 5 if end is None else length):
            day = start + timedelta(days=n)
            expected[day] = None if eligible else "no new buys" if divest and day < divest else "sell"
        start = end or start
    frame = pl.DataFrame(rows, schema_overrides={k: export.ANSWER_SCHEMA[k] for k in rows[0]})
    listed = export.country_restrictions(frame, None)
    for day, kind in expected.items():
        covering = listed.filter((pl.col("from") <= day) & (pl.col("until").is_null() | (pl.col("until") >= day)))
        assert covering["restriction"].to_list() == ([] if kind is None else [kind]), day


def test_a_code_two_states_carried_keeps_each_states_own_iso3(desk):
    """CS was Czechoslovakia's and then Serbia and Montenegro's alpha-2: each row carries its own alpha-3, so a
    join on iso3 finds Czechoslovakia under CSK, never under SCG."""
    with store.reader(desk.db) as conn:
        frame = export.answers_frame(conn, [None])
    own = {name: set(frame.filter(pl.col("name") == name)["iso3"].to_list())
           for name in ("Czechoslovakia", "Serbia and Montenegro", "Vietnam, N.", "Germany, E.")}
    assert own == {"Czechoslovakia": {"CSK"}, "Serbia and Montenegro": {"SCG"}, "Vietnam, N.": {"VDR"},
                   "Germany, E.": {"DDR"}}


@pytest.mark.slow
def test_a_place_fh_covers_in_a_parent_s_report_has_its_rows_with_the_parent_s_answer(desk, tmp_path):
    """Puerto Rico is answered from FH's United States report since 2017: the table carries its rows (with
    `covered_by` = US) and the committee's exclusion of the US, so a system joining on ISO2 finds the answer `check
    PR` gives, and its ISINs are on the restricted list while the US is excluded."""
    isin = stdnum_isin.validate("US74514L" + "E86" + stdnum_isin.calc_check_digit("US74514LE86"))
    assert desk("issuers", "add", "Commonwealth of Puerto Rico", "--country", "Puerto Rico", "--type", "sub-sovereign",
                "--isin", isin)[0] == 0
    start, end = TODAY + timedelta(days=5), TODAY + timedelta(days=20)
    assert desk("override", "add", "US", "--reason", "committee note", "--by", "RI", "--from", _iso(start),
                "--until", _iso(end))[0] == 0
    with store.reader(desk.db) as conn:
        frame = export.answers_frame(conn, [None])
        rico = frame.filter(pl.col("iso2") == "PR")
        assert rico.filter(pl.col("edition") >= 2017)["covered_by"].unique().to_list() == ["US"]
        assert rico.filter(pl.col("edition") < 2017)["covered_by"].unique().to_list() == [None]  # rated on its own
        for day in (date(2017, 6, 1), date(2021, 3, 1), TODAY, start, end, end + timedelta(days=1)):
            row = _as_of(frame, day, None)["PR"]
            [a] = lookup.check(conn, ["PR"], as_of=day)
            assert {k: row[k] for k in COMPARED} == {k: a[k] for k in COMPARED}, day
            assert (row["reason"], row["by_committee"], row["covered_by"]) == (
                "; ".join(a["reasons"]), " ".join(map(str, a["by_committee"])) or None, a["covered_by"]), day
            assert row["verdict"] == ("excluded" if start <= day <= end else "eligible"), day
    listed = _restricted(desk, tmp_path)
    rows = listed.filter(pl.col("identifier") == isin)
    assert rows.select("country", "from", "until").unique().rows() == [("PR", _iso(start), _iso(end))], rows
    out = tmp_path / "warehouse"
    assert desk("export", "register", "-o", str(out), "--format", "csv")[0] == 0
    register = pl.read_csv(out / "register.csv", infer_schema=False).filter(pl.col("identifier") == isin)
    assert register.select("iso2", "iso3", "country").rows() == [("PR", "PRI", "Puerto Rico")]


def test_an_issuer_whose_country_no_list_rates_is_restricted_as_check_answers(desk, tmp_path):
    """Bermuda has an ISO code and a government that issues bonds, but Freedom House rates it in no list: `check`
    answers it not eligible (unrated places are excluded), so the restricted list carries its ISIN from the start;
    a system that reads "no row" as "allowed" would otherwise buy it."""
    bond = "BM0000001231"
    code, _, err = desk("issuers", "add", "Government of Bermuda", "--country", "BM", "--type", "sovereign",
                        "--isin", bond)
    assert code == 0, err
    code, [answer] = desk.json("check", bond, "--json")
    assert answer["eligible"] is False
    listed = _restricted(desk, tmp_path).filter(pl.col("identifier") == bond)
    assert listed.height == 1, listed
    row = listed.row(0, named=True)
    assert (row["restriction"], row["country"], row["from"], row["until"]) == ("sell", "BM", None, None)
    assert "rates no such country" in row["reason"]
    rated = _restricted(desk, tmp_path).filter(pl.col("country") == "NL")
    assert rated.is_empty()  # a rated, eligible country's ISINs stay off the list
