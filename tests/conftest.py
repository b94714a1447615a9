"""Shared fixtures. Tests read FH's real files from ../shared/fiw (beside the checkout)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import settings as hypothesis_settings

FIW = Path(os.environ.get("SOVEREIGN_TEST_FIW") or Path(__file__).resolve().parents[2] / "shared" / "fiw")


def seal(environ: dict | os._Environ) -> list[str]:
    """Take the developer's `SOVEREIGN_*` settings out of the environment (all but where FH's files are), so a
    policy, database or URL set in a shell cannot change what the tests see. Returns the names removed."""
    names = [name for name in environ if name.startswith("SOVEREIGN_") and name != "SOVEREIGN_TEST_FIW"]
    for name in names:
        del environ[name]
    return names


seal(os.environ)  # before any fixture, module or session-wide, reads Settings
# One seeded run everywhere: a failure found today is the failure found tomorrow.
hypothesis_settings.register_profile("sealed", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sealed"))

from sovereign.cli import main  # noqa: E402

ALL_DATA = FIW / "All_data_FIW_2013-2025.xlsx"
AGGREGATE = FIW / "Aggregate_Category_and_Subcategory_Scores_FIW_2003-2024.xlsx"
RATINGS = FIW / "Country_and_Territory_Ratings_and_Statuses_FIW_1973-2024.xlsx"
WEB_2026 = FIW / "fiw-2026.csv"



@pytest.hookimpl(trylast=True)  # after `-m` has deselected
def pytest_collection_modifyitems(config, items):
    """Tests marked `pure` need nothing but the checkout; every other one reads FH's files."""
    if not FIW.is_dir() and any(item.get_closest_marker("pure") is None for item in items):
        raise pytest.UsageError(f"these tests need FH's files at {FIW} (../shared/fiw beside the checkout); "
                                "`-m pure` runs the ones that do not")


class Cli:
    """Runs `sovereign` in-process against one database; returns (exit code, stdout, stderr)."""

    def __init__(self, db: Path):
        self.db = db

    def __call__(self, *args: str, env: dict | None = None):
        runner = CliRunner()
        result = runner.invoke(main, ["--db", str(self.db), *args], env=env or {}, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str):
        code, out, err = self(*args)
        return code, json.loads(out)


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory, request) -> Path:
    """A database after `refresh --source bundled`; tests that only read share it. Built once per run: under
    xdist the first worker builds it (the others wait on a lock) and each worker reads its own copy, so no
    two processes ever share one database file."""
    db = tmp_path_factory.mktemp("loaded") / "sovereign.db"
    if not hasattr(request.config, "workerinput"):  # not an xdist worker: nobody to share with
        return _built(db)
    shared = tmp_path_factory.getbasetemp().parent / "loaded"  # the run's directory, above each worker's
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "built").exists():
            _built(shared / "sovereign.db")
            (shared / "built").touch()
    shutil.copytree(shared / "archive", db.parent / "archive")  # the raw payload, beside it as the build left it
    return copy_db(shared / "sovereign.db", db)


def _built(db: Path) -> Path:
    code, out, err = Cli(db)("refresh", "--source", "bundled")
    assert code == 0, err
    return db


@pytest.fixture
def cli(loaded_db) -> Cli:
    return Cli(loaded_db)


def india_not_free_2027(tmp_path: Path) -> Path:
    """A 2027 scores file: FH's 2026 table with India's political rights collapsed (Not Free). Imported, it is
    a new edition whose list is proposed with one country moving out."""
    path = tmp_path / "fiw-2027.csv"
    path.write_text(WEB_2026.read_text().replace("India,IN,country,62,Partly Free,31,31",
                                                 "India,IN,country,36,Not Free,5,31"))
    return path


def member(cli: Cli, name: str = "Ria de Boer") -> str:
    """A committee member in the register (an approval always names one, whatever the count): their name."""
    code, _, err = cli("people", "add", name, "--role", "committee")
    assert code == 0 or "already in the register" in err, err
    return name


@pytest.fixture
def desk(fresh_db) -> Cli:
    """A private database with the sample issuer register."""
    from sovereign import paths

    cli = Cli(fresh_db)
    code, out, err = cli("issuers", "import", str(paths.ISSUERS))
    assert code == 0, err
    return cli


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy of a database (SQLite's online backup) with its key file beside it, as an operator
    moves one: the key travels with its copy."""
    import sqlite3

    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    key = target.parent / "sovereign.key"
    if not key.exists():
        shutil.copy2(source.parent / "sovereign.key", key)
    return target


@pytest.fixture
def fresh_db(tmp_path, loaded_db) -> Path:
    """A private copy of the loaded database, for tests that write."""
    return copy_db(loaded_db, tmp_path / "sovereign.db")


def reseal(db: Path) -> None:
    """Digests made again with the database's own key after a test set-up edited recorded rows: what only a
    holder of both the key and the file can do."""
    from sovereign import store
    from sovereign.store import reads, writes

    with store.writer(db) as conn, conn.atomic():
        for version in reads.versions(conn):
            writes._prove(conn, version["id"])


def db_fingerprint(path: Path, skip: tuple[str, ...] = ("runs", "audit")) -> str:
    """The logical content of every table but `runs` and `audit` (a failed run is recorded there, by design)."""
    import sqlite3

    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        if table in skip:
            continue
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2'):
            digest.update(repr(row).encode())
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    return digest.hexdigest()


def sheet_frame(path: Path, sheet: str) -> pl.DataFrame:
    """A sheet as text cells, every row (headers too), for building altered copies."""
    return fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None, dtypes="string").to_polars()


def write_workbook(path: Path, sheets: dict[str, pl.DataFrame]) -> Path:
    """Write text cells back as a workbook; cells that look like numbers are written as numbers."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name, frame in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(frame.iter_rows()):
            for c, value in enumerate(row):
                if value is None:
                    continue
                try:
                    ws.write_number(r, c, float(value))
                except ValueError:
                    ws.write_string(r, c, value)
    book.close()
    return path


@pytest.fixture(autouse=True)
def _no_env_leak():
    """What one test sets in the environment is gone before the next."""
    yield
    seal(os.environ)


CHROMIUM = "/usr/bin/chromium"  # Debian's, driven through Playwright
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """One Chromium per test process, launched when a test first needs it (a launch costs about a second of CPU).
    Tests take it as `browser`; none starts Playwright of its own, which could not run beside this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """The process's Chromium for one test module; the pages and contexts the module left open close after it."""
    yield chromium
    for context in chromium.contexts:
        context.close()
