"""The yearly diff on the real editions, in every format."""

from __future__ import annotations

import polars as pl
import pytest


def _names(rows, key="name"):
    return sorted(r[key] for r in rows)


def test_2024_to_2025(cli):
    code, d = cli.json("diff", "--from", "2024", "--to", "2025", "--format", "json")
    assert code == 0
    assert _names(d["newly_excluded"]) == ["Kuwait", "Niger", "Tanzania", "Thailand"]
    assert _names(d["newly_eligible"]) == ["Jordan"]
    assert [(r["name"], r["status_before"], r["status_after"]) for r in d["status_changes"]] == [
        ("Bhutan", "PF", "F"), ("Senegal", "PF", "F")]
    assert _names(d["entities_dropped"]) == ["Crimea", "Eastern Donbas", "Nagorno-Karabakh"]
    assert _names(d["entities_added"]) == ["Russian-Occupied Territories of Ukraine"]
    assert all(e["note"] == "territory: no effect on the list" for e in d["entities_added"] + d["entities_dropped"])
    assert d["renamed"] == []
    thailand = next(r for r in d["newly_excluded"] if r["iso2"] == "TH")
    assert thailand["reason"] == "Partly Free -> Not Free: PR 12 -> 11 took the PR rating from 5 to 6"
    assert (thailand["pr_before"], thailand["pr_after"], thailand["total_before"], thailand["total_after"]) == (12, 11, 36, 34)
    assert d["summary"]["newly_excluded"] == 4 and d["summary"]["newly_eligible"] == 1
    assert d["attribution"] == "Source: Freedom House, Freedom in the World 2025"


def test_2025_to_2026_renames_are_not_exits(cli):
    code, d = cli.json("diff", "--from", "2025", "--to", "2026", "--format", "json")
    assert d["newly_excluded"] == [] and d["newly_eligible"] == []
    assert [(r["name"], r["status_before"], r["status_after"]) for r in d["status_changes"]] == [
        ("Bolivia", "PF", "F"), ("Fiji", "PF", "F"), ("Malawi", "PF", "F")]
    renamed = {r["name_before"]: r["name_after"] for r in d["renamed"]}
    assert renamed == {"Czech Republic": "Czechia", "Cote d'Ivoire": "Côte d'Ivoire",
                       "Congo (Brazzaville)": "Republic of the Congo", "Congo (Kinshasa)": "Democratic Republic of the Congo",
                       "Bahamas": "The Bahamas", "Sao Tome and Principe": "São Tomé and Príncipe"}
    assert not {"CZ", "CI", "CG", "CD", "BS", "ST"} & {r["iso2"] for r in d["entities_added"] + d["entities_dropped"]}


def test_a_version_against_itself_changes_nothing(cli):
    code, d = cli.json("diff", "--from", "2026", "--to", "2026", "--format", "json")
    assert code == 0 and d["newly_excluded"] == d["newly_eligible"] == d["status_changes"] == d["renamed"] == []


def test_default_diff_is_the_newest_version_against_the_one_before(cli):
    code, d = cli.json("diff", "--format", "json")
    assert (d["from"]["edition"], d["to"]["edition"]) == (2025, 2026)
    code, d = cli.json("diff", "--from", "v51", "--to", "v52", "--format", "json")
    assert (d["from"]["edition"], d["to"]["edition"]) == (2024, 2025)


def test_watchlist(cli):
    code, d = cli.json("diff", "--from", "2024", "--to", "2025", "--format", "json")
    by = {(w["iso2"], w["category"]): w for w in d["watchlist"]}
    pakistan = by[("PK", "one step from exclusion")]
    assert pakistan["pr_rating_after"] + pakistan["cl_rating_after"] == 10
    assert pakistan["text"].startswith("PR 12: 1 point lower gives PR rating 6 -> Not Free")
    thailand = by[("TH", "close to re-entry")]
    assert thailand["text"].startswith("PR 11: 1 point higher gives PR rating 5 -> Partly Free")
    assert all(w["eligible_after"] for w in d["watchlist"] if w["category"] != "close to re-entry")
    assert all(w["status_after"] == "NF" for w in d["watchlist"] if w["category"] == "close to re-entry")


def test_per_mandate_movers_name_the_rule_and_the_direction(cli):
    code, d = cli.json("diff", "--from", "2025", "--to", "2026", "--format", "json")
    m = d["mandates"]["min_score_60"]
    nepal = next(r for r in m["newly_excluded"] if r["name"] == "Nepal")
    assert nepal["direction"] == "out" and nepal["reason"] == "mandate min_score_60: Total 59/100 is below the minimum of 60"
    sri_lanka = next(r for r in m["newly_eligible"] if r["name"] == "Sri Lanka")
    assert sri_lanka["direction"] == "in" and sri_lanka["reason"].startswith("now meets mandate min_score_60's rules")
    assert "FH's published status changed" not in str(m)
    code, out, _ = cli("diff", "--from", "2025", "--to", "2026", "--format", "md")
    assert "| out | NP |" in out and "| in | LK |" in out


def test_one_definition_of_the_counts_on_every_surface(cli, tmp_path):
    code, d = cli.json("diff", "--from", "2025", "--to", "2026", "--format", "json")
    assert (d["summary"]["after"]["eligible"], d["summary"]["after"]["excluded"]) == (136, 59)
    assert d["counts_definition"].startswith("Counts are of countries")
    code, versions = cli.json("versions", "--format", "json")
    assert (versions[-1]["eligible"], versions[-1]["excluded"]) == (136, 59)
    code, out, _ = cli("exclusion-list", "--lang", "en", "-o", str(tmp_path / "x.csv"))
    assert "59 excluded countries" in _
    code, out, _ = cli("diff", "--from", "2025", "--to", "2026", "--format", "md")
    assert "Counts are of countries" in out


def test_a_reversed_diff_says_so(cli):
    code, out, err = cli("diff", "--from", "2026", "--to", "2025", "--format", "md")
    assert code == 0 and "read every change backwards" in err and "read every change backwards" in out


def test_per_mandate_impact(cli):
    code, d = cli.json("diff", "--from", "2024", "--to", "2025", "--format", "json")
    strict = d["mandates"]["strict_pf"]
    # Under strict_pf Partly Free was already excluded: Thailand changes nothing; Bhutan and Senegal come in.
    assert _names(strict["newly_eligible"]) == ["Bhutan", "Senegal"]
    assert strict["newly_excluded"] == []
    assert strict["eligible_after"] <= d["summary"]["after"]["eligible"]


def test_markdown_and_xlsx(cli, tmp_path):
    code, out, _ = cli("diff", "--from", "2024", "--to", "2025", "--format", "md")
    assert "| TH | Thailand | PF | NF |" in out and "Source: Freedom House, Freedom in the World 2025" in out
    path = tmp_path / "d.xlsx"
    code, _, err = cli("diff", "--from", "2024", "--to", "2025", "--format", "xlsx", "-o", str(path))
    assert code == 0
    sheet = pl.read_excel(path, sheet_name="Newly excluded")
    assert sorted(sheet["Country"]) == ["Kuwait", "Niger", "Tanzania", "Thailand"]
    assert {"No new buys from", "Divest by", "Issuers and securities", "Why"} <= set(sheet.columns)
    summary = pl.read_excel(path, sheet_name="Summary")
    assert "Source: Freedom House, Freedom in the World 2025" in summary["Value"].to_list()
    full = pl.read_excel(path, sheet_name="Full list")
    assert full.height == 209 and "Thailand" in full["Country"].to_list()  # FH's 208 and Puerto Rico (US report)
    policy = pl.read_excel(path, sheet_name="Policy")
    assert "strict_pf" in policy["Mandate"].to_list()
    names = __import__("fastexcel").read_excel(path).sheet_names
    assert "Renamed" not in names or pl.read_excel(path, sheet_name="Renamed").height  # no empty sheets
    code, _, err = cli("diff", "--format", "xlsx")
    assert code == 2 and "needs -o" in err


@pytest.mark.parametrize("args,message", [
    (["diff", "--from", "2002"], "no such list version"),
    (["diff", "--from", "last year"], "expected an edition (2025) or a list version id (v54)"),
])
def test_bad_diff_arguments(cli, args, message):
    code, _, err = cli(*args)
    assert code == 2 and message in err


@pytest.mark.pure
def test_the_pure_diff_of_fh_2024_and_2025():
    """The pure core on its own: evaluate two real editions, diff them, no database."""
    from sovereign.diff import compute
    from sovereign.eligibility import evaluate
    from sovereign.pipeline import prepare, read_bundled
    from sovereign.policy import Policy

    tidy, *_ = read_bundled()
    scored = prepare(tidy.filter(pl.col("edition").is_in([2024, 2025])), "bundled")
    versions = [{"edition": e, "id": i, "state": "published", "effective_from": f"{e}-03-01", "policy": "{}"}
                for i, e in ((1, 2024), (2, 2025))]
    d = compute(versions[0], evaluate(scored, Policy(), 2024), versions[1], evaluate(scored, Policy(), 2025))
    assert sorted(r["name"] for r in d["newly_excluded"]) == ["Kuwait", "Niger", "Tanzania", "Thailand"]
    thailand = next(r for r in d["newly_excluded"] if r["name"] == "Thailand")
    assert thailand["reason"].startswith("Partly Free -> Not Free")
    assert d["attribution"] == "Source: Freedom House, Freedom in the World 2025"


def test_the_xlsx_pack_names_an_active_override(fresh_db, tmp_path):
    from tests.conftest import Cli

    cli = Cli(fresh_db)
    assert cli("override", "add", "Hungary", "--reason", "rule of law", "--by", "RI committee")[0] == 0
    path = tmp_path / "pack.xlsx"
    assert cli("diff", "--format", "xlsx", "-o", str(path))[0] == 0
    overrides = pl.read_excel(path, sheet_name="Overrides")
    assert overrides.filter(pl.col("ISO2") == "HU")["In force on the date"].to_list() == [True]
    assert pl.read_excel(path, sheet_name="Full list").height == 208  # FH's 207 and Puerto Rico (US report)
