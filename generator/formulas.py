"""Formulas rendered at build time with KaTeX (pykatex: real KaTeX in an embedded JS engine).

Two uses: ``check_formulas`` reports malformed TeX at its note's line before anything is built;
``render_math_in_html`` replaces pymdownx.arithmatex's generic output in the built pages, after the
search plugin has indexed them (so the index keeps the TeX a reader would type).
"""
from __future__ import annotations

import concurrent.futures
import html
import os
import re
from pathlib import Path

from .content_cache import ContentCache, digest
from .diagnostics import Diagnostic
from .readers.notes import NoteSource

ARITHMATEX = re.compile(
    r'<span class="arithmatex">\\\((?P<inline>.*?)\\\)</span>'
    r'|<div class="arithmatex">\\\[(?P<display>.*?)\\\]</div>',
    re.DOTALL,
)


class MathError(ValueError):
    pass


PARALLEL_ABOVE = 300  # formulas; below this, worker start-up costs more than it saves


def _render(tex: str, display: bool) -> str:
    import pykatex  # its JS engine starts on import: only when a formula is not in any cache

    try:
        return pykatex.renderToString(tex, displayMode=display, throwOnError=True, output="htmlAndMathml", strict="ignore")
    except Exception as exc:  # pykatex.ParseError, and anything its JS engine raises
        raise MathError(str(exc).split("\n")[0]) from None


def _render_chunk(chunk: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """(html, "") or ("", error) for each formula: runs in a worker process."""
    results = []
    for tex, display in chunk:
        try:
            results.append((_render(tex, display), ""))
        except MathError as exc:
            results.append(("", str(exc)))
    return results


class Katex:
    """Renders TeX to KaTeX HTML (+ MathML for screen readers), caching each distinct formula: in
    memory, and across builds in ``store`` when one is given (keyed by ``version``, the generator's
    fingerprint, with the TeX), so a rebuild renders only formulas it has never seen."""

    def __init__(self, workers: int | None = None, store: ContentCache | None = None, version: str = "") -> None:
        self._cache: dict[tuple[str, bool], str] = {}
        self._errors: dict[tuple[str, bool], str] = {}
        self._workers = workers or os.cpu_count() or 1
        self._store = store
        self._version = version

    def render(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self._cache and key not in self._errors:
            self.render_all({key})
        if key in self._errors:
            raise MathError(self._errors[key])
        return self._cache[key]

    def render_all(self, formulas: set[tuple[str, bool]]) -> dict[tuple[str, bool], str]:
        """Render every formula not yet cached, in parallel when there are many; returns the errors."""
        todo = sorted(f for f in formulas if f not in self._cache and f not in self._errors)
        todo = self._from_store(todo)
        if len(todo) > PARALLEL_ABOVE and self._workers > 1:
            size = -(-len(todo) // (self._workers * 4))
            chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
            with concurrent.futures.ProcessPoolExecutor(self._workers) as pool:
                rendered = [r for results in pool.map(_render_chunk, chunks) for r in results]
        else:
            rendered = _render_chunk(todo)
        for key, (html_text, error) in zip(todo, rendered):
            if error:
                self._errors[key] = error
            else:
                self._cache[key] = html_text
        if self._store is not None:
            self._store.put_many({self._key(key): ("E" + error if error else "H" + html_text)
                                  for key, (html_text, error) in zip(todo, rendered)})
        return {key: self._errors[key] for key in formulas if key in self._errors}

    def _key(self, formula: tuple[str, bool]) -> str:
        tex, display = formula
        return digest("katex", self._version, "display" if display else "inline", tex)

    def _from_store(self, todo: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        """Fill the memory cache from the store; the formulas it did not hold."""
        if self._store is None or not todo:
            return todo
        stored = self._store.get_many(self._key(f) for f in todo)
        missing = []
        for formula in todo:
            value = stored.get(self._key(formula))
            if value is None or value[:1] not in ("H", "E"):
                missing.append(formula)
            elif value[0] == "H":
                self._cache[formula] = value[1:]
            else:
                self._errors[formula] = value[1:]
        return missing


def cached_katex(folder: Path) -> Katex:
    """A renderer that keeps its formulas in ``folder`` across builds and commands."""
    from .fingerprint import generator_fingerprint

    return Katex(store=ContentCache(folder / "content.sqlite"), version=generator_fingerprint())


def check_formulas(sources: list[NoteSource], katex: Katex) -> list[Diagnostic]:
    """Every formula in every note renders, or is reported at its line."""
    found = [(source, formula) for source in sources if source.scan for formula in source.scan.formulas]
    errors = katex.render_all({(f.tex, f.display) for _, f in found})
    return [Diagnostic(source.path, f.line, f"formula does not render: {errors[(f.tex, f.display)]}; fix the TeX (KaTeX syntax)")
            for source, f in found if (f.tex, f.display) in errors]


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


def render_math_in_site(site: Path, katex: Katex, only: list[Path] | None = None) -> list[Diagnostic]:
    """Every page's formulas (or those of the pages ``only``) rendered in place: first every distinct
    formula at once (from the caches, the rest in parallel), then each page rewritten."""
    pages = []
    formulas: set[tuple[str, bool]] = set()
    for page in site.rglob("*.html") if only is None else only:
        text = page.read_text(encoding="utf-8")
        if "arithmatex" not in text:
            continue
        pages.append(page)
        for match in ARITHMATEX.finditer(text):
            display = match["display"] is not None
            formulas.add((html.unescape(match["display"] if display else match["inline"]), display))
    katex.render_all(formulas)
    problems = []
    for page in pages:
        rendered, errors = render_math_in_html(page.read_text(encoding="utf-8"), katex)
        problems += [Diagnostic(str(page.relative_to(site)), 0, f"formula does not render: {e}") for e in errors]
        page.write_text(rendered, encoding="utf-8")
    return problems
