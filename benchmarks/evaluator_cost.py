"""What evaluating the notes' own LaTeX costs: every check of the repository run in one process
(``pytest runnable_snippets``) under cProfile, then the calls into texeval (``evaluate`` and ``sides``),
their total and mean time, the share of parsing (cached by the formula's text, so paid once per
formula), and that total beside the whole run's, so the figure reads as a share of the suite.

    python benchmarks/evaluator_cost.py [--keys kingma2014adam vaswani2017attention]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", nargs="*", help="only these notes' snippets")
    args = parser.parse_args()
    import pytest

    targets = [str(REPO / "runnable_snippets" / f"{key}.py") for key in args.keys] if args.keys else [str(REPO / "runnable_snippets")]
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    status = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", str(REPO / "runnable_snippets"), *targets])
    profile.disable()
    wall = time.perf_counter() - started
    if status != 0:
        sys.exit(f"the checks failed (pytest exit {status}); the figures would mean nothing")
    stats = pstats.Stats(profile)
    rows = {}
    for (file, _line, function), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items():
        module = Path(file).parent.name + "/" + Path(file).name
        if module in ("texeval/__init__.py", "texeval/parser.py") and function in ("evaluate", "sides", "formula", "side"):
            rows[f"{module}:{function}"] = (calls, cumulative)
    calls = sum(rows.get(f"texeval/__init__.py:{f}", (0, 0))[0] for f in ("evaluate", "sides"))
    total = sum(rows.get(f"texeval/__init__.py:{f}", (0, 0))[1] for f in ("evaluate", "sides"))
    parsing = sum(rows.get(f"texeval/parser.py:{f}", (0, 0))[1] for f in ("formula", "side"))
    print(f"checks run in one process: {wall:.1f} s wall (profiled)")
    print(f"texeval calls (evaluate + sides): {calls}")
    print(f"time inside them: {total:.2f} s ({100 * total / wall:.0f}% of the run), {1000 * total / max(calls, 1):.2f} ms a call on average")
    print(f"of which parsing (once per formula, cached): {parsing:.2f} s")
    for name, (n, seconds) in sorted(rows.items()):
        print(f"  {name:32} {n:7d} calls  {seconds:7.2f} s cumulative")


if __name__ == "__main__":
    main()
