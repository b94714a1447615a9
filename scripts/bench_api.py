"""Load on loopback: GET /api/v1/check/{id} against a trivial endpoint of the same server, same run.

    .venv/bin/python scripts/bench_api.py [--seconds 10] [--connections 8]

Uses wrk (Debian's package) when installed, else a Python keep-alive load generator. Target (issue 7),
on this 2-core machine: at least 1,000 requests/s with p99 under 10 ms, and at least 60% of the
trivial endpoint's throughput.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(db: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sovereign", "--db", str(db), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


MIX = """
ids = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/check/" .. ids[(i %% #ids) + 1])
end
"""


def mixed_ids(db: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(db)
    codes = [r[0] for r in conn.execute("SELECT DISTINCT iso2 FROM countries WHERE iso2 IS NOT NULL")]
    return (codes + ["Turkiye", "Ivory%20Coast", "DRC", "USA", "UK"])[:250]


def with_wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict:
    extra = ["-s", script] if script else []
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
                         capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": int(errors.group(1)) if errors else 0}


def with_python(port: int, path: str, seconds: int, connections: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        mine = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - t) * 1000)
            errors[0] += response.status >= 300
        latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99)], "errors": errors[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--id", default="TR")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        subprocess.run([sys.executable, "-m", "sovereign", "--db", str(db), "refresh", "--source", "bundled"],
                       check=True, capture_output=True)
        proc, port = start(db)
        try:
            tool = "wrk" if shutil.which("wrk") else "python"
            results = {}
            for label, path in (("trivial /api/v1/ping", "/api/v1/ping"), (f"check /api/v1/check/{args.id}",
                                                                             f"/api/v1/check/{args.id}")):
                url = f"http://127.0.0.1:{port}{path}"
                def run(seconds: float, url: str = url, path: str = path) -> dict:
                    if tool == "wrk":
                        return with_wrk(url, seconds, args.connections)
                    return with_python(port, path, seconds, args.connections)

                run(2)  # warm-up
                results[label] = r = run(args.seconds)
                print(f"{label:<28} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  "
                      f"non-2xx {r['errors']}  ({tool}, {args.connections} connections, {args.seconds} s)")
            if tool == "wrk":
                ids = mixed_ids(db)
                script = Path(tmp) / "mix.lua"
                script.write_text(MIX % ", ".join(f'"{i}"' for i in ids))
                url = f"http://127.0.0.1:{port}/"
                with_wrk(url, 2, args.connections, str(script))
                r = with_wrk(url, args.seconds, args.connections, str(script))
                print(f"{'check, ' + str(len(ids)) + ' ids in turn':<28} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  "
                      f"p99 {r['p99']:6.2f} ms  non-2xx {r['errors']}")
            trivial, check = list(results.values())[:2]
            print(f"check / trivial throughput: {check['rps'] / trivial['rps']:.0%} (target >= 60%); "
                  f"check: {check['rps']:.0f} req/s (target >= 1000), p99 {check['p99']:.2f} ms (target < 10 ms)")
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
