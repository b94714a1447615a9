"""Where the bundled data lives and where the database goes by default."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
SCORES = DATA / "fiw_scores.csv"
CONFLICTS = DATA / "conflicts.csv"
MANIFEST = DATA / "manifest.json"
COUNTRIES = DATA / "countries.csv"
ERRATA = DATA / "fh_errata.csv"
POLICY = DATA / "policy.toml"
ALIASES = DATA / "aliases.csv"
ISSUERS = DATA / "issuers_sample.csv"


def default_db() -> Path:
    """`SOVEREIGN_DB`, else `sovereign.db` under the user data directory."""
    if os.environ.get("SOVEREIGN_DB"):
        return Path(os.environ["SOVEREIGN_DB"])
    from platformdirs import user_data_dir

    return Path(user_data_dir("sovereign")) / "sovereign.db"
