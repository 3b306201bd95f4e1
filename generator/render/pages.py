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
    """Every page's Markdown by docs path. ``memo``: where note pages rendered before are found by
    the digest of what they read (``views.note_inputs``), so an edit renders the pages it touches
    (the edited note's, and every one when a shared input, the bibliography or the taxonomy, changes);
    the index pages, which list every note, are rendered each time."""
    env = environment(bytecode)
    pages = {
        urls.HOME: env.get_template("home.md.j2").render(home=views.home(kb, verification), asset=lambda p: urls.href(urls.HOME, p)),
        urls.CATEGORIES: env.get_template("categories.md.j2").render(
            categories=[views.category_view(kb, c.slug, urls.CATEGORIES) for c in kb.taxonomy.categories]),
        urls.TIMELINE: env.get_template("timeline.md.j2").render(years=views.timeline(kb)),
        urls.BIBLIOGRAPHY: env.get_template("bibliography.md.j2").render(
            entries=views.bibliography(kb), bib_file=urls.md_link(urls.BIBLIOGRAPHY, urls.BIBTEX_FILE)),
        urls.VERIFICATION: env.get_template("verification.md.j2").render(page=views.verification_page(kb, verification)),
    }
    category = env.get_template("category.md.j2")
    for c in kb.taxonomy.categories:
        page = urls.category_page(c.slug)
        pages[page] = category.render(category=views.category_view(kb, c.slug, page))
    note = env.get_template("note.md.j2")

    def render(key: str) -> str:
        return note.render(note=views.note_view(kb, kb.notes[key], verification))

    if memo is None:
        rendered = {key: render(key) for key in kb.notes}
    else:
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
