"""Render every page of the site from the knowledge base, as a dict of docs path -> Markdown."""
from __future__ import annotations

import functools
import html
from collections.abc import Callable
from pathlib import Path

import jinja2

from ..checks.verification import Verification
from ..content_cache import digest
from ..memo import ParseMemo
from ..model import KnowledgeBase
from . import urls, views

TEMPLATES = Path(__file__).parent / "templates"


def environment(bytecode: Path | None = None) -> jinja2.Environment:
    """Our page templates' environment; ``bytecode``: a folder keeping them compiled across builds
    (Jinja checks each template's source checksum), a fixed part of every build otherwise."""
    if bytecode is not None:
        bytecode.mkdir(parents=True, exist_ok=True)
    return jinja2.Environment(
        bytecode_cache=None if bytecode is None else jinja2.FileSystemBytecodeCache(str(bytecode)),
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value from front matter or BibTeX is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_pages(kb: KnowledgeBase, verification: Verification, bytecode: Path | None = None,
                 memo: ParseMemo | None = None) -> dict[str, str]:
    """Every page's Markdown by docs path. ``memo``: where pages rendered before are found: a note
    page by the digest of what it reads (``views.note_inputs``), so an edit renders the pages it
    touches (the edited note's, and every one when a shared input, the bibliography or the
    taxonomy, changes); the index pages, which list every note, all at once by the digest of what
    they read (``views.index_inputs``: a prose edit changes none of it), else each by its view
    (computed, and rendered only when it changed: a tag edit renders the pages that list the tag)."""
    env = environment(bytecode)
    index = index_contexts(kb, verification)

    def render_index(page: str) -> str:
        template, context = index()[page]
        return env.get_template(template).render(**context)

    note = env.get_template("note.md.j2")

    def render(key: str) -> str:
        return note.render(note=views.note_view(kb, kb.notes[key], verification))

    if memo is None:
        pages = {page: render_index(page) for page in index()}
        rendered = {key: render(key) for key in kb.notes}
    else:
        # each index page's key, found by what the index pages read; its views made only when that changed
        keys = memo.values("index page keys", {"index": views.index_inputs(kb, verification)},
                           lambda _: {page: digest(page, template, repr(context)) for page, (template, context) in index().items()})["index"]
        pages = memo.values("index page", keys, render_index)
        shared = views.shared_note_inputs(kb)
        inputs = {key: digest(shared, views.note_inputs(kb, n, verification)) for key, n in kb.notes.items()}
        rendered = memo.values("note page", inputs, render)
    pages.update((urls.note_page(key), text) for key, text in rendered.items())
    return pages


def index_contexts(kb: KnowledgeBase, verification: Verification) -> Callable[[], dict[str, tuple[str, dict]]]:
    """The index pages (home, categories, timeline, bibliography, verification, each category):
    docs path -> (template, what it prints), made on the first call, once."""
    @functools.cache
    def contexts() -> dict[str, tuple[str, dict]]:
        rows: dict = {}  # each note's row in the category tables, made once per page depth
        listed = [views.category_view(kb, c.slug, urls.CATEGORIES, rows) for c in kb.taxonomy.categories]
        index = {
            urls.HOME: ("home.md.j2", {"home": views.home(kb, verification, listed)}),
            urls.CATEGORIES: ("categories.md.j2", {"categories": listed}),
            urls.TIMELINE: ("timeline.md.j2", {"years": views.timeline(kb)}),
            urls.BIBLIOGRAPHY: ("bibliography.md.j2", {"entries": views.bibliography(kb),
                                                       "bib_file": urls.md_link(urls.BIBLIOGRAPHY, urls.BIBTEX_FILE)}),
            urls.VERIFICATION: ("verification.md.j2", {"page": views.verification_page(kb, verification)}),
        }
        for c in kb.taxonomy.categories:
            page = urls.category_page(c.slug)
            index[page] = ("category.md.j2", {"category": views.category_view(kb, c.slug, page, rows)})
        return index

    return contexts


def navigation(kb: KnowledgeBase) -> list:
    """The site navigation: index pages and categories, never one entry per note (it is rendered
    into every page, so it must not grow with the number of notes)."""
    return [
        {"Home": urls.HOME},
        {"Categories": [urls.CATEGORIES] + [{html.escape(c.title): urls.category_page(c.slug)} for c in kb.taxonomy.categories]},
        {"Timeline": urls.TIMELINE},
        {"Bibliography": urls.BIBLIOGRAPHY},
        {"Verification": urls.VERIFICATION},
    ]
