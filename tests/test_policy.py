"""The policy file, mandates that can only tighten, and the subset property over the real data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fiw.errors import UserError
from sovereign import paths
from sovereign.eligibility import apply_mandate, apply_overrides, evaluate
from sovereign.pipeline import prepare, read_bundled
from sovereign.policy import Mandate, Policy, load_policy
from sovereign.resolve import country_code


@pytest.fixture(scope="module")
def scored():
    tidy, *_ = read_bundled()
    return prepare(tidy, "bundled")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


@pytest.mark.pure
def test_default_policy_loads():
    policy = load_policy(paths.POLICY, country_code)
    assert policy.exclude_status == ("NF",) and policy.unrated == "exclude"
    assert {m.name for m in policy.mandates} == {"strict_pf", "min_score_60"}


@pytest.mark.pure
@pytest.mark.parametrize("text,message", [
    ("[base]\nexclude_staus = ['NF']\n", "[base] has unknown key(s) ['exclude_staus']"),
    ("[base]\nexclude_status = ['PF']\n", "the house policy excludes Not Free (NF)"),
    ("[mandates.loose]\nexclude_status = ['PF']\n", "[mandates.loose] exclude_status: would admit ['NF']"),
    ("[base]\nunrated = 'exclude'\n[mandates.loose]\nunrated = 'eligible'\n", "[mandates.loose] unrated: would admit unrated"),
    ("[mandates.m]\nmin_total = 150\n", "[mandates.m] min_total: expected a whole score 0-100"),
    ("[mandates.m]\nmin_scor = 50\n", "[mandates.m] has unknown key(s) ['min_scor']"),
    ("[base]\nterritories = 'parent'\n", "expected 'own' or 'stricter'"),
    ("[base\n", "not valid TOML"),
    ("[extra]\n", "unknown table(s) ['extra']"),
    ("[mandates.x]\nexclude_countries = 5\n", "[mandates.x] exclude_countries: expected a list of strings, found 5"),
    ("mandates = 5\n", "mandates must be tables"),
    ("base = 5\n", "[base] must be a table of keys, found 5"),
    ("[gate]\nmax_status_change_share = 'a'\n", "[gate] max_status_change_share: expected a number, found 'a'"),
    ("[base]\nauto_publish = 'yes'\n", "[base] auto_publish: expected a boolean, found 'yes'"),
    ("[base]\npersistence = 0\n", "[base] persistence: expected whole editions 1-10"),
    ("[base]\ndecline_points = 10\n", "[base] decline_points: a decline needs both"),
    ("[base]\nmin_total = 101\n", "[base] min_total: expected a whole score 0-100"),
    ("[base]\npersistence = 3\n[mandates.m]\npersistence = 2\n", "[mandates.m] persistence: would re-admit after 2"),
    ("[base]\nmin_total = 40\n[mandates.m]\nmin_total = 30\n", "[mandates.m] min_total: would admit a Total of 30"),
    ("[base]\ndecline_points = 5\ndecline_editions = 3\n[mandates.m]\ndecline_points = 8\ndecline_editions = 3\n",
     "[mandates.m] decline_points: must keep the base rule's decline"),
    ("[mandates.m]\ndecline_editions = 2\n", "[mandates.m] decline_points: a decline needs both"),
])
def test_bad_policies_are_refused_naming_table_and_key(tmp_path, text, message):
    with pytest.raises(UserError) as err:
        load_policy(write(tmp_path, text), country_code)
    assert message in str(err.value) and "policy.toml" in str(err.value)


def test_a_loosening_policy_is_exit_2_from_the_cli(tmp_path, cli):
    path = write(tmp_path, "[mandates.loose]\nexclude_status = ['PF']\n")
    code, _, err = cli("--policy", str(path), "check", "NL", "--mandate", "loose")
    assert code == 2 and "a mandate can only tighten" in err


def _frame(scored, policy: Policy, edition: int) -> pl.DataFrame:
    base = evaluate(scored, policy, edition)
    return base.with_columns(reasons=pl.concat_list("reasons"),
                             scope=pl.when(pl.col("kind") == "t").then(pl.lit("territory")).otherwise(pl.lit("country")))


mandates = st.builds(
    Mandate,
    name=st.just("m"),
    exclude_status=st.sampled_from([(), ("NF",), ("PF", "NF"), ("F", "PF", "NF")]),
    min_total=st.one_of(st.none(), st.integers(0, 100)),
    min_pr=st.one_of(st.none(), st.integers(0, 40)),
    min_cl=st.one_of(st.none(), st.integers(0, 60)),
    exclude_countries=st.lists(st.sampled_from(["NL", "IN", "TR", "US", "HK", "ZZ"]), max_size=3).map(tuple),
    unrated=st.just("exclude"),
)


@pytest.mark.pure
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mandate=mandates, edition=st.sampled_from([1973, 1990, 2003, 2013, 2024, 2025, 2026]),
       territories=st.sampled_from(["own", "stricter"]), overridden=st.lists(st.sampled_from(["NL", "IN", "BR"]), max_size=2))
def test_every_mandate_set_is_a_subset_of_the_base_set(scored, mandate, edition, territories, overridden):
    policy = Policy(territories=territories, mandates=(mandate,))
    base = _frame(scored, policy, edition)
    overrides = [{"id": i, "iso2": c, "reason": "r", "decided_by": "c", "valid_from": "2000-01-01"}
                 for i, c in enumerate(overridden)]
    base = apply_overrides(base, overrides)
    tightened = apply_mandate(base, mandate, edition)
    base_ok = set(base.filter(pl.col("eligible"))["entity"])
    mandate_ok = set(tightened.filter(pl.col("eligible"))["entity"])
    assert mandate_ok <= base_ok
    assert not any(c in overridden for c in tightened.filter(pl.col("eligible"))["iso2"].drop_nulls())
    if mandate.exclude_status == ("PF", "NF"):
        assert tightened.filter(pl.col("eligible") & (pl.col("status") == "PF")).is_empty()


@pytest.mark.pure
def test_base_rule_excludes_every_nf_country_of_every_edition(scored):
    policy = Policy()
    for edition in scored["edition"].unique():
        frame = evaluate(scored, policy, edition)
        assert frame.filter(pl.col("eligible") & (pl.col("status") == "NF")).is_empty()
        assert frame.filter(~pl.col("eligible") & (pl.col("kind") == "c") & (pl.col("status") != "NF")).is_empty()


@pytest.mark.pure
def test_stricter_territories_take_the_worse_of_own_and_parent(scored):
    own = evaluate(scored, Policy(territories="own"), 2026).filter(pl.col("iso2") == "HK").row(0, named=True)
    strict = evaluate(scored, Policy(territories="stricter"), 2026).filter(pl.col("iso2") == "HK").row(0, named=True)
    assert own["eligible"] and own["status"] == "PF"
    assert not strict["eligible"] and "its parent China is Not Free" in strict["reasons"]
    india = evaluate(scored, Policy(territories="stricter"), 2026).filter(pl.col("iso2") == "IN").row(0, named=True)
    assert india["eligible"]  # a territory never changes its parent's status


@pytest.mark.pure
def test_min_score_cannot_be_tested_before_2003_and_fails_closed(scored):
    mandate = Mandate(name="m", min_total=10)
    frame = apply_mandate(_frame(scored, Policy(), 1990), mandate, 1990)
    assert frame.filter(pl.col("eligible")).is_empty()
    assert any("has no Total score" in r for r in frame.filter(pl.col("iso2") == "NL")["reasons"][0])


@pytest.mark.pure
def test_unset_history_rules_change_no_digest_and_tightening_ones_load(tmp_path):
    assert load_policy(write(tmp_path, "[base]\npersistence = 1\n"), country_code).digest == Policy().digest
    policy = load_policy(write(tmp_path, "[base]\npersistence = 2\nmin_total = 30\n[mandates.m]\npersistence = 3\n"
                                          "min_total = 50\ndecline_points = 5\ndecline_editions = 2\n"), country_code)
    assert policy.digest != Policy().digest and policy.mandate("m").needs_history


base_rules = st.builds(
    Policy,
    territories=st.sampled_from(["own", "stricter"]),
    min_total=st.one_of(st.none(), st.integers(0, 100)),
    persistence=st.integers(1, 4),
    decline_points=st.one_of(st.none(), st.integers(0, 30)),
    decline_editions=st.integers(1, 6),
).map(lambda p: p if p.decline_points is not None else Policy(
    territories=p.territories, min_total=p.min_total, persistence=p.persistence))


@pytest.mark.pure
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=base_rules, edition=st.sampled_from([1990, 2004, 2013, 2026]),
       mandate=mandates.map(lambda m: Mandate(name="m", min_total=m.min_total, persistence=2, decline_points=3,
                                              decline_editions=2)))
def test_history_rules_only_tighten_the_base_and_mandates_stay_subsets(scored, policy, edition, mandate):
    from sovereign.eligibility import evaluate_editions

    plain = Policy(territories=policy.territories)
    loose = set(evaluate(scored, plain, edition).filter(pl.col("eligible"))["entity"])
    tight = evaluate(scored, policy, edition)
    assert set(tight.filter(pl.col("eligible"))["entity"]) <= loose
    every = evaluate_editions(scored.filter(pl.col("edition") <= edition), policy).with_columns(
        reasons=pl.concat_list("reasons"), scope=pl.when(pl.col("kind") == "t").then(pl.lit("territory"))
        .otherwise(pl.lit("country")))
    current = every.filter(pl.col("edition") == edition)
    narrowed = apply_mandate(current, mandate, edition, every.filter(pl.col("edition") < edition))
    assert set(narrowed.filter(pl.col("eligible"))["entity"]) <= set(current.filter(pl.col("eligible"))["entity"])
    blind = apply_mandate(current, mandate, edition)  # no history given: fails closed
    assert blind.filter(pl.col("eligible") & pl.col("status").is_not_null()).is_empty()
