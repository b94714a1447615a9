"""Where the bundled data lives and where the database goes by default."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"  # a link to the checkout's data/, a folder in a wheel
SCORES = DATA / "fiw_scores.csv"
CONFLICTS = DATA / "conflicts.csv"
MANIFEST = DATA / "manifest.json"
COUNTRIES = DATA / "countries.csv"
ERRATA = DATA / "fh_errata.csv"
POLICY = DATA / "policy.toml"
NAMES = DATA / "names.csv"                 # built by scripts/build_names.py
NAME_PATTERNS = DATA / "name_patterns.csv"
ISSUERS = DATA / "issuers_sample.csv"
RELEASES = DATA / "releases.csv"
ASSESSED_WITHIN = DATA / "assessed_within.csv"
SUCCESSORS = DATA / "successors.csv"
FH_ALIASES = DATA / "fh_aliases.csv"          # spellings of one FH entity (former states, Gaza)
CODES = DATA / "codes.csv"                  # built by scripts/build_names.py
CEASED = DATA / "ceased.csv"
PARENTS = DATA / "parents.csv"            # a territory's parent where it changed over time
COUNTRY_NAMES = DATA / "country_names.csv"  # built by scripts/build_names.py


def default_db() -> Path:
    """`sovereign.db` under the user data directory (`Settings` lets `--db` and `SOVEREIGN_DB` win)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("sovereign")) / "sovereign.db"
