"""Escaping user text (front matter, BibTeX) for the Markdown and HTML we generate."""
from __future__ import annotations

import html
import json
import re

from markupsafe import Markup

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
