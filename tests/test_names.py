"""Answers a reader understands: places FH assesses inside another report, negative PR, territories judged
on their own status."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("query,edition,verdict,status,words", [
    ("PR", 2020, "eligible", "F", "FH assesses Puerto Rico within its United States report"),
    ("Puerto Rico", 2016, "eligible", "F", "judged on its own status"),  # still rated on its own then
    ("MO", 2020, "excluded", "NF", "FH assesses Macao within its China report"),
])
def test_places_fh_assesses_inside_another_report(cli, query, edition, verdict, status, words):
    code, [a] = cli.json("check", query, "--edition", str(edition), "--json")
    assert (a["verdict"], a["status"]) == (verdict, status) and words in a["reasons"][-1]


def test_a_negative_pr_and_a_territory_say_why(cli):
    code, [syria] = cli.json("check", "Syria", "--edition", "2017", "--json")
    assert "PR -3/40 (below zero because FH deducts up to 4 points (Add Q)" in syria["reasons"][0]
    code, [hk] = cli.json("check", "Hong Kong", "--edition", "2026", "--json")
    assert "judged on its own status (policy: territories = own), whatever its parent China's status (Not Free)" \
        in hk["reasons"][0]
