"""Formulas rendered at build time with KaTeX (pykatex: real KaTeX in an embedded JS engine).

Two uses: ``check_formulas`` reports malformed TeX at its note's line before anything is built;
``render_math_in_html`` replaces pymdownx.arithmatex's generic output in the built pages, after the
search plugin has indexed them (so the index keeps the TeX a reader would type).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pykatex

from .diagnostics import Diagnostic
from .readers.notes import NoteSource

ARITHMATEX = re.compile(
    r'<span class="arithmatex">\\\((?P<inline>.*?)\\\)</span>'
    r'|<div class="arithmatex">\\\[(?P<display>.*?)\\\]</div>',
    re.DOTALL,
)


class MathError(ValueError):
    pass


class Katex:
    """Renders TeX to KaTeX HTML (+ MathML for screen readers), caching each distinct formula."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool], str] = {}

    def render(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self._cache:
            try:
                self._cache[key] = pykatex.renderToString(tex, displayMode=display, throwOnError=True,
                                                          output="htmlAndMathml", strict="ignore")
            except Exception as exc:  # pykatex.ParseError, and anything its JS engine raises
                raise MathError(str(exc).split("\n")[0]) from None
        return self._cache[key]


def check_formulas(sources: list[NoteSource], katex: Katex) -> list[Diagnostic]:
    """Every formula in every note renders, or is reported at its line."""
    problems = []
    for source in sources:
        for formula in source.scan.formulas if source.scan else ():
            try:
                katex.render(formula.tex, formula.display)
            except MathError as exc:
                problems.append(Diagnostic(source.path, formula.line, f"formula does not render: {exc}; fix the TeX (KaTeX syntax)"))
    return problems


def render_math_in_html(page: str, katex: Katex) -> tuple[str, list[str]]:
    """``page`` with every arithmatex formula rendered; also the errors met (TeX, message)."""
    errors: list[str] = []

    def replace(match: re.Match) -> str:
        display = match["display"] is not None
        tex = html.unescape(match["display"] if display else match["inline"])
        try:
            rendered = katex.render(tex, display)
        except MathError as exc:
            errors.append(f"{tex!r}: {exc}")
            return match[0]
        return f'<div class="arithmatex">{rendered}</div>' if display else f'<span class="arithmatex">{rendered}</span>'

    return ARITHMATEX.sub(replace, page), errors


def render_math_in_site(site: Path, katex: Katex) -> list[Diagnostic]:
    problems = []
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "arithmatex" not in text:
            continue
        rendered, errors = render_math_in_html(text, katex)
        problems += [Diagnostic(str(page.relative_to(site)), 0, f"formula does not render: {e}") for e in errors]
        page.write_text(rendered, encoding="utf-8")
    return problems
