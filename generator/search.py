"""Full-text search: a prebuilt, sharded Pagefind index written into the built site.

Pagefind reads the built pages and writes an index cut into small chunks, which the browser fetches
piecewise for the words of a query, so a first search costs a few tens of KB whatever the size of
the site. It stems and segments by language, and it takes a page's language from ``<html lang>``,
which is the theme's (``en``) on every page; a note's language is its own (``lang`` in the front
matter), so the pages are indexed here in one bundle per language, with that language forced:
Chinese notes segmented into words (Pagefind's extended build), Russian and English ones stemmed;
a language with many pages is cut into several bundles (``bundles_of``).
The site's search script (``assets/javascripts/search.js``) queries every bundle listed in
``pagefind/languages.json`` (see ``manifest``) from the one search box and merges results by score.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic

BUNDLES = Path("pagefind")
MANIFEST = BUNDLES / "languages.json"
DEFAULT_LANGUAGE = "en"
# What a reader searches is the page's article; the permalink pilcrows and KaTeX's visual layer
# (the same formula again as spans of glyphs; its MathML and TeX source stay indexed) are not, and
# neither is the code of a note's checks: its words (torch, assert, shape) would match nearly every
# note, and it was a third of what Pagefind held in memory (468 -> 336 MB, 12.3 -> 10.2 s for the
# English pages of 750 notes). A check's name and the equations it verifies, written above its
# code, are indexed, and so are the notes' own code blocks and their BibTeX.
ROOT_SELECTOR = "article.md-content__inner"
EXCLUDE_SELECTORS = (".headerlink", ".katex-html", ".md-content__button", ".md-source-file", ".pn-check .highlight")


# A language with more note pages than this is cut into several bundles (``bundles_of``). Pagefind
# holds a whole bundle in memory while it writes it (about 0.55 MB a page: 1.3 GB for the 2,350
# English pages of 3,000 notes), and an edit re-indexes the edited page's bundle, not its whole
# language. But a reader's first result waits for every bundle of the engine: at 3,000 notes, 0.51 s
# with one English bundle, 1.0 s with two, 1.1 s with five (``benchmarks/search_latency.py --site``,
# one run). Readers come first: a language is cut only past the size where one Pagefind process
# would need about 1.4 GB.
BUNDLE_PAGES = 2500
# Pagefind commands run at once (each uses every core; two bound the memory to two bundles'). A
# language is cut into parts to bound the memory, which parts indexed side by side would add up
# again: once one is, the bundles are written one at a time.
CONCURRENT_BUNDLES = 2


@dataclass(frozen=True)
class SearchPage:
    """A built page to index: its file relative to the site, the URL Pagefind stores, its bundle."""
    path: str
    url: str
    bundle: str


def bundles_of(languages: Mapping[str, str], bundle_pages: int = BUNDLE_PAGES) -> dict[str, str]:
    """The search bundle of each page in ``languages`` (URL -> language): the language's own (``en``)
    or, when the language has more than ``bundle_pages`` pages, one of ``en.0`` ... ``en.N-1``, by a
    hash of the URL, so that a page keeps its bundle from build to build while N is the same."""
    counts = Counter(languages.values())
    parts = {language: -(-count // bundle_pages) for language, count in counts.items()}
    return {url: language if parts[language] == 1 else f"{language}.{_stable_hash(url) % parts[language]}"
            for url, language in languages.items()}


def language_of(bundle: str) -> str:
    return bundle.split(".")[0]


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def index_search(site: Path, bundles: Mapping[str, str], keep: frozenset[str] = frozenset(),
                 background: bool = False) -> list[Diagnostic]:
    """Index every page of ``site`` into ``site/pagefind/<bundle>/`` and list the bundles in
    ``site/pagefind/languages.json``. ``bundles`` maps a page's URL (``notes/key/``) to its bundle
    (``bundles_of``: a language, or a part of one); pages not in it are in the English bundle. The
    bundles in ``keep`` are already in ``site`` (an incremental build kept them: none of their pages
    changed). ``background``: Pagefind runs at a low CPU priority (``serve`` indexes while the
    writer's next edit builds)."""
    pages = search_pages(site, bundles)
    if not pages:
        return [Diagnostic("mkdocs.yml", 0, f"no page of {site} has an <{ROOT_SELECTOR}> to index for search")]
    missing = _missing_extended_build()
    if missing:
        return [missing]
    by_bundle: dict[str, list[SearchPage]] = {}
    for page in pages:
        by_bundle.setdefault(page.bundle, []).append(page)
    indexed = {bundle: pages for bundle, pages in by_bundle.items() if bundle not in keep}
    # one Pagefind command per bundle, two at a time, on an event loop of its own, in a thread, so a
    # caller's running loop (a test driving a browser, an async server) does not matter
    with ThreadPoolExecutor(max_workers=1) as pool:
        problems = pool.submit(asyncio.run, _write_bundles(site, indexed, background)).result()
    if not problems:
        (site / MANIFEST).write_text(json.dumps(manifest(site, sorted(by_bundle))), encoding="utf-8")
    return problems


def manifest(site: Path, bundles: list[str]) -> dict:
    """What the browser reads first: the engines (see ``engines``) and a tag that changes whenever a
    bundle does (a digest of their entry files, which name every other file by its hash), with which
    the script lets the browser cache Pagefind's entry files instead of fetching them afresh."""
    digest = hashlib.sha256()
    for bundle in bundles:
        digest.update((site / BUNDLES / bundle / "pagefind-entry.json").read_bytes())
    return {"engines": engines(site, bundles), "tag": digest.hexdigest()[:16]}


def engines(site: Path, bundles: list[str]) -> list[list[str]]:
    """How the browser searches the bundles: one Pagefind engine per language that has a stemmer
    (its own WebAssembly module, ``wasm.<lang>.pagefind``), each a list of bundles, the first the
    engine's own, the others (that language's other parts) merged into it; a bundle without a
    stemmer (Chinese: segmented at build time, nothing to do at query time) is merged into the first
    engine, whose stemmer leaves its words as they are.
    The script runs each engine on the page's thread from its own copy of Pagefind's module
    (wasm-bindgen keeps one WebAssembly instance per module; Pagefind 1.5.2's shared worker fails,
    "memory access out of bounds", when two instances with different modules use it)."""
    stemmed = list(dict.fromkeys(language_of(b) for b in bundles
                                 if (site / BUNDLES / b / f"wasm.{language_of(b)}.pagefind").exists()))
    plain = [b for b in bundles if language_of(b) not in stemmed]
    groups = [[b for b in bundles if language_of(b) == language] for language in stemmed]
    if not groups:
        return [plain]
    return [groups[0] + plain] + groups[1:]


def search_pages(site: Path, bundles: Mapping[str, str]) -> list[SearchPage]:
    """The site's HTML pages (not the 404 page), with their URLs and bundles."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        relative = html.relative_to(site).as_posix()
        if relative.startswith(f"{BUNDLES.as_posix()}/"):
            continue
        url = relative[: -len("index.html")]
        pages.append(SearchPage(relative, "/" + url, bundles.get(url, DEFAULT_LANGUAGE)))
    return pages


BACKGROUND_NICENESS = 10


def _lower_priority(pid: int) -> None:
    """Pagefind's process (and the threads it starts from now on) yields the CPU to the rest."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, BACKGROUND_NICENESS)
    except (OSError, AttributeError):  # gone already, or a platform without priorities: it runs as it is
        pass


def _missing_extended_build() -> Diagnostic | None:
    """Chinese word segmentation needs Pagefind's extended binary (the plain one indexes Chinese
    text as one long word per sentence)."""
    try:
        import pagefind_bin_extended  # noqa: F401 - its presence is what matters
        from pagefind.index import PagefindIndex  # noqa: F401
    except ImportError as exc:
        return Diagnostic("pyproject.toml", 0, f"Pagefind's extended build is not installed ({exc}): run make install "
                          "(pip install -e . installs pagefind[extended])")
    return None


def concurrent_bundles(bundles: list[str]) -> int:
    """How many Pagefind commands write ``bundles`` at once: one when a language is cut into parts."""
    return 1 if any(language_of(bundle) != bundle for bundle in bundles) else CONCURRENT_BUNDLES


async def _write_bundles(site: Path, by_bundle: dict[str, list[SearchPage]], background: bool) -> list[Diagnostic]:
    running = asyncio.Semaphore(concurrent_bundles(list(by_bundle)))

    async def write(bundle: str, pages: list[SearchPage]) -> list[Diagnostic]:
        async with running:
            return await _write_bundle(site, bundle, pages, background)

    # the largest first, so that the small ones fill in beside it
    results = await asyncio.gather(*(write(bundle, pages) for bundle, pages in
                                     sorted(by_bundle.items(), key=lambda item: (-len(item[1]), item[0]))))
    return [problem for problems in results for problem in problems]


async def _write_bundle(site: Path, bundle: str, pages: list[SearchPage], background: bool = False) -> list[Diagnostic]:
    """One language's bundle; when Pagefind indexes fewer pages than given, that is a problem (and
    nothing is written). The pages are linked into a folder of their own and indexed by Pagefind's
    command (``pagefind --site``), which exits only once the bundle is written. Not the Python API:
    it answers one message per 0.1 s (a message per page cost 9 s of a 74-note build), and it
    terminates its service right after asking it to write, which now and then left empty files."""
    from pagefind_bin_extended import get_executable

    output, language = site / BUNDLES / bundle, language_of(bundle)
    shutil.rmtree(output, ignore_errors=True)  # unlinked, never written over: an incremental build's files may be links
    with tempfile.TemporaryDirectory(prefix=f".pagefind-{bundle}-", dir=site.parent) as folder:
        for page in pages:
            _link(site / page.path, Path(folder) / page.path)
        excludes = [arg for selector in EXCLUDE_SELECTORS for arg in ("--exclude-selectors", selector)]
        command = await asyncio.create_subprocess_exec(
            str(get_executable()), "--site", folder, "--output-path", str(output), "--root-selector", ROOT_SELECTOR,
            *excludes, "--force-language", language, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        if background:
            _lower_priority(command.pid)
        log = (await command.communicate())[0].decode("utf-8", "replace")
    indexed = re.search(r"Indexed (\d+) pages?", log)
    if command.returncode != 0 or indexed is None:
        return [Diagnostic("search", 0, f"Pagefind could not index the {bundle} pages: {log.strip()[-500:]}")]
    if int(indexed[1]) != len(pages):
        shutil.rmtree(output, ignore_errors=True)
        return [Diagnostic("search", 0, f"Pagefind indexed {indexed[1]} of the {len(pages)} {bundle} pages: "
                           f"a page without text under {ROOT_SELECTOR}?")]
    return []


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copyfile(source, target)
