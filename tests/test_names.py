"""Answers a reader understands: places FH assesses inside another report, negative PR, territories judged
on their own status."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("query,edition,verdict,status,words", [
    ("PR", 2020, "eligible", "F", "no longer rated separately: FH covers Puerto Rico in its United States report"),
    ("Puerto Rico", 2016, "eligible", "F", "judged on its own status"),  # still rated on its own then
    ("MO", 2020, "excluded", None, "Not rated in Freedom in the World 2020"),  # no FH source for "within China"
    ("Chechnya", 2015, "excluded", "NF", "no longer rated separately: FH covers Chechnya in its Russia report"),
    ("Chechnya", 2005, "excluded", "NF", "Territory with no ISO code of its own"),  # rated apart then
    ("Nagorno-Karabakh", 2025, "excluded", "NF", "FH covers Nagorno-Karabakh in its Azerbaijan report"),
    ("Crimea", 2025, "excluded", "NF", "FH covers Crimea in its Russian-Occupied Territories of Ukraine report"),
    ("Eastern Donbas", 2025, "excluded", "NF", "FH covers Eastern Donbas in its Russian-Occupied Territories"),
    ("Northern Ireland", 2010, "excluded", "F", "FH covers Northern Ireland in its United Kingdom report"),
])
def test_places_fh_assesses_inside_another_report(cli, query, edition, verdict, status, words):
    code, [a] = cli.json("check", query, "--edition", str(edition), "--json")
    assert (a["verdict"], a["status"], a["kind"]) == (verdict, status, "territory") and words in a["reasons"][-1]
    assert "not rated" not in a["reasons"][-1] or query == "MO"


@pytest.mark.parametrize("query,edition", [("Crimea", 2010), ("Tibet", 1980), ("Somaliland", 2005), ("MO", 2020)])
def test_a_territory_fh_does_not_rate_in_an_edition_stays_a_territory(cli, query, edition):
    code, [a] = cli.json("check", query, "--edition", str(edition), "--json")
    assert (a["kind"], a["eligible"], a["status"]) == ("territory", False, None)


def test_kosovo_s_parent_is_the_state_fh_rated_then(cli):
    for edition, parent in ((2003, "Yugoslavia"), (2004, "Serbia and Montenegro")):
        code, [a] = cli.json("check", "Kosovo", "--edition", str(edition), "--json")
        assert f"whatever its parent {parent}'s status (Free)" in a["reasons"][-1]


def test_a_negative_pr_and_a_territory_say_why(cli):
    code, [syria] = cli.json("check", "Syria", "--edition", "2017", "--json")
    assert "PR -3/40 (below zero because FH deducts up to 4 points (Add Q)" in syria["reasons"][0]
    code, [hk] = cli.json("check", "Hong Kong", "--edition", "2026", "--json")
    assert "judged on its own status (policy: territories = own), whatever its parent China's status (Not Free)" \
        in hk["reasons"][0]


@pytest.mark.parametrize("typed,iso2", [
    ("Korea, Rep.", "KR"), ("Egypt, Arab Rep.", "EG"), ("Iran, Islamic Rep.", "IR"), ("Congo, Dem. Rep.", "CD"),
    ("Yemen, Rep.", "YE"), ("Iran, Islamic Republic of", "IR"), ("Venezuela, Bolivarian Republic of", "VE"),
    ("Tanzania, United Republic of", "TZ"), ("Moldova, Republic of", "MD"), ("Bolivia (Plurinational State of)", "BO"),
    ("PRC", "CN"), ("Hong Kong SAR", "HK"), ("Hong Kong, China", "HK"), ("Zaire", "CD"), ("Russian Fed.", "RU"),
    ("Duitsland", "DE"), ("Frankrijk", "FR"), ("Verenigd Koninkrijk", "GB"), ("Hongarije", "HU"),
    ("Zuid-Afrika", "ZA"), ("Deutschland", "DE"), ("Royaume-Uni", "GB"), ("Saint Lucia", "LC"),
    ("Brunei Darussalam", "BN"), ("Micronesia, Federated States of", "FM"), ("Gambia, The", "GM"),
    ("Slovak Republic", "SK"), ("Lao PDR", "LA"), ("Korea, Dem. People's Rep.", "KP"), ("Kyrgyz Republic", "KG"),
])
def test_vendor_iso_and_dutch_spellings(cli, typed, iso2):
    code, [a] = cli.json("check", typed, "--edition", "2026", "--json")
    assert a["iso2"] == iso2, typed


def test_a_name_that_means_two_places_is_an_error_naming_both(cli, tmp_path):
    code, out, err = cli("check", "Congo")
    assert code == 2 and "'Congo' names more than one country" in err and "(CD)" in err and "(CG)" in err
    book = tmp_path / "book.csv"
    book.write_text("country\nCongo\nNetherlands\n")
    code, out, err = cli("screen", str(book))
    assert "unknown" in out.splitlines()[1] and "names more than one country" in out.splitlines()[1]


def test_no_pattern_turns_a_territory_into_its_parent(cli):
    code, out, err = cli("check", "Kashmir (India)")
    assert code == 2 and "(IN)" not in out


def test_suggestions_never_offer_a_former_state_for_a_present_day_name(loaded_db):
    import sqlite3

    from sovereign.resolve import Resolver

    conn = sqlite3.connect(f"file:{loaded_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    hint = Resolver(conn)._hint("Yemenn")
    assert "Yemen" in hint and "Yemen, N." not in hint and "Yemen, S." not in hint


def test_every_name_the_sources_give_lands_where_they_say(loaded_db):
    """Each spelling in data/names.csv (pycountry, CLDR in four languages, country_converter, curated)
    resolves to the country its sources name, or is an error listing the candidates when they disagree."""
    import csv
    import sqlite3

    from fiw.errors import NotFound
    from sovereign import paths
    from sovereign.resolve import Resolver

    conn = sqlite3.connect(f"file:{loaded_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    resolver = Resolver(conn)
    fh_names = {r["fh_name"].casefold() for r in conn.execute("SELECT fh_name FROM countries")}
    wrong = []
    with open(paths.NAMES, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 900 and {"cldr-nl", "cldr-de", "cldr-fr", "pycountry", "country_converter", "curated"} <= {
        s for r in rows for s in r["sources"].split()}
    for row in rows:
        codes = row["iso2"].split("|")
        try:
            target = resolver.resolve(row["name"])
        except NotFound as exc:
            if len(codes) == 1 or "names more than one country" not in str(exc):
                wrong.append((row["name"], codes, str(exc)[:80]))
            continue
        if len(codes) > 1 or (target.iso2 not in codes and row["name"].casefold() not in fh_names):
            wrong.append((row["name"], codes, target.iso2))
    assert wrong == []


@pytest.mark.parametrize("query,name,predecessors", [
    ("RS", "Serbia", {"Serbia and Montenegro", "Yugoslavia"}),
    ("RU", "Russia", {"USSR"}),
    ("CZ", "Czechia", {"Czechoslovakia"}),
    ("SK", "Slovakia", {"Czechoslovakia"}),
    ("DE", "Germany", {"Germany, W."}),
    ("YE", "Yemen", {"Yemen, N."}),
    ("VN", "Vietnam", {"Vietnam, N."}),
    ("CSK", "Czechoslovakia", set()),
])
def test_history_shows_the_states_a_country_succeeded(cli, query, name, predecessors):
    code, out, _ = cli("history", query)
    assert out.splitlines()[0].startswith(f"{name} (")
    code, rows = cli.json("history", query, "--json")
    assert {r["predecessor"] and r["name"] for r in rows} - {None} == predecessors
    assert "Serbia and Montenegro" not in {r["name"] for r in rows} or query == "RS"
    assert "Vietnam, S." not in {r["name"] for r in rows}  # South Vietnam is not Vietnam's predecessor
    editions = [r["edition"] for r in rows]
    assert editions == sorted(editions)


def test_south_africa_1973_is_judged_as_a_whole_country(cli):
    code, [za] = cli.json("check", "ZA", "--edition", "1973", "--json")
    assert (za["verdict"], za["status"], za["pr_rating"], za["cl_rating"]) == ("excluded", "NF", 5, 6)
