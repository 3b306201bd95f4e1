"""Time from the last keystroke to the first search result, and bytes transferred for a first query,
in Chromium with a cold cache (a fresh browser context per run): the site's Pagefind search, side by
side with another built site (``--baseline``, e.g. a build of the theme's lunr search).

    python benchmarks/search_latency.py [--site site] [--baseline build/sites/<old>/site] [--runs 5] [--query attention]

The reader clicks the box (the engine starts loading), then types; the clock starts at the last
keystroke and stops when the first result item is in the list. Medians over the runs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from site_tests.browser.chromium import launch, serving  # noqa: E402


def first_query(browser, url: str, query: str) -> tuple[float, int]:
    context = browser.new_context(base_url=url)
    sizes: list[int] = []
    page = context.new_page()
    page.on("requestfinished", lambda request: sizes.append(request.sizes()["responseBodySize"]))
    page.goto("")
    page.wait_for_load_state("networkidle")
    before = len(sizes)
    page.locator("input.md-search__input").click()
    page.keyboard.type(query[:-1])
    start = time.perf_counter()
    page.keyboard.type(query[-1])
    page.locator(".md-search-result__item").first.wait_for(timeout=60_000)
    elapsed = time.perf_counter() - start
    page.wait_for_load_state("networkidle")
    transferred = sum(sizes[before:])
    context.close()
    return elapsed, transferred


def measure(browser, site: Path, query: str, runs: int) -> tuple[float, int]:
    with serving(site.resolve()) as url:
        samples = [first_query(browser, url, query) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), int(statistics.median(s[1] for s in samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", action="append")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    sites = [("this site", args.site)] + ([("baseline", args.baseline)] if args.baseline else [])
    with sync_playwright() as playwright:
        browser = launch(playwright)
        print(f"{'site':<10} {'query':<14} {'first result (s)':>17} {'transferred (KB)':>17}   median of {args.runs}")
        for query in args.query or ["attention", "внимание"]:
            for name, site in sites:
                seconds, size = measure(browser, site, query, args.runs)
                print(f"{name:<10} {query:<14} {seconds:>17.3f} {size / 1024:>17.1f}")
        browser.close()


if __name__ == "__main__":
    main()
