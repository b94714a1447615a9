"""The house's own habits, checked like behaviour: the pure core's tests need nothing beside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pure_tests_run_without_shared_fiw(tmp_path):
    env = os.environ | {"SOVEREIGN_TEST_FIW": str(tmp_path / "no-shared-here")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "pure", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = int(done.stdout.strip().splitlines()[-1].split(" passed")[0].split()[-1])
    assert passed >= 30


def test_tests_that_read_fhs_files_refuse_to_run_without_them(tmp_path):
    env = os.environ | {"SOVEREIGN_TEST_FIW": str(tmp_path / "no-shared-here")}
    refused = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_desk.py"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert refused.returncode != 0 and "`-m pure` runs the ones that do not" in refused.stdout + refused.stderr
