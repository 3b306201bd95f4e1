"""Escaping user text (front matter, BibTeX) for the Markdown and HTML we generate."""
from __future__ import annotations

import html
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
