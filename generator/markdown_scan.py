"""Find citations and formulas in a note's Markdown body, with their lines and offsets.

This is a scanner, not a Markdown parser: it knows just enough (fenced code, inline code, math
delimiters) to find ``[@key]`` citations and ``$...$`` / ``$$...$$`` formulas where
pymdownx.arithmatex will find them, so that each can be reported at its line and rewritten in place.
A formula is found however deep in a list it is indented: ``markdown_lists`` renders lists at 2 or 4
spaces a level, as GitHub does, so there is no indentation at which a formula would fail to render.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Citation, FigureRef, Formula

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
# arithmatex "smart dollar": no space after the opening $, none before the closing $, no digit after
INLINE_MATH = re.compile(r"(?<![\\$])\$(?![\s$])(?P<tex>(?:\\\$|[^$\n])+?)(?<![\s\\])\$(?!\d)")
CITATION = re.compile(r"\[(?P<body>@[^\[\]\n]*)\]")
CITE_KEY = re.compile(r"^@(?P<key>[^\s;,@]+)$")
LABEL = re.compile(r"^\s*\{#eq:(?P<label>[^}\s]*)\}\s*$")
LABEL_ANYWHERE = re.compile(r"\{#eq:[^}]*\}")
VALID_LABEL = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# raw HTML: a tag, closing tag, comment or processing instruction (autolinks like <https://...> are Markdown)
RAW_HTML = re.compile(r"<(?!(?:https?|mailto|ftp):)(?:[A-Za-z][A-Za-z0-9-]*(?=[\s/>])|/[A-Za-z]|!--|!\[CDATA|\?)")
# pymdownx.snippets' include marker; it runs before Markdown parsing, so it acts even inside code fences
SNIPPET_INCLUDE = re.compile(r"^\s*;?-+8<-+")
FIGURE = re.compile(r"^(?P<indent>[ \t]*)\{#fig:(?P<label>[^}\s]*)\}\s*$")


@dataclass(frozen=True)
class ScanProblem:
    line: int
    message: str


@dataclass(frozen=True)
class Scan:
    citations: tuple[Citation, ...]
    formulas: tuple[Formula, ...]
    problems: tuple[ScanProblem, ...]
    figures: tuple[FigureRef, ...] = ()


def scan(body: str, first_line: int = 1) -> Scan:
    """Scan ``body``; ``first_line`` is the file line of the body's first line."""
    citations: list[Citation] = []
    formulas: list[Formula] = []
    problems: list[ScanProblem] = []
    figures: list[FigureRef] = []
    lines = body.splitlines(keepends=True)
    offsets = _line_offsets(lines)
    fence: tuple[str, str] | None = None  # (char, length) of the open code fence
    i = 0
    for n, text in enumerate(lines):
        if SNIPPET_INCLUDE.match(text):
            problems.append(ScanProblem(first_line + n, "snippet includes (--8<--) are not allowed in notes: the build adds a note's check code itself; "
                                                        "paste the text, or link to the file"))
    while i < len(lines):
        text = lines[i]
        lineno = first_line + i
        if fence:
            if _closes_fence(text, fence):
                fence = None
            i += 1
            continue
        opened = FENCE.match(text)
        if opened:
            fence = (opened["fence"][0], str(len(opened["fence"])))
            i += 1
            continue
        if text.lstrip().startswith("$$"):
            formula, consumed, problem = _display_formula(lines, i, offsets, first_line)
            if problem:
                problems.append(problem)
            if formula:
                formulas.append(formula)
            i += consumed
            continue
        figure = FIGURE.match(text)
        if figure:
            if VALID_LABEL.match(figure["label"]):
                figures.append(FigureRef(figure["label"], lineno, offsets[i], offsets[i] + len(text), figure["indent"]))
            else:
                problems.append(ScanProblem(lineno, f"figure label '{figure['label']}' must be lowercase letters, digits and hyphens, e.g. {{#fig:lr-schedule}}"))
            i += 1
            continue
        if LABEL_ANYWHERE.search(text):
            problems.append(ScanProblem(lineno, "an equation label {#eq:...} must follow the closing $$ of a display formula on the same line"))
        masked = _mask_inline_code(text)
        for m in INLINE_MATH.finditer(masked):
            formulas.append(Formula(tex=m["tex"], display=False, line=lineno,
                                    start=offsets[i] + m.start(), end=offsets[i] + m.end()))
        masked_math = INLINE_MATH.sub(lambda m: " " * len(m[0]), masked)
        html = RAW_HTML.search(masked_math)
        if html:
            tag = re.match(r"<[^\s>]{0,20}", masked_math[html.start():])[0]
            problems.append(ScanProblem(lineno, f"raw HTML ({tag}) is not allowed in notes: write Markdown "
                                                "(inside `code` or $math$ a '<' is fine)"))
        for m in CITATION.finditer(masked_math):
            keys, bad = _citation_keys(m["body"])
            if bad:
                problems.append(ScanProblem(lineno, f"malformed citation '[{m['body']}]': write [@key] or [@key1; @key2]"))
                continue
            citations.append(Citation(keys=keys, line=lineno, start=offsets[i] + m.start(), end=offsets[i] + m.end()))
        i += 1
    if fence:
        problems.append(ScanProblem(first_line + len(lines) - 1, "a code fence is never closed"))
    return Scan(tuple(citations), tuple(formulas), tuple(problems), tuple(figures))


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, total = [], 0
    for text in lines:
        offsets.append(total)
        total += len(text)
    return offsets


def _closes_fence(text: str, fence: tuple[str, str]) -> bool:
    stripped = text.strip()
    char, length = fence
    return len(stripped) >= int(length) and set(stripped) == {char}


def _mask_inline_code(text: str) -> str:
    return INLINE_CODE.sub(lambda m: " " * len(m[0]), text)


def _citation_keys(body: str) -> tuple[tuple[str, ...], bool]:
    parts = [p.strip() for p in body.split(";")]
    keys = [CITE_KEY.match(p) for p in parts]
    if not all(keys):
        return (), True
    return tuple(k["key"] for k in keys), False


def _display_formula(lines: list[str], i: int, offsets: list[int], first_line: int):
    """Read a ``$$ ... $$ {#eq:label}`` block starting at ``lines[i]``.

    Returns (formula or None, number of lines consumed, problem or None).
    """
    opening = lines[i]
    indent = opening[: len(opening) - len(opening.lstrip())]
    after_open = opening.lstrip()[2:]
    parts: list[str] = []
    j = i
    rest = after_open
    while True:
        close = rest.find("$$")
        if close >= 0:
            parts.append(rest[:close])
            tail = rest[close + 2:]
            break
        parts.append(rest)
        j += 1
        if j >= len(lines):
            return None, j - i, ScanProblem(first_line + i, "display formula opened with $$ is never closed")
        rest = lines[j]
    tex = "".join(parts).strip()
    label = ""
    problem = None
    if tail.strip():
        found = LABEL.match(tail)
        if found is None:
            problem = ScanProblem(first_line + j, f"unexpected text after closing $$: '{tail.strip()}' (only an equation label {{#eq:name}} may follow)")
        elif not VALID_LABEL.match(found["label"]):
            problem = ScanProblem(first_line + j, f"equation label '{found['label']}' must be lowercase letters, digits and hyphens, e.g. {{#eq:bias-correction}}")
        else:
            label = found["label"]
    if not tex:
        problem = problem or ScanProblem(first_line + i, "empty display formula $$ $$")
    end = offsets[j] + len(lines[j])
    formula = Formula(tex=tex, display=True, line=first_line + i, label=label,
                      start=offsets[i], end=end, indent=indent)
    return (formula if tex else None), j - i + 1, problem
