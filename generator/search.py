"""The theme's search, finished for notes in English, Chinese and Russian.

Material's search plugin writes ``search/search_index.json`` with every non-ASCII character escaped
as ``\\uXXXX``: six bytes for a Chinese character (three in UTF-8), six to twelve for a Cyrillic
letter (two). Every page fetches that file, so it is rewritten as UTF-8. Its search worker never
stems a query word (see ``search_worker.js``), so Russian inflected forms would not find each
other; the worker is given a query-side stemmer. Chinese text is segmented with jieba by the
plugin itself; ``mkdocs.yml`` lists ``zh`` among the search languages so that the index keeps it.
"""
from __future__ import annotations

import json
from pathlib import Path

from .diagnostics import Diagnostic

INDEX = Path("search") / "search_index.json"
WORKERS = Path("assets") / "javascripts" / "workers"
STEMMING = Path(__file__).with_name("search_worker.js")
MARK = "/* papernotes: a Russian word"


def finish_search(site: Path) -> list[Diagnostic]:
    """Rewrite the built site's search index as UTF-8 and add query stemming to its worker."""
    index = site / INDEX
    workers = sorted((site / WORKERS).glob("search.*.js"))
    workers = [w for w in workers if not w.name.endswith(".map")]
    if not index.exists() or len(workers) != 1:
        return [Diagnostic("mkdocs.yml", 0, f"the theme's search did not write {INDEX} and one worker in {WORKERS} "
                           f"(found {[w.name for w in workers]}): is the 'search' plugin enabled?")]
    index.write_text(compact_json(json.loads(index.read_text(encoding="utf-8")), ascii_only=False), encoding="utf-8")
    worker = workers[0].read_text(encoding="utf-8")
    if MARK not in worker:
        workers[0].write_text(STEMMING.read_text(encoding="utf-8") + worker, encoding="utf-8")
    return []


def compact_json(data, ascii_only: bool) -> str:
    """The index as the theme's plugin writes it (compact), with or without ``\\uXXXX`` escapes."""
    return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=ascii_only)
