"""The project's own promises: one version, a changelog that names it and every schema step, a lock file
inside pyproject's ranges, the layering the README claims, and tests that a developer's shell cannot steer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import sovereign
from sovereign.store.schema import MIGRATIONS
from tests.conftest import seal

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def locked(path: Path) -> dict[str, Version]:
    """name -> version of every `name==version` line of a lock file (names normalised as pip does)."""
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", path.read_text(), flags=re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): Version(version) for name, version in pins}


@pytest.mark.pure
def test_the_version_is_written_once_and_heads_the_changelog():
    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sovereign.__version__"}
    Version(sovereign.__version__)  # a version pip and the changelog agree on
    out = subprocess.run([sys.executable, "-m", "sovereign", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"sovereign, version {sovereign.__version__}"
    versions = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)
    assert versions[0] == sovereign.__version__, "the newest CHANGELOG section is the version in sovereign/__init__.py"
    assert sorted(versions, key=Version, reverse=True) == versions and len(set(versions)) == len(versions)


@pytest.mark.pure
def test_every_version_names_its_schema_steps_under_migrations():
    sections = re.split(r"^## ", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)[1:]
    named: list[int] = []
    for section in sections:
        assert "\n### Migrations\n" in section, f"## {section.splitlines()[0]} has no Migrations part"
        part = section.split("\n### Migrations\n", 1)[1].split("\n### ", 1)[0]
        named += [int(n) for n in re.findall(r"^- Schema (\d+):", part, flags=re.M)]
    assert sorted(named) == list(range(1, len(MIGRATIONS) + 1)), "each step of MIGRATIONS is named once in CHANGELOG.md"


@pytest.mark.pure
@pytest.mark.parametrize("lock,extras", [("requirements.lock", []), ("requirements-test.lock", ["test"])])
def test_the_lock_pins_every_dependency_inside_pyprojects_ranges(lock, extras):
    pins = locked(ROOT / lock)
    optional = PYPROJECT["project"]["optional-dependencies"]
    wanted = [*PYPROJECT["project"]["dependencies"], *(d for extra in extras for d in optional[extra])]
    for line in wanted:
        requirement = Requirement(line)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{lock} has no pin for {requirement.name}: run scripts/lock"
        assert requirement.specifier.contains(pins[name]), f"{lock} pins {name}=={pins[name]} outside {requirement}"
    assert not any("==" in d for d in PYPROJECT["project"]["dependencies"]), "pyproject keeps ranges; pins go in the lock"
    assert "--hash=sha256:" in (ROOT / lock).read_text()


@pytest.mark.pure
def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    names = [c["name"] for c in PYPROJECT["tool"]["importlinter"]["contracts"]]
    assert len(names) >= 4 and all(f"{name} KEPT" in result.stdout for name in names)


@pytest.mark.pure
def test_seal_takes_every_sovereign_setting_out_but_where_fhs_files_are():
    env = {"SOVEREIGN_POLICY": "/x.toml", "SOVEREIGN_DB": "/y.db", "SOVEREIGN_TEST_FIW": "/fiw", "PATH": "/bin"}
    assert sorted(seal(env)) == ["SOVEREIGN_DB", "SOVEREIGN_POLICY"]
    assert env == {"SOVEREIGN_TEST_FIW": "/fiw", "PATH": "/bin"}


@pytest.mark.slow  # a second pytest that loads its own database: 5-10 s
def test_a_policy_and_database_in_the_developers_shell_do_not_reach_the_api_tests(tmp_path):
    """The API tests build their app once per module, before any per-test fixture runs; with the shell's
    SOVEREIGN_POLICY pointing at a broken file they used to fail 19 of 20."""
    broken = tmp_path / "policy.toml"
    broken.write_text("[base]\nexclude = [\n")
    env = os.environ | {"SOVEREIGN_POLICY": str(broken), "SOVEREIGN_DB": str(tmp_path), "SOVEREIGN_BASE_URL": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_api.py",
                             "-k", "check_matches_the_cli or errors_are_json or lists_history"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\b10 passed\b", result.stdout), result.stdout[-500:]


def test_every_library_the_package_imports_is_a_dependency_it_declares():
    """A library imported by sovereign, scrapers or fiw is installed by the application's lock (its dependencies
    and theirs; spark.py: the spark extra): an import satisfied only by the test extra works in the suite and
    fails on an installed service (openpyxl did, for every workbook of rows)."""
    import ast
    from importlib.metadata import packages_distributions

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = set(locked(ROOT / "requirements.lock"))
    optional = {re.sub(r"[-_.]+", "-", Requirement(d).name).lower() for d in config["optional-dependencies"]["spark"]}
    owners = packages_distributions()
    ours = {"sovereign", "scrapers", "fiw"}
    missing = set()
    for path in [p for package in ours for p in (ROOT / package).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for module in modules:
                top = module.split(".")[0]
                if top in ours or top in sys.stdlib_module_names:
                    continue
                dists = {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(top, [top])}
                allowed = declared | (optional if path.name == "spark.py" else set())
                if not dists & allowed:
                    missing.add(f"{path.relative_to(ROOT)}: {module}")
    assert not missing, sorted(missing)
