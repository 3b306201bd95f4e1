"""Full-text search: a prebuilt, sharded Pagefind index written into the built site.

Pagefind reads the built pages and writes an index cut into small chunks, which the browser fetches
piecewise for the words of a query, so a first search costs a few tens of KB whatever the size of
the site. It stems and segments by language, and it takes a page's language from ``<html lang>``,
which is the theme's (``en``) on every page; a note's language is its own (``lang`` in the front
matter), so the pages are indexed here in one bundle per language, with that language forced:
Chinese notes segmented into words (Pagefind's extended build), Russian and English ones stemmed.
The site's search script (``assets/javascripts/search.js``) queries every bundle listed in
``pagefind/languages.json`` (see ``manifest``) from the one search box and merges results by score.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic

BUNDLES = Path("pagefind")
MANIFEST = BUNDLES / "languages.json"
DEFAULT_LANGUAGE = "en"
# What a reader searches is the page's article; the permalink pilcrows and KaTeX's visual layer
# (the same formula again as spans of glyphs; its MathML and TeX source stay indexed) are not.
ROOT_SELECTOR = "article.md-content__inner"
EXCLUDE_SELECTORS = (".headerlink", ".katex-html", ".md-content__button", ".md-source-file")


@dataclass(frozen=True)
class SearchPage:
    """A built page to index: its file relative to the site, the URL Pagefind stores, its language."""
    path: str
    url: str
    language: str


def index_search(site: Path, languages: Mapping[str, str]) -> list[Diagnostic]:
    """Index every page of ``site`` into ``site/pagefind/<lang>/`` bundles and list them in
    ``site/pagefind/languages.json``. ``languages`` maps a page's URL (``notes/key/``) to its
    language; pages not in it are in English."""
    pages = search_pages(site, languages)
    if not pages:
        return [Diagnostic("mkdocs.yml", 0, f"no page of {site} has an <{ROOT_SELECTOR}> to index for search")]
    missing = _missing_extended_build()
    if missing:
        return [missing]
    by_language: dict[str, list[SearchPage]] = {}
    for page in pages:
        by_language.setdefault(page.language, []).append(page)
    # Pagefind's Python API is async; its own event loop, in a thread, so a caller's running loop
    # (a test driving a browser, an async server) does not matter
    with ThreadPoolExecutor(max_workers=1) as pool:
        problems = pool.submit(asyncio.run, _write_bundles(site, by_language)).result()
    if not problems:
        (site / MANIFEST).write_text(json.dumps(manifest(site, sorted(by_language))), encoding="utf-8")
    return problems


def manifest(site: Path, languages: list[str]) -> dict:
    """What the browser reads first: the engines (see ``engines``) and a tag that changes whenever a
    bundle does (a digest of their entry files, which name every other file by its hash), with which
    the script lets the browser cache Pagefind's entry files instead of fetching them afresh."""
    digest = hashlib.sha256()
    for language in languages:
        digest.update((site / BUNDLES / language / "pagefind-entry.json").read_bytes())
    return {"engines": engines(site, languages), "tag": digest.hexdigest()[:16]}


def engines(site: Path, languages: list[str]) -> list[list[str]]:
    """How the browser searches the bundles: one Pagefind engine per language that has a stemmer
    (its own WebAssembly module, ``wasm.<lang>.pagefind``), each a list of bundles, the first the
    engine's own; a bundle without a stemmer (Chinese: segmented at build time, nothing to do at
    query time) is merged into the first engine, whose stemmer leaves its words as they are.
    The script runs each engine on the page's thread from its own copy of Pagefind's module
    (wasm-bindgen keeps one WebAssembly instance per module; Pagefind 1.5.2's shared worker fails,
    "memory access out of bounds", when two instances with different modules use it)."""
    stemmed = [lang for lang in languages if (site / BUNDLES / lang / f"wasm.{lang}.pagefind").exists()]
    plain = [lang for lang in languages if lang not in stemmed]
    if not stemmed:
        return [plain]
    return [[stemmed[0], *plain]] + [[lang] for lang in stemmed[1:]]


def search_pages(site: Path, languages: Mapping[str, str]) -> list[SearchPage]:
    """The site's HTML pages (not the 404 page), with their URLs and languages."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        relative = html.relative_to(site).as_posix()
        if relative.startswith(f"{BUNDLES.as_posix()}/"):
            continue
        url = relative[: -len("index.html")]
        pages.append(SearchPage(relative, "/" + url, languages.get(url, DEFAULT_LANGUAGE)))
    return pages


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


async def _write_bundles(site: Path, by_language: dict[str, list[SearchPage]]) -> list[Diagnostic]:
    results = await asyncio.gather(*(_write_bundle(site, language, pages) for language, pages in sorted(by_language.items())))
    return [problem for problems in results for problem in problems]


async def _write_bundle(site: Path, language: str, pages: list[SearchPage], attempts: int = 3) -> list[Diagnostic]:
    """One language's bundle, checked once written: Pagefind 1.5.2's service can be stopped (when its
    context closes) before its last files reach the disk, which leaves an empty
    ``pagefind-entry.json`` on a busy machine; such a bundle is written again."""
    for _ in range(attempts):
        shutil.rmtree(site / BUNDLES / language, ignore_errors=True)
        problems = await _index_bundle(site, language, pages)
        if problems or not (broken := incomplete_files(site / BUNDLES / language)):
            return problems
    return [Diagnostic("search", 0, f"Pagefind wrote an incomplete {language} bundle {attempts} times: "
                       f"empty {', '.join(broken[:3])}")]


def incomplete_files(bundle: Path) -> list[str]:
    """The files of a written bundle that are empty (every file Pagefind writes has content)."""
    return sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file() and p.stat().st_size == 0)


async def _index_bundle(site: Path, language: str, pages: list[SearchPage]) -> list[Diagnostic]:
    """One language's bundle; every page Pagefind refuses is a problem (and nothing is written)."""
    from pagefind.index import IndexConfig, PagefindIndex

    config = IndexConfig(root_selector=ROOT_SELECTOR, exclude_selectors=list(EXCLUDE_SELECTORS),
                         force_language=language, output_path=str(site / BUNDLES / language))
    problems: list[Diagnostic] = []
    try:
        async with PagefindIndex(config=config) as index:
            for page in pages:
                indexed = await index.add_html_file(content=(site / page.path).read_text(encoding="utf-8"), url=page.url)
                if not indexed.get("page_word_count"):
                    problems.append(Diagnostic(page.path, 0, f"search: Pagefind found no text to index under {ROOT_SELECTOR}"))
            if problems:
                raise _Refused()
    except _Refused:
        return problems
    except Exception as exc:  # the Pagefind service's errors arrive as exceptions of its own types
        return [Diagnostic("search", 0, f"Pagefind could not index the {language} pages: {exc}")]
    return problems


class _Refused(Exception):
    """Leaves the index's context without writing the bundle."""
