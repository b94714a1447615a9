"""Cold start of `sovereign check NL` (and of `check` on an ISIN, the desk's usual question) against
`python -c pass`, each in a fresh process, in two installs.

    .venv/bin/python scripts/bench_check.py [--repeat 30] [--editable-only]

- editable: this virtual environment as `pip install -e .` leaves it (the checkout, byte-compiled here). Its
  Python start-up includes setuptools' editable finder (about half of `python -c pass`, pathlib and re among it).
- installed: a wheel of this checkout installed into a scratch environment made in the same run (byte-compiled by
  pip), dependencies from this environment: Python's start-up as a user's install has it, without the finder.

Prints each install's medians (wall-clock and CPU) and the ratio: the target is `check` under 3x Python's own
start-up, digest check included. Uses a scratch database loaded from the bundled data.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], capture_output=True,
                          text=True)


def installed(tmp: Path) -> Path | None:
    """A scratch environment with a wheel of this checkout installed; None (and why) when no wheel can be built."""
    source, wheels, env = tmp / "source", tmp / "wheels", tmp / "env"
    for part in ("sovereign", "fiw", "scrapers"):  # a copy, so the build leaves nothing in the checkout
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    built = pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source))
    if built.returncode != 0:  # this environment lacks a wheel-building setuptools: pip fetches one, as `pip install` does
        built = pip("wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source))
    if built.returncode != 0:
        print(f"installed: skipped, no wheel could be built:\n{built.stderr.strip()[-600:]}")
        return None
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies from this environment: its folder on sys.path, its .pth files (the editable finder) not run.
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next(wheels.glob("sovereign-*.whl"))
    done = pip("--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel))
    if done.returncode != 0:
        print(f"installed: skipped, the wheel did not install:\n{done.stderr.strip()[-600:]}")
        return None
    if not any(Path(site, "sovereign", "__pycache__").glob("cli.*.pyc")):
        raise SystemExit("installed: pip did not byte-compile the package; the figures would include compiling")
    return env / "bin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--editable-only", action="store_true", help="skip building and installing a wheel")
    args = parser.parse_args()
    here = Path(sys.executable).parent
    exe = shutil.which("sovereign", path=str(here)) or "sovereign"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        subprocess.run([exe, "--db", db, "refresh", "--source", "bundled"], check=True, capture_output=True)
        subprocess.run([exe, "--db", db, "issuers", "import", str(ROOT / "data" / "issuers_sample.csv")], check=True,
                       capture_output=True)
        # As installed: byte-code compiled (PYTHONDONTWRITEBYTECODE would otherwise make every run compile).
        for package in ("sovereign", "fiw", "scrapers"):
            compileall.compile_dir(str(ROOT / package), quiet=1)
        installs = {"editable": here}
        if not args.editable_only:
            bin_dir = installed(Path(tmp))
            if bin_dir is not None:
                installs["installed"] = bin_dir
        commands: dict[tuple[str, str], list[str]] = {}
        for install, bin_dir in installs.items():
            check = [str(bin_dir / "sovereign"), "--db", db, "check", "NL"]
            answered = subprocess.run(check, capture_output=True, text=True)
            if answered.returncode != 0 or "ELIGIBLE" not in answered.stdout:
                raise SystemExit(f"{install}: `check NL` did not answer: {answered.stdout}{answered.stderr}")
            commands[(install, "python -c pass")] = [str(bin_dir / "python"), "-c", "pass"]
            commands[(install, "sovereign check NL")] = check
            commands[(install, "check XS2100000012")] = [*check[:-1], "XS2100000012"]  # Turkey's, in the sample
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in commands}
        for _ in range(args.repeat):  # alternated, so a busy moment on a shared machine hits all alike
            for key, cmd in commands.items():
                runs[key].append(timed(cmd))
        for install in installs:
            wall, cpu = {}, {}
            for label in ("python -c pass", "sovereign check NL", "check XS2100000012"):
                times = runs[(install, label)]
                walls = [w for w, _ in times]
                wall[label], cpu[label] = statistics.median(walls), statistics.median(c for _, c in times)
                print(f"{install:<9} {label:<20} median {wall[label] * 1000:6.1f} ms  (min {min(walls) * 1000:.1f}, "
                      f"max {max(walls) * 1000:.1f}, n={args.repeat}); CPU {cpu[label] * 1000:.1f} ms")
            bare, check_nl = wall["python -c pass"], wall["sovereign check NL"]
            print(f"{install:<9} check NL over python start-up: {(check_nl - bare) * 1000:.1f} ms; on an ISIN: "
                  f"{(wall['check XS2100000012'] - bare) * 1000:.1f} ms ({wall['check XS2100000012'] / bare:.2f}x)")
            print(f"{install:<9} ratio: {check_nl / bare:.2f}x python's start-up (wall-clock medians), "
                  f"{cpu['sovereign check NL'] / cpu['python -c pass']:.2f}x in CPU time (target: under 3x)")


if __name__ == "__main__":
    main()
