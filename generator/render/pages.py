"""Render every page of the site from the knowledge base, as a dict of docs path -> Markdown."""
from __future__ import annotations

import html
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
    taxonomy, changes); an index page, which lists every note, by its view (computed each time,
    rendered only when it changed: a prose edit changes no list)."""
    env = environment(bytecode)
    rows: dict = {}  # each note's row in the category tables, made once per page depth
    listed = [views.category_view(kb, c.slug, urls.CATEGORIES, rows) for c in kb.taxonomy.categories]
    index = {  # docs path -> (template, what it prints)
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

    def render_index(page: str) -> str:
        template, context = index[page]
        return env.get_template(template).render(**context)

    note = env.get_template("note.md.j2")

    def render(key: str) -> str:
        return note.render(note=views.note_view(kb, kb.notes[key], verification))

    if memo is None:
        pages = {page: render_index(page) for page in index}
        rendered = {key: render(key) for key in kb.notes}
    else:
        pages = memo.values("index page", {page: digest(page, template, repr(context)) for page, (template, context) in index.items()},
                            render_index)
        shared = views.shared_note_inputs(kb)
        inputs = {key: digest(shared, views.note_inputs(kb, n, verification)) for key, n in kb.notes.items()}
        rendered = memo.values("note page", inputs, render)
    pages.update((urls.note_page(key), text) for key, text in rendered.items())
    return pages


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
