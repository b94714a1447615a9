"""`sovereign check` starts as fast as the desk needs: what its path loads, and how the command is entered.

scripts/bench_check.py measures the time; these tests keep what it measures from growing back unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sovereign
from sovereign import paths

ROOT = Path(__file__).resolve().parent.parent
# Standard-library packages that cost milliseconds to import and that `check` has no use for.
HEAVY_STDLIB = {"asyncio", "email", "http", "xml", "ssl", "socket", "multiprocessing", "concurrent", "logging", "tomllib",
                "decimal", "subprocess", "tempfile", "zipfile", "tarfile", "shutil", "difflib", "secrets", "random",
                "statistics", "argparse", "pickle", "urllib"}


def loaded_by(args: list[str], now: str = "2026-12-03T12:00:00+00:00") -> tuple[int, str, dict]:
    """Run the console script's entry in a fresh interpreter at the instant `now`; its exit code, output, and what
    it imported."""
    code = ("import sys, json, io, contextlib\nbefore = set(sys.modules)\nout = io.StringIO()\n"
            "from sovereign.entry import main\n"
            f"try:\n    with contextlib.redirect_stdout(out):\n        main({args!r})\nexcept SystemExit as exc:\n"
            "    status = exc.code\n"
            "import gc\nnew = sorted(set(sys.modules) - before)\n"
            "print(json.dumps({'status': status, 'out': out.getvalue(), 'modules': new, "
            "'gc': [gc.isenabled(), gc.get_freeze_count()]}))")
    import json

    env = os.environ | {"SOVEREIGN_NOW": now}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    found = json.loads(done.stdout.splitlines()[-1])
    return found["status"], found["out"], found


def test_check_loads_click_and_the_standard_library_only(loaded_db):
    """The whole answer, digest check included, from click, the standard library and our light modules: no
    polars, openpyxl, jinja2 or requests, and none of the standard library's heavier packages."""
    status, out, found = loaded_by(["--db", str(loaded_db), "check", "NL"])
    assert status == 0 and "NL: Netherlands (NL) ELIGIBLE" in out and "Freedom House" in out
    top = {m.split(".")[0] for m in found["modules"]}
    assert top - set(sys.stdlib_module_names) == {"click", "sovereign", "fiw"}
    assert not top & HEAVY_STDLIB, sorted(top & HEAVY_STDLIB)
    ours = {m for m in found["modules"] if m.startswith(("sovereign", "fiw", "scrapers"))}
    assert {"sovereign.keys", "sovereign.lookup"} <= ours  # the list was proved against its keyed digest
    assert not {m for m in ours if m.startswith(("scrapers", "sovereign.api", "sovereign.policy", "sovereign.store.writes",
                                                 "sovereign.pipeline", "sovereign.screen"))}


def test_late_in_the_utc_day_check_asks_the_time_zone(loaded_db):
    """From 22:00 UTC Amsterdam may be a day ahead: the zone is read then (and only then), and the day it gives is
    the one the answer counts from."""
    status, out, found = loaded_by(["--db", str(loaded_db), "check", "NL"], now="2026-12-31T23:30:00+00:00")
    assert status == 0 and "NL: Netherlands (NL) ELIGIBLE" in out and "zoneinfo" in found["modules"]
    assert "zoneinfo" not in loaded_by(["--db", str(loaded_db), "check", "NL"], now="2026-12-31T21:59:59+00:00")[2]["modules"]
    from sovereign import clock

    os.environ[clock.FIXED] = "2026-12-31T23:30:00+00:00"
    try:
        assert clock.today().isoformat() == "2027-01-01"
    finally:
        del os.environ[clock.FIXED]


def test_the_entry_leaves_the_collector_on(loaded_db):
    """Start-up sets the imports aside from the cycle collector, but every command (`serve` runs for months) runs
    with it on; a failing command exits as `sovereign.cli` makes it."""
    status, _, found = loaded_by(["--version"])
    assert status == 0 and found["gc"][0] is True and found["gc"][1] > 0
    status, _, found = loaded_by(["--db", str(loaded_db), "check", "XX"])
    assert status == 2 and found["gc"][0] is True


@pytest.mark.pure
def test_the_bundled_tables_ship_inside_the_package():
    """A wheel carries what the package folder holds: every bundled table `check` and `refresh` read is found
    through `sovereign/data` (in a checkout a link to data/), and pyproject ships that folder."""
    named = [value for name, value in vars(paths).items() if name.isupper() and isinstance(value, Path)]
    package = Path(sovereign.__file__).resolve().parent
    assert len(named) > 10 and all(p.parent == package / "data" and p.is_file() for p in named if p != paths.DATA)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*" in config["tool"]["setuptools"]["package-data"]["sovereign"]
    assert config["project"]["scripts"]["sovereign"] == "sovereign.entry:main"
