"""One resolver behind every surface: `check` and `screen` agree on every key we know (the whole name and
code corpus), on every date
and under every mandate, and a code of a former state never answers for another state."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3

import pytest

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
