"""Time from the last keystroke to the first search result, and bytes transferred for search, in
Chromium with a cold cache (a fresh browser context per run): the site's Pagefind search side by
side with the theme's own lunr search (``plugins: [search]``) of the same pages.

    python benchmarks/search_latency.py                    # the repository's notes (74)
    python benchmarks/search_latency.py --copies 10 40     # every note 10 (740) and 40 (3,000) times
    python benchmarks/search_latency.py --site site        # an already built site, and no baseline

Each size is built once into ``build/bench-search/<notes>/{pagefind,lunr}/`` (``--rebuild`` builds
again). The reader opens a page and, once it is idle (``idle``) or as soon as it has loaded
(``at once``), clicks the box and types the query (Playwright's typing, a few ms a key); the clock
starts at the last keystroke and stops when the first ``.md-search-result__item`` is in the list
(or the theme says "No matching documents": marked ``no result``).
Bytes are counted by the server: every response the search needs from opening the page to the first
result (``pagefind/`` for ours; ``search/search_index.json``, the search worker and lunr's language
files for the theme's), before any compression a static host would add. Medians over the runs.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from site_tests.browser.chromium import SiteHandler, launch, serving  # noqa: E402

WORK = REPO / "build" / "bench-search"
QUERIES = ("attention", "внимание")


# ---------------------------------------------------------------------------------------------
# The sites


def build_sites(copies: int, rebuild: bool) -> tuple[int, Path, Path]:
    """The repository's notes ``copies`` times, built with Pagefind and with the theme's lunr search;
    (number of notes, our site, the lunr site)."""
    from site_tests.browser.test_at_scale import replicate

    notes = copies * len(list((REPO / "notes").glob("*.md")))
    root = WORK / str(notes)
    ours, lunr = root / "pagefind" / "kb", root / "lunr"
    if rebuild or not (ours / "site" / "index.html").exists():
        shutil.rmtree(root / "pagefind", ignore_errors=True)
        project = replicate(ours, copies)
        timed(f"{notes} notes: papernotes build", lambda: _build(project))
    if rebuild or not (lunr / "site" / "index.html").exists():
        shutil.rmtree(lunr, ignore_errors=True)
        timed(f"{notes} notes: the same pages with the theme's search", lambda: lunr_site(ours, lunr))
    return notes, (ours / "site").resolve(), (lunr / "site").resolve()


def _build(project) -> None:
    from generator.site_build import build

    errors = [str(p) for p in build(project) if p.is_error]
    if errors:
        sys.exit("the replicated knowledge base does not build:\n" + "\n".join(errors[:20]))


def lunr_site(kb: Path, into: Path) -> None:
    """The pages ``papernotes build`` generates for ``kb``, math rendered, built by mkdocs with the
    theme's own header and search instead of ours: ``plugins: [search]``, with Russian added to its
    languages (lunr's English pipeline drops every Cyrillic word, so "внимание" would find nothing;
    Chinese would need jieba, the Python package, at build time, and is left as the theme does)."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    from generator.checks.discover import discover
    from generator.checks.verification import verification
    from generator.formulas import cached_katex, render_math_in_site
    from generator.load import load
    from generator.project import Project
    from generator.render import pages
    from generator.site_build import write_docs

    project = Project(kb)
    katex = cached_katex(project.cache)
    loaded = load(project, katex)
    specs, _ = discover(project.root, set(loaded.kb.notes))
    write_docs(project, pages.render_pages(loaded.kb, verification(project, loaded.kb, specs)), into / "docs")
    config = load_config(str(project.mkdocs_config), docs_dir=str(into / "docs"), site_dir=str(into / "site"),
                         nav=pages.navigation(loaded.kb), plugins=[{"search": {"lang": ["en", "ru"]}}])
    config.extra_javascript = [js for js in config.extra_javascript if not str(js).endswith("/search.js")]
    config.mdx_configs.setdefault("pymdownx.snippets", {})["base_path"] = [str(project.root)]
    mkdocs_build(config)
    render_math_in_site(into / "site", katex)


def timed(what: str, step) -> None:
    started = time.perf_counter()
    print(f"building {what} ...", end="", flush=True, file=sys.stderr)
    step()
    print(f" {time.perf_counter() - started:.0f} s", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# What the server sent


def is_search(path: str) -> bool:
    """A response the search needs (ours or the theme's), wherever the site is mounted."""
    return ("/pagefind/" in path or path.endswith("/search/search_index.json")
            or "/assets/javascripts/workers/search." in path or "/assets/javascripts/lunr/" in path)


class CountingHandler(SiteHandler):
    """Records the body bytes of every response, by path."""
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    def send_header(self, keyword, value):
        if keyword.lower() == "content-length":
            with self.lock:
                self.sent.append((unquote(urlsplit(self.path).path), int(value)))
        super().send_header(keyword, value)


@dataclass(frozen=True)
class Sample:
    seconds: float
    search_bytes: int
    found: bool = True


def first_query(browser, url: str, query: str, idle: bool) -> Sample:
    context = browser.new_context(base_url=url)
    CountingHandler.sent.clear()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("", wait_until="networkidle" if idle else "load")
    page.locator("input.md-search__input").click()
    page.keyboard.type(query[:-1])
    start = time.perf_counter()
    page.keyboard.type(query[-1])
    # Playwright types a letter a US keyboard lacks (Cyrillic) as text, without the keyup that a real
    # keyboard sends and that the theme's search listens to: one here, as the reader's key comes up
    page.keyboard.press("End")
    try:  # the first result, or the theme's "No matching documents"
        page.locator(".md-search-result__item, .md-search-result__meta:text-matches('^No ')").first.wait_for(timeout=120_000)
    except Exception:
        sys.exit(f"no answer for {query!r} at {url}; the page logged {errors}")
    elapsed = time.perf_counter() - start
    found = page.locator(".md-search-result__item").count() > 0
    with CountingHandler.lock:
        transferred = sum(size for path, size in CountingHandler.sent if is_search(path))
    context.close()
    return Sample(elapsed, transferred, found)


def measure(browser, site: Path, query: str, idle: bool, runs: int) -> Sample:
    with serving(site, CountingHandler) as url:
        samples = [first_query(browser, url, query, idle) for _ in range(runs)]
    return Sample(statistics.median(s.seconds for s in samples), int(statistics.median(s.search_bytes for s in samples)),
                  all(s.found for s in samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="+", default=[1], help="each note this many times (1: 74 notes)")
    parser.add_argument("--site", type=Path, help="measure this built site only")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", action="append")
    parser.add_argument("--when", choices=["idle", "at once", "both"], default="both")
    args = parser.parse_args()
    if args.site:
        sizes = [(len(list((args.site / "notes").glob("*/index.html"))), [("pagefind", args.site.resolve())])]
    else:
        sizes = []
        for copies in args.copies:
            notes, ours, lunr = build_sites(copies, args.rebuild)
            sizes.append((notes, [("pagefind", ours), ("lunr", lunr)]))
    whens = ["idle", "at once"] if args.when == "both" else [args.when]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        print(f"{'notes':>6} {'search':<9} {'query':<10} {'reader types':<13} {'first result (s)':>16} "
              f"{'search KB':>10}   median of {args.runs}")
        for notes, sites in sizes:
            for query in args.query or QUERIES:
                for when in whens:
                    for name, site in sites:
                        sample = measure(browser, site, query, when == "idle", args.runs)
                        print(f"{notes:>6} {name:<9} {query:<10} {when:<13} {sample.seconds:>16.3f} "
                              f"{sample.search_bytes / 1024:>10.1f}{'' if sample.found else '   no result'}", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
