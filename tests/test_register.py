"""A real issuer register: LEI optional, merge or replace, vendor exports, names as lookup keys."""

from __future__ import annotations

import pytest

from sovereign import paths
from tests.conftest import Cli


@pytest.fixture
def desk(fresh_db) -> Cli:
    return Cli(fresh_db)


def test_the_sample_register_covers_thirty_countries_and_answers_by_name(desk):
    code, out, err = desk("issuers", "import", str(paths.ISSUERS))
    assert code == 0, err
    code, rows = desk.json("issuers", "list", "--json")
    assert len({r["country"] for r in rows if r["country"]}) >= 30
    assert sum(1 for r in rows if not r["lei"]) >= 5  # sovereigns without an LEI are keyed by name
    code, answers = desk.json("check", "Republic of Turkiye", "EIB", "KfW", "UST", "--json")
    assert [(a["iso2"], a["verdict"]) for a in answers] == [("TR", "excluded"), (None, "eligible"), ("DE", "eligible"),
                                                             ("US", "eligible")]
    assert answers[1]["kind"] == "supranational"


def test_an_issuer_without_an_lei_is_added_and_asked_by_name(desk):
    code, out, err = desk("issuers", "add", "Tesoro de Chile", "--country", "Chile", "--type", "sovereign",
                          "--isin", "US168863DA14")
    assert code == 0 and "Issuer added: Tesoro de Chile (CL, sovereign); ISINs US168863DA14" in out, err
    code, [a] = desk.json("check", "Tesoro de Chile", "--json")
    assert a["iso2"] == "CL" and a["issuer"]["lei"] is None and a["verdict"] == "eligible"
    code, [bond] = desk.json("check", "US168863DA14", "--json")
    assert bond["iso2"] == "CL"
    code, out, _ = desk("issuers", "remove", "Tesoro de Chile")
    assert code == 0
    code, [bond] = desk.json("check", "US168863DA14", "--json")
    assert bond["verdict"] == "unknown" and "the issuer register is empty" in bond["reasons"][0]


def test_a_vendor_export_one_row_per_isin_merges_and_replace_replaces(desk, tmp_path):
    assert desk("issuers", "import", str(paths.ISSUERS))[0] == 0
    export = tmp_path / "vendor.csv"
    export.write_text("ISIN,Issuer Name,Risk Ctry,LEI,Coupon\n"
                      "XS1600000019,State of Kuwait,Kuwait,KWMOFSMPL00000000058,3.5\n"
                      "US900123AB18,Republic of Turkiye,Türkiye,TRHAZINESMPL00000012,5.1\n"
                      "XS2100000012,Republic of Turkiye,Türkiye,TRHAZINESMPL00000012,4.0\n")
    code, _, err = desk("issuers", "import", str(export))
    assert code == 2 and "country (one of" in err and "or --map" in err
    code, out, err = desk("issuers", "import", str(export), "--map", "Risk Ctry=country", "--type", "sovereign")
    assert code == 0 and "merged with vendor.csv: 2 issuers, 3 ISINs" in out, err
    code, rows = desk.json("issuers", "list", "--json")
    assert len(rows) > 30  # merged: the others stayed
    code, out, err = desk("issuers", "import", str(export), "--map", "Risk Ctry=country", "--type", "sovereign",
                          "--replace")
    code, rows = desk.json("issuers", "list", "--json")
    assert sorted(r["name"] for r in rows) == ["Republic of Turkiye", "State of Kuwait"]
    turkey = next(r for r in rows if r["name"] == "Republic of Turkiye")
    assert sorted(turkey["isins"].split()) == ["US900123AB18", "XS2100000012"]


def test_history_of_an_isin_follows_it_to_its_country(desk):
    desk("issuers", "import", str(paths.ISSUERS))
    code, out, _ = desk("history", "XS2100000012")
    assert code == 0 and "issued by Republic of Turkiye (sovereign)" in out and "(TR): 53 editions" in out


BAD_ISSUERS = [  # (issuer, country, type, LEI, ISIN) as a vendor's export carries them, and why each is refused
    ("Bank of Nowhere", "Narnia", "agency", "", "XS1600000019",
     "expected the issuer's country (ISO code or name), found 'Narnia'"),
    ("European Investment Bank", "LU", "supranational", "", "XS1600000019",
     "a supranational issuer has no country (found 'LU')"),
    ("Spain", "ES", "agency", "", "XS1600000019", "'Spain' is the name of the sovereign of ES"),
    ("Nederlandse Staat", "NL", "sovereign", "NLDSTASMPL0000000056", "XS1600000019",
     "'NLDSTASMPL0000000056' is not a valid LEI"),
    ("Kommunalbanken", "NO", "agency", "", "XS1234567891", "'XS1234567891' is not a valid ISIN (check digit)"),
]


@pytest.mark.parametrize("issuer, country, kind, lei, isin, why", BAD_ISSUERS, ids=[b[0] for b in BAD_ISSUERS])
def test_a_register_row_and_issuers_add_are_refused_by_the_same_rule(desk, tmp_path, issuer, country, kind, lei, isin,
                                                                     why):
    export = tmp_path / "vendor.csv"
    export.write_text("Issuer Name,Country of Risk,Issuer Type,LEI,ISIN\n"
                      "Kingdom of Norway,NO,sovereign,,\n"
                      f"{issuer},{country},{kind},{lei},{isin}\n", encoding="utf-8")
    code, _, err = desk("issuers", "import", str(export))
    assert code == 2 and "line 3, column " in err and why in err, err
    options = ["--country", country, "--type", kind] + (["--lei", lei] if lei else [])
    code, _, err = desk("issuers", "add", issuer, *options, "--isin", isin)
    assert code == 2 and why in err and "Traceback" not in err, err
    assert desk.json("issuers", "list", "--json")[1] == []


def test_a_type_no_register_knows_is_named_with_its_line(desk, tmp_path):
    export = tmp_path / "vendor.csv"
    export.write_text("Issuer Name,Country of Risk,Issuer Type\nKingdom of Norway,NO,sovereign\nKommunalbanken,NO,bank\n")
    code, _, err = desk("issuers", "import", str(export))
    assert code == 2 and "line 3, column 'type': expected one of sovereign, agency, sub-sovereign, supranational, " \
                         "found 'bank'" in err, err
