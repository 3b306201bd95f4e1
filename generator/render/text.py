"""Escaping user text (front matter, BibTeX) for the Markdown and HTML we generate."""
from __future__ import annotations

import html
import json
import re

from markupsafe import Markup

from ..markdown_scan import INLINE_MATH

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}|$~#!])")


def md_text(text: str) -> Markup:
    """``text`` as literal characters in Markdown: no HTML, no emphasis, no links, no math.

    Returned as ``Markup`` so that templates print it as is (it is already escaped).
    """
    return Markup(MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)))


def md_title_attr(text: str) -> str:
    """``text`` inside a Markdown link title ``"..."``."""
    return html.escape(text, quote=True).replace("\\", "&#92;")


def page_title(text: str) -> Markup:
    """A page title for mkdocs front matter: a YAML (JSON) string of HTML-escaped text.

    mkdocs and the theme print ``page.title`` into ``<title>``, the header and the navigation
    without escaping it, so it must arrive escaped.
    """
    return Markup(json.dumps(html.escape(text, quote=True)))


def md_text_with_math(text: str) -> Markup:
    """``md_text``, except that ``$...$`` stays inline math (a TL;DR may hold a formula)."""
    parts, last = [], 0
    for m in INLINE_MATH.finditer(text):
        parts += [md_text(text[last:m.start()]), Markup(m[0])]
        last = m.end()
    return Markup("").join(parts + [md_text(text[last:])])


def html_text_with_math(text: str) -> Markup:
    """Escaped HTML text whose ``$...$`` become the math spans the build renders with KaTeX (for
    raw HTML, which Markdown and its math extension never read)."""
    parts, last = [], 0
    for m in INLINE_MATH.finditer(text):
        tex = html.escape(m["tex"], quote=False)
        parts += [html.escape(text[last:m.start()], quote=False), f'<span class="arithmatex">\\({tex}\\)</span>']
        last = m.end()
    return Markup("".join(parts + [html.escape(text[last:], quote=False)]))
