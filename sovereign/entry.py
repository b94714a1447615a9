"""The `sovereign` command as installed (`sovereign = "sovereign.entry:main"`): the CLI, started cheaply.

What the imports build (modules, classes, click's commands) lives as long as the process, so the cycle
collector has nothing to win by walking it: it stays off while the CLI loads, and `gc.freeze` then sets those
objects aside, so the collections a command triggers, and the one at exit, skip them. The collector is on
again before any command runs (`serve` and `schedule` run for months). On `check`'s path this is about a
tenth of its start-up (scripts/bench_check.py).
"""

from __future__ import annotations

import gc
from typing import Any


def main(*args: Any, **kwargs: Any) -> Any:
    """`sovereign.cli.main` (click's arguments), loaded as described above."""
    gc.disable()
    try:
        from sovereign.cli import main as cli
    finally:
        gc.freeze()
        gc.enable()
    return cli(*args, **kwargs)
