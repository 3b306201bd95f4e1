"""Rewrite a note's Markdown body for the site: citations become links, labelled equations get anchors."""
from __future__ import annotations

import html
import re
from typing import Callable

from ..checks.verification import Badge
from ..model import FigureRef, Formula, KnowledgeBase, Note
from . import urls
from .charts import chart_json
from .text import md_text, md_title_attr


def citation_label(kb: KnowledgeBase, key: str) -> tuple[str, str]:
    """(link text, hover title) for a cited key: ``Vaswani et al., 2017``."""
    reference = kb.reference(key)
    if reference:
        return f"{reference.short_authors()}, {reference.year_label or 'n.d.'}", reference.title
    note = kb.notes[key]
    return note.title, note.title


def citation_target(kb: KnowledgeBase, from_docs: str, key: str) -> str:
    """The note's page if there is one, else the key's entry on the bibliography page."""
    if key in kb.notes:
        return urls.md_link(from_docs, urls.note_page(key))
    return urls.md_link(from_docs, urls.BIBLIOGRAPHY, anchor=urls.anchor(key))


def citation_markdown(kb: KnowledgeBase, from_docs: str, keys: tuple[str, ...]) -> str:
    links = []
    for key in keys:
        text, title = citation_label(kb, key)
        links.append(f'[{md_text(text)}]({citation_target(kb, from_docs, key)} "{md_title_attr(title)}")')
    return "(" + "; ".join(links) + ")"


TEX_WORD = re.compile(r"\S*\\[A-Za-z]+\S*")


def tex_as_code(text: str) -> str:
    """A reason in prose that names LaTeX constructs (``needs \\nabla``): the TeX shown as code, not as math."""
    return "".join(f"<code>{html.escape(part)}</code>" if TEX_WORD.fullmatch(part) else html.escape(part)
                   for part in re.split(r"(\S*\\[A-Za-z]+\S*)", text))


def badge_html(badge: Badge | None) -> str:
    if badge is None:
        return ""
    href = f' href="#check-{badge.check}"' if badge.check else ""
    tag = "a" if badge.check else "span"
    kind = f" pn-badge--{badge.kind}" if badge.kind else ""
    why = f' <span class="pn-why">not evaluated: {tex_as_code(badge.not_evaluated)}</span>' if badge.not_evaluated else ""
    return (f'<{tag} class="pn-badge pn-badge--{badge.state}{kind}"{href} title="{html.escape(badge.title)}">'
            f"{html.escape(badge.text)}</{tag}>{why}")


def equation_markdown(formula: Formula, body: str, badge: Badge | None, equation_id: str = "") -> str:
    """A labelled display formula wrapped in an anchored block with its check's status badge
    (indentation kept for admonitions); the search index holds its id (``key/label``), so a query
    for the id finds this block."""
    indent = formula.indent
    original = body[formula.start:formula.end].rstrip("\n")
    math = original[: original.rfind("$$") + 2]
    searchable = f' data-pn-equation="{html.escape(equation_id)}" data-pagefind-index-attrs="data-pn-equation"' if equation_id else ""
    return (f'{indent}<div class="pn-equation" id="eq-{formula.label}"{searchable} markdown>\n\n'
            f"{math}\n\n{indent}{badge_html(badge)}\n\n{indent}</div>\n")


def figure_markdown(ref: FigureRef, figure: dict | None) -> str:
    """The chart a check drew, from the numbers it verified; a placeholder until checks have run."""
    if figure is None:
        return (f'{ref.indent}<p class="pn-chart-missing">Chart <code>{ref.label}</code> is drawn by this note\'s checks: '
                f"run <code>papernotes check</code>, then build.</p>\n")
    return (f'{ref.indent}<div class="pn-chart" data-pn-chart="{ref.label}" data-pn-figure="{html.escape(chart_json(figure))}" '
            f'role="img" aria-label="Chart {ref.label}"></div>\n')


def rewrite_body(kb: KnowledgeBase, note: Note, badge: Callable[[str], Badge | None],
                 figure: Callable[[str, str], dict | None] = lambda key, label: None) -> str:
    """The body with every ``[@key]`` and labelled equation replaced, back to front so offsets hold."""
    from_docs = urls.note_page(note.key)
    edits = [(c.start, c.end, citation_markdown(kb, from_docs, c.keys)) for c in note.cites]
    edits += [(f.start, f.end, equation_markdown(f, note.body, badge(f"{note.key}/{f.label}"), f"{note.key}/{f.label}")) for f in note.formulas if f.label]
    edits += [(r.start, r.end, figure_markdown(r, figure(note.key, r.label))) for r in note.figures]
    body = note.body
    for start, end, replacement in sorted(edits, reverse=True):
        body = body[:start] + replacement + body[end:]
    return body
