"""Equation-check timings on the repository's own notes: cold (`--refresh`, every check re-run in its
own process), side by side with the baseline of a fresh interpreter per check
(`PAPERNOTES_FORK_SERVER=0`) in the same run; warm (nothing changed: every result from the cache);
then the site build that renders the results. Prints the median and range of each over several runs.

    python benchmarks/check_suite.py            # 1 cold run of each kind, 5 warm runs, 3 builds
    python benchmarks/check_suite.py --cold 3 --keys kingma2014adam vaswani2017attention
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPERNOTES = str(Path(sys.executable).parent / "papernotes")


def timed(command: list[str], **env: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, **env})
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return time.perf_counter() - started


def line(label: str, times: list[float]) -> str:
    return f"{label:<34} {statistics.median(times):>8.2f} {min(times):>8.2f} {max(times):>8.2f} {len(times):>5}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=1)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--keys", nargs="*", default=[], help="only these notes' checks (default: all)")
    args = parser.parse_args()
    check = [PAPERNOTES, "check", "-j", str(args.jobs), *args.keys]
    print(f"{'command':<34} {'median s':>8} {'min s':>8} {'max s':>8} {'runs':>5}")
    fresh = [timed([*check, "--refresh"], PAPERNOTES_FORK_SERVER="0") for _ in range(args.cold)]
    print(line("cold, fresh interpreter per check", fresh), flush=True)
    cold = [timed([*check, "--refresh"]) for _ in range(args.cold)]
    print(line("cold, forked from the warm server", cold), flush=True)
    print(f"fork server: {statistics.median(fresh) / statistics.median(cold):.1f}x faster cold", flush=True)
    warm = [timed(check) for _ in range(args.warm)]
    print(line("papernotes check (warm)", warm), flush=True)
    builds = [timed([PAPERNOTES, "build"]) for _ in range(args.builds)]
    print(line("papernotes build (with results)", builds), flush=True)
    print(f"cold / warm: {statistics.median(cold) / statistics.median(warm):.0f}x")


if __name__ == "__main__":
    main()
