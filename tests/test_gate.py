"""The anomaly gate, rule by rule, on FH's real 2025 and 2026 editions (the bundled snapshot)."""

from __future__ import annotations

import polars as pl
import pytest

from sovereign import gate
from sovereign.pipeline import prepare, read_bundled
from sovereign.policy import Policy

pytestmark = pytest.mark.pure


@pytest.fixture(scope="module")
def editions() -> tuple[pl.DataFrame, pl.DataFrame]:
    tidy, *_ = read_bundled()
    scored = prepare(tidy.filter(pl.col("edition").is_in([2025, 2026])), "bundled")
    previous = scored.filter(pl.col("edition") == 2025).select("entity", "fh_name", "kind", "status")
    return scored.filter(pl.col("edition") == 2026), previous


def test_fh_2026_against_2025_passes_the_gate(editions):
    new, previous = editions
    assert gate.check(new, previous, Policy()) == []


def test_a_published_status_the_scores_do_not_give_is_held(editions):
    new, previous = editions
    odd = new.with_columns(status_pub=pl.when(pl.col("fh_name").is_in(["Norway", "Chile"])).then(pl.lit("NF"))
                           .otherwise(pl.col("status_pub")))
    [reason] = gate.check(odd, previous, Policy())
    assert reason.startswith("2 published status(es) differ from the recomputed one: Chile, Norway")


def test_a_country_gained_or_lost_is_held(editions):
    new, previous = editions
    reasons = gate.check(new.filter(pl.col("fh_name") != "Sudan"), previous, Policy())
    assert reasons == ["countries gained (none) or lost (Sudan) against the previous edition"]


def test_more_entities_added_or_dropped_than_allowed_is_held(editions):
    new, previous = editions
    territories = new.filter(pl.col("kind") == "t")["fh_name"].to_list()[:4]
    fewer = new.filter(~pl.col("fh_name").is_in(territories))
    # The bundled 2026 source already lacks one 2025 territory (Russian-Occupied Territories of Ukraine).
    assert gate.check(fewer, previous, Policy(max_entity_change=5)) == []
    [reason] = gate.check(fewer, previous, Policy(max_entity_change=4))
    assert reason == "0 entities added and 5 dropped, more than the gate allows (4)"


def test_too_many_status_changes_are_held(editions):
    new, previous = editions
    free = new.filter((pl.col("kind") == "c") & (pl.col("status") == "F"))["fh_name"].to_list()[:40]
    moved = new.with_columns(status=pl.when(pl.col("fh_name").is_in(free)).then(pl.lit("PF")).otherwise("status"))
    [reason] = gate.check(moved, previous, Policy(max_status_change_share=0.1))
    assert reason.startswith("39 of 195 countries changed status (20%, more than 10%): Andorra, Antigua and Barbuda")
    assert gate.check(moved, previous, Policy(max_status_change_share=0.25)) == []
