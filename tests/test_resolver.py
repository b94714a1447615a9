"""One resolver behind every surface: `check` and `screen` agree on every key we know (the whole name and
code corpus), on every date
and under every mandate, and a code of a former state never answers for another state."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign import clock, paths
from sovereign.policy import load_policy
from sovereign.resolve import Resolver, aliases, country_code
from tests.conftest import Cli
from tests.test_places import corpus

# each past date takes over 5 s (every key, every mandate): in the full suite; today stays in the inner loop
DATES = (*(pytest.param(on, marks=pytest.mark.slow) for on in ("1975-06-01", "1992-06-01", "2004-06-01")),
         clock.today().isoformat())
AWKWARD = ["CSK", "SCG", "CS", "SUN", "SU", "YUG", "YU", "DDR", "DD", "USSR", "Yugoslavia", "Czechoslovakia",
           "Serbia and Montenegro", "Germany, E.", "Germany, W.", "Vietnam, S.", "Yemen, N.", "Yemen, S.", "RS", "SRB",
           "Kosovo", "XKX", "Türkiye", "cote d\u2019ivoire", "Ivory Coast", "DRC", "Congo (Brazzaville)",
           "Hong Kong", "HKG", "Indian Kashmir", "Tibet", "Greenland", "GL", "NA", "nld", "Burma", "Swaziland",
           "XS2100000012", "XS1900000016", "NL0000000008", "NLDSTASMPL0000000055", "XS1234567891", "Narnia", ""]


@pytest.fixture(scope="module")
def desk(tmp_path_factory, loaded_db):
    path = tmp_path_factory.mktemp("resolver") / "sovereign.db"
    src, dst = sqlite3.connect(loaded_db), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    shutil.copy2(loaded_db.parent / "sovereign.key", path.parent / "sovereign.key")  # the key travels with its copy
    cli = Cli(path)
    assert cli("issuers", "import", str(paths.ISSUERS))[0] == 0
    return cli


def every_key(db) -> list[str]:
    """What the mapping, the ISO table, the aliases and the register can be asked by, plus awkward input."""
    conn = sqlite3.connect(db)
    keys = set(AWKWARD) | set(aliases()) | set(corpus()) | {"North Cyprus", "South Yemen", "Guinea Ecuatorial",
                                                          "the Congo", "Niger Delta", "Korea, Rep.", "k" * 300}
    for table, columns in (("countries", ("fh_name", "iso2", "iso3")), ("iso_codes", ("iso2", "iso3", "name")),
                           ("securities", ("isin",)), ("issuers", ("lei",))):
        for column in columns:
            keys |= {r[0] for r in conn.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")}
    return sorted(keys)


@pytest.mark.parametrize("on", DATES)
def test_check_and_screen_agree_on_every_key_date_and_mandate(desk, tmp_path, on):
    keys = every_key(desk.db)
    readable, errors = [], {}
    conn = sqlite3.connect(f"file:{desk.db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    resolver = Resolver(conn)
    for key in keys:
        try:
            resolver.resolve(key)
            readable.append(key)
        except Exception as exc:  # the user errors check would print
            errors[key] = str(exc)
    assert len(readable) > 700 and {"", "Narnia", "XS1234567891"} <= set(errors)
    holdings = tmp_path / "book.csv"
    with open(holdings, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id"], *[[k] for k in keys]])
    for mandate in (None, *(m.name for m in load_policy(paths.POLICY, country_code).mandates)):
        extra = ["--mandate", mandate] if mandate else []
        code, answers = desk.json("check", *readable, "--as-of", on, *extra, "--json")
        by_check = {a["query"]: (a["eligible"], a["iso2"], a["status"]) for a in answers}
        code, out, err = desk("screen", str(holdings), "--column", "id", "--as-of", on, *extra)
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == len(keys)
        for row in rows:
            key = row["id"]
            screened = (row["eligible"] == "true", row["iso2"] or None, row["status"] or None)
            if key in errors:
                assert screened == (False, None, None), key
                assert (errors[key] if key else "blank row") in row["reason"], key
            else:
                assert screened == by_check[key], (key, on, mandate)


@pytest.mark.parametrize("query,on,name,eligible,status", [
    ("CSK", "2004-06-01", "Czechoslovakia", False, None),  # ceased to exist on 1 January 1993
    ("CSK", "1980-06-01", "Czechoslovakia", False, "NF"),
    ("SCG", "1975-06-01", "Serbia and Montenegro", False, None),
    ("SCG", "2004-06-01", "Serbia and Montenegro", True, "F"),
    ("CS", "1980-06-01", "Czechoslovakia", False, "NF"),
    ("CS", "2004-06-01", "Serbia and Montenegro", True, "F"),
    ("CS", "1995-06-01", "Czechoslovakia or Serbia and Montenegro", False, None),
    ("SUN", "1985-06-01", "USSR", False, "NF"),
    ("DDR", "1980-06-01", "Germany, E.", False, "NF"),
    ("YUG", "1985-06-01", "Yugoslavia", True, "PF"),
    ("YUG", "2004-06-01", "Yugoslavia", False, None),
])
def test_a_former_state_code_never_answers_for_another_state(desk, query, on, name, eligible, status):
    code, answers = desk.json("check", query, "--as-of", on, "--json")
    a = answers[0]
    assert (a["name"], a["eligible"], a["status"]) == (name, eligible, status)
    if status is None and query in ("CSK", "YUG"):
        assert a["reasons"][-1].startswith(f"not eligible: {name} ceased to exist on ")
    elif status is None:
        assert a["reasons"][-1].startswith("Not rated in Freedom in the World")


def _identifier_text(length: int) -> st.SearchStrategy[str]:
    """Text shaped like an identifier, with what people paste around one: lower case, spaces, tabs, hyphens,
    dashes and letters outside ASCII."""
    return st.text(st.sampled_from(string.ascii_uppercase + string.digits + "abcxyz -\t\u2013\u00e9\u00df"),
                   min_size=length - 2, max_size=length + 3)


@settings(max_examples=3000, deadline=None)
@given(prefix=st.sampled_from([a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]),
       body=st.text(st.sampled_from(string.ascii_uppercase + string.digits), min_size=9, max_size=9),
       digit=st.sampled_from(string.digits + "A"), correct=st.booleans(), noise=_identifier_text(12))
def test_the_isin_check_digit_answers_as_stdnum_does(prefix, body, digit, correct, noise):
    """Every prefix, a correct and a wrong check digit, and pasted text: our ISO 6166 check against python-stdnum's
    (which `check` no longer imports: it loads ssl and pydoc). Non-ASCII text is refused outright."""
    from stdnum import isin

    from sovereign.identifiers import valid_isin

    code = prefix + body + (isin.calc_check_digit(prefix + body) if correct else digit)
    assert valid_isin(code) == isin.is_valid(code)
    assert valid_isin(code.lower()) == valid_isin(f" {code[:6]} {code[6:]}\t") == valid_isin(code)
    if noise.isascii():
        assert valid_isin(noise) == isin.is_valid(noise)
    else:
        assert not valid_isin(noise)


@settings(max_examples=2000, deadline=None)
@given(body=st.text(st.sampled_from(string.ascii_uppercase + string.digits), min_size=18, max_size=18),
       check=st.integers(0, 99), correct=st.booleans(), noise=_identifier_text(20))
def test_the_lei_check_digits_answer_as_stdnum_does(body, check, correct, noise):
    """As stdnum answers, but for the length: stdnum takes "1" for a valid LEI; ISO 17442 says 20 characters."""
    from stdnum import lei
    from stdnum.iso7064 import mod_97_10

    from sovereign.identifiers import valid_lei

    code = body + (mod_97_10.calc_check_digits(body) if correct else f"{check:02d}")
    assert valid_lei(code) == lei.is_valid(code)
    assert valid_lei(f"{code[:4]}-{code[4:]} ".lower()) == valid_lei(code)
    if noise.isascii():
        assert valid_lei(noise) == (lei.is_valid(noise) and len(lei.compact(noise)) == 20)
    else:
        assert not valid_lei(noise)


def test_the_isin_prefixes_are_stdnums():
    """Prefixes come from our ISO table (pycountry, at build time) and a short list of agency codes: the same set
    python-stdnum accepts, so a table rebuilt with a code added or withdrawn shows here."""
    from stdnum import isin

    from sovereign.identifiers import isin_prefixes

    every = {a + b for a in string.ascii_uppercase for b in string.ascii_uppercase}
    assert {p for p in every if isin.is_valid(p + "000000000" + isin.calc_check_digit(p + "000000000"))} == \
        set(isin_prefixes())
