"""The theme's search, finished for notes in English, Chinese and Russian.

Material's search plugin writes ``search/search_index.json`` with every non-ASCII character escaped
as ``\\uXXXX``: six bytes for a Chinese character (three in UTF-8), six to twelve for a Cyrillic
letter (two); it is rewritten as UTF-8. Every page of the theme fetches the whole index as soon as it
loads; the theme's bundle is made to fetch it only when the reader reaches for the search box (see
``search_on_demand.js``). Its search worker never stems a query word (see ``search_worker.js``), so
Russian inflected forms would not find each other; the worker is given a query-side stemmer. Chinese
text is segmented with jieba by the plugin itself; ``mkdocs.yml`` lists ``zh`` among the search
languages so that the index keeps it.
"""
from __future__ import annotations

import json
from pathlib import Path

from .diagnostics import Diagnostic

INDEX = Path("search") / "search_index.json"
SCRIPTS = Path("assets") / "javascripts"
STEMMING = Path(__file__).with_name("search_worker.js")
ON_DEMAND = Path(__file__).with_name("search_on_demand.js")


def finish_search(site: Path) -> list[Diagnostic]:
    """Rewrite the built site's search index as UTF-8, make the theme fetch it on demand, and add
    query stemming to its search worker."""
    index = site / INDEX
    bundle = sorted((site / SCRIPTS).glob("bundle.*.min.js"))
    worker = sorted((site / SCRIPTS / "workers").glob("search.*.min.js"))
    if not index.exists() or len(bundle) != 1 or len(worker) != 1:
        return [Diagnostic("mkdocs.yml", 0, f"expected the theme's {INDEX}, one bundle.*.min.js and one workers/search.*.min.js "
                           f"in {SCRIPTS} (found {[p.name for p in bundle + worker]}): is the 'search' plugin enabled?")]
    index.write_text(compact_json(json.loads(index.read_text(encoding="utf-8")), ascii_only=False), encoding="utf-8")
    _prepend(ON_DEMAND, bundle[0])
    _prepend(STEMMING, worker[0])
    return []


def _prepend(script: Path, to: Path) -> None:
    """``script`` before the theme's code in ``to`` (a file of this build, never the theme's own)."""
    code = script.read_text(encoding="utf-8")
    theme = to.read_text(encoding="utf-8")
    if not theme.startswith(code):
        to.write_text(code + theme, encoding="utf-8")


def compact_json(data, ascii_only: bool) -> str:
    """The index as the theme's plugin writes it (compact), with or without ``\\uXXXX`` escapes."""
    return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=ascii_only)
