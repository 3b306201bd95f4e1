"""Page weight: what a reader's browser downloads from the built site, and how long pages take.

Loads representative pages of ``site/`` (build it first: ``make build``) in headless Chromium, each
with a cold cache (a fresh browser profile per run) and a warm one (the same profile, the page
visited before), and prints for each:

  requests, bytes the server sent (headers and bodies; the local server does not compress), what
  the same responses weigh gzip-compressed as a static host would send them, the bytes beyond the
  theme's shared assets (everything outside ``assets/``: the page itself, the sitemap, the search
  index once the reader searches, plotly.js), whether plotly.js was requested, and the median time to
  the load event (for the search row: to the first results, typing as soon as the page has loaded).

Then whether the budgets hold (a note page without a chart transfers under 150 KB beyond the
theme's shared assets, gzip-compressed, and loads no plotly.js), and the search index's size for
the current notes and for two 3,000-note synthetic corpora (English; a third each in English,
Chinese and Russian), escaped as the theme writes it and as UTF-8 as ``papernotes build`` writes it.

    python benchmarks/page_weight.py                      # 5 runs a page, and the 3,000-note corpora
    python benchmarks/page_weight.py --runs 3 --corpus-notes 0
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "site_tests"), str(Path(__file__).parent)]

from browser.chromium import SiteHandler, launch, serving  # noqa: E402
from build_scale import synthetic_corpus  # noqa: E402


BUDGET_KB = 150
KB = 1000
BEYOND_THEME = ("page", "index", "sitemap", "plotly")


# ---------------------------------------------------------------------------------------------
# What the server sent


@dataclass(frozen=True)
class Response:
    path: str
    status: int
    sent: int  # bytes on the wire: status line, headers, body

    @property
    def kind(self) -> str:
        """theme (shared assets), plotly, index and sitemap (fetched by every page), page (the rest)."""
        if self.path.endswith("/plotly.min.js"):
            return "plotly"
        if self.path.startswith("/assets/"):
            return "theme"
        return {"/search/search_index.json": "index", "/sitemap.xml": "sitemap"}.get(self.path, "page")


class _Counter:
    def __init__(self, stream):
        self.stream, self.count = stream, 0

    def write(self, data):
        self.count += len(data)
        return self.stream.write(data)

    def __getattr__(self, name):
        return getattr(self.stream, name)


class CountingHandler(SiteHandler):
    """Records every response as (path, status, bytes sent). HTTP/1.0: one request a connection."""
    responses: list[Response] = []
    lock = threading.Lock()

    def setup(self):
        super().setup()
        self.wfile = _Counter(self.wfile)
        self._status = 0

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def finish(self):
        if getattr(self, "path", None):
            with self.lock:
                self.responses.append(Response(unquote(urlsplit(self.path).path), self._status, self.wfile.count))
        super().finish()


@lru_cache(maxsize=None)
def gzipped(site: Path, path: str) -> tuple[int, int]:
    """The size of the file served at ``path``, and what a static host sends for it with gzip
    (formats that are compressed already as they are)."""
    file = site / path.lstrip("/")
    if file.is_dir():
        file = file / "index.html"
    data = file.read_bytes()
    return len(data), len(data) if file.suffix in (".woff2", ".png", ".gz") else len(gzip.compress(data, 6))


# ---------------------------------------------------------------------------------------------
# Loading pages


@dataclass(frozen=True)
class Load:
    responses: tuple[Response, ...]
    ms: float

    def sent(self, *kinds: str) -> int:
        return sum(r.sent for r in self.responses if not kinds or r.kind in kinds)

    def gzip(self, site: Path, *kinds: str) -> int:
        """The same responses with their bodies gzip-compressed (a 304 as it was sent)."""
        total = 0
        for r in self.responses:
            if not kinds or r.kind in kinds:
                raw, compressed = gzipped(site, r.path) if r.status == 200 else (0, 0)
                total += r.sent - raw + compressed
        return total

    @property
    def plotly(self) -> bool:
        return any(r.kind == "plotly" for r in self.responses)


def visit(page, path: str, search: str | None) -> float:
    """Open ``path`` (and search for ``search``); milliseconds to the load event (to the results)."""
    page.goto(path)
    if search:
        started = page.evaluate("performance.now()")
        box = page.locator("input.md-search__input")
        box.fill(search)
        box.press("End")
        page.locator(".md-search-result__item").first.wait_for()
        ms = page.evaluate("performance.now()") - started + page.evaluate(
            "performance.getEntriesByType('navigation')[0].loadEventEnd")
    page.wait_for_load_state("networkidle")
    if not search:
        ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    return ms


def measure(browser, base: str, path: str, search: str | None, runs: int, warm: bool) -> list[Load]:
    loads = []
    context = browser.new_context(base_url=base) if warm else None
    if warm:
        visit(context.new_page(), path, search)
    for _ in range(runs):
        ctx = context or browser.new_context(base_url=base)
        page = ctx.new_page()
        CountingHandler.responses.clear()
        ms = visit(page, path, search)
        loads.append(Load(tuple(CountingHandler.responses), ms))
        page.close()
        if not warm:
            ctx.close()
    if context:
        context.close()
    return loads


def representative_pages(site: Path) -> list[tuple[str, str, str | None]]:
    """(label, path, search term): home, the heaviest note without a chart, a note with a chart,
    the largest category page, and a search typed on that category page (no chart to load)."""
    notes = sorted(site.glob("notes/*/index.html"))
    charted = [p for p in notes if "data-pn-chart=" in p.read_text(encoding="utf-8")]
    plain = [p for p in notes if p not in charted]
    categories = sorted(site.glob("categories/*/index.html"), key=lambda p: p.stat().st_size)
    pages = [("home", "", None)]
    if plain:
        heaviest = max(plain, key=lambda p: p.stat().st_size)
        pages.append(("note without a chart", f"notes/{heaviest.parent.name}/", None))
    if charted:
        pages.append(("note with a chart", f"notes/{charted[0].parent.name}/", None))
    pages.append(("category", f"categories/{categories[-1].parent.name}/", None))
    pages.append(("search 'attention'", f"categories/{categories[-1].parent.name}/", "attention"))
    return pages


# ---------------------------------------------------------------------------------------------
# The search index


def index_sizes(site: Path) -> tuple[int, int, int, int, int]:
    """Documents; bytes escaped (as the theme writes it) and as UTF-8; both gzip-compressed."""
    data = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    escaped = compact_json(data, ascii_only=True).encode()
    utf8 = compact_json(data, ascii_only=False).encode()
    return len(data["docs"]), len(escaped), len(utf8), len(gzip.compress(escaped, 6)), len(gzip.compress(utf8, 6))


def corpus_index(n: int, languages: tuple[str, ...]) -> tuple[int, int, int, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        synthetic_corpus(root, n, languages=languages)
        done = subprocess.run([str(Path(sys.executable).parent / "papernotes"), "build"], cwd=root,
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"building the {n}-note corpus failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return index_sizes((root / "site").resolve())


# ---------------------------------------------------------------------------------------------


def kb(n: int) -> str:
    return f"{n / KB:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--runs", type=int, default=5, help="loads a page and cache state (default 5)")
    parser.add_argument("--corpus-notes", type=int, default=3000, help="synthetic corpus size; 0 to skip")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / "index.html").exists():
        sys.exit(f"{site}: no built site; run `papernotes build` first")

    from playwright.sync_api import sync_playwright

    rows = []
    print(f"{'page':<22} {'path':<34} {'cache':<5} {'requests':>8} {'sent KB':>9} {'gzip KB':>8} "
          f"{'beyond theme KB (gzip)':>22} {'plotly':>6} {'ms (median)':>11}")
    with serving(site, CountingHandler) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        for label, path, search in representative_pages(site):
            for warm in (False, True):
                loads = measure(browser, base, path, search, args.runs, warm)
                last = loads[-1]
                ms = statistics.median(load.ms for load in loads)
                beyond, beyond_gz = last.sent(*BEYOND_THEME), last.gzip(site, *BEYOND_THEME)
                rows.append((label, path, warm, last, beyond_gz))
                print(f"{label:<22} /{path:<33} {'warm' if warm else 'cold':<5} {len(last.responses):>8} "
                      f"{kb(last.sent()):>9} {kb(last.gzip(site)):>8} {kb(beyond):>12} ({kb(beyond_gz):>6}) "
                      f"{'yes' if last.plotly else 'no':>6} {ms:>11.0f}", flush=True)
        browser.close()

    print()
    for label, path, warm, load, beyond_gz in rows:
        if label == "note without a chart" and not warm:
            holds = beyond_gz < BUDGET_KB * KB and not load.plotly
            print(f"budget: /{path} (the heaviest note without a chart), cold: {kb(beyond_gz)} KB gzip beyond the "
                  f"theme's shared assets (under {BUDGET_KB} KB: {'yes' if beyond_gz < BUDGET_KB * KB else 'NO'}), "
                  f"plotly.js loaded: {'YES' if load.plotly else 'no'} -> {'holds' if holds else 'FAILS'}")
            print("        of which, KB gzip (uncompressed): " + ", ".join(
                f"{kind} {kb(load.gzip(site, kind))} ({kb(load.sent(kind))})" for kind in BEYOND_THEME))

    print()
    print(f"{'search index':<34} {'docs':>6} {'escaped KB':>10} {'UTF-8 KB':>9} {'ratio':>6} {'gzip escaped':>12} {'gzip UTF-8':>10}")
    sets = [("this site", lambda: index_sizes(site))]
    if args.corpus_notes:
        n = args.corpus_notes
        sets += [(f"{n:,} synthetic notes, en", lambda: corpus_index(n, ("en",))),
                 (f"{n:,} synthetic notes, en/zh/ru", lambda: corpus_index(n, ("en", "zh", "ru")))]
    for label, sizes in sets:
        docs, escaped, utf8, gz_escaped, gz_utf8 = sizes()
        print(f"{label:<34} {docs:>6} {kb(escaped):>10} {kb(utf8):>9} {escaped / utf8:>5.2f}x "
              f"{kb(gz_escaped):>12} {kb(gz_utf8):>10}", flush=True)


if __name__ == "__main__":
    main()


def compact_json(data, ascii_only: bool) -> str:
    """An index as the theme's lunr plugin writes it (compact), with or without ``\\uXXXX`` escapes."""
    return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=ascii_only)
