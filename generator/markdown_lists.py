"""Lists as GitHub nests them, for Python-Markdown.

GitHub (and every CommonMark renderer: Obsidian, VS Code, Quartz) puts a line inside a list item
when it is indented at least as far as the item's text (2 spaces under ``- ``, 3 under ``1. ``);
Python-Markdown wants 4 spaces for each level and flattens or ends the list otherwise. This
preprocessor re-indents every list to Python-Markdown's 4 spaces a level, by CommonMark's rule, so
a note renders as it reads on GitHub whether it was written with 2-space or 4-space nesting.

A fenced code block, a ``$$`` display formula and the body of an admonition (``!!!``, ``???``)
move with the item they are in, as one piece: their own indentation inside is kept.
``markdown_scan`` finds formulas wherever they are indented, so it agrees with what this renders.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markdown import Extension
from markdown.preprocessors import Preprocessor

LIST_ITEM = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?P<gap> {1,4}|$)(?P<text>.*)$")
FENCE = re.compile(r"^ *(?P<fence>`{3,}|~{3,})")
CONTAINER = re.compile(r"^ *(?:!!!|\?\?\?\+?|===)\s")  # admonition, collapsible, content tab: body 4 spaces in
CODE_INDENT = 4  # CommonMark: 4 spaces past an item's text make an indented code block


@dataclass(frozen=True)
class _Item:
    marker: int   # the source column of the item's marker
    content: int  # the source column of the item's text: lines indented this far belong to it


def github_lists(lines: list[str]) -> list[str]:
    """``lines`` (tabs expanded) with every list re-indented to 4 spaces a level."""
    out: list[str] = []
    items: list[_Item] = []
    after_blank = False
    in_paragraph = False  # the last line was part of a paragraph that follows a blank line in an item
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            out.append(line)
            after_blank = after_blank or bool(items)
            i += 1
            continue
        indent = len(line) - len(line.lstrip(" "))
        item = LIST_ITEM.match(line)
        if item and items and _continues_paragraph(item, indent, items, out):
            # text, but Python-Markdown would start a list at it: escape the marker's dot (shows as '.')
            line = line[:item.start("marker")] + item["marker"][:-1] + "\\" + item["marker"][-1] + line[item.end("marker"):]
            item = None
        if item and not items and indent >= CODE_INDENT:
            item = None
        if item:
            while items and indent < items[-1].content:
                items.pop()
            if in_paragraph and out and out[-1].strip():
                out.append("")  # Python-Markdown would read the item into the paragraph above
            in_paragraph = False
            gap = len(item["gap"]) if item["text"].strip() else 1
            content = indent + len(item["marker"]) + (gap if gap <= CODE_INDENT else 1)
            out.append(" " * (4 * len(items)) + item["marker"] + " " + (item["text"].lstrip() if gap <= CODE_INDENT else item["text"]))
            items.append(_Item(indent, content))
            after_blank = False
            i += 1
            continue
        if items and after_blank:
            while items and indent < items[-1].content:
                items.pop()
        target = _target(indent, items, after_blank)
        in_paragraph = bool(items) and (in_paragraph or after_blank)
        after_blank = False
        end = _block_end(lines, i, indent)
        if CONTAINER.match(line):
            body = [text[indent + 4:] if len(text) > indent + 4 else text.strip() for text in lines[i + 1:end]]
            out.append(" " * target + line.lstrip(" "))
            out += [(" " * (target + 4) + text) if text.strip() else text for text in github_lists(body)]
        else:
            # a fence or a $$ formula is a block of its own on GitHub, even right under an item's line
            # or with the next item right after it; Python-Markdown needs blank lines around it
            apart = bool(items) and (FENCE.match(line) is not None or line.lstrip().startswith("$$"))
            if apart and out and out[-1].strip():
                out.append("")
            out += [_shift(text, indent, target) for text in [line, *lines[i + 1:end]]]
            if apart and end < len(lines) and lines[end].strip():
                out.append("")
                after_blank = True
        i = end
    return out


def _continues_paragraph(item: re.Match, indent: int, items: list[_Item], out: list[str]) -> bool:
    """CommonMark: a new list may interrupt a paragraph only if it is unordered or starts at 1, so
    ``NAACL\n  2018. The ...`` is text; a next item of an open list is always an item."""
    number = item["marker"][:-1]
    if not number.isdigit() or int(number) == 1 or not out or not out[-1].strip():
        return False
    return not any(open_item.marker <= indent < open_item.content for open_item in items)


def _target(indent: int, items: list[_Item], after_blank: bool) -> int:
    """Where a line that is not a list item goes: inside the innermost open item, 4 spaces a level
    (a lazy continuation line, with no blank line before it, joins the item's paragraph)."""
    if not items:
        return indent
    level = 4 * len(items)
    extra = indent - items[-1].content
    return level + extra if after_blank and extra >= CODE_INDENT else level


def _block_end(lines: list[str], i: int, indent: int) -> int:
    """The line after the block that starts at ``lines[i]``: a fenced code block or ``$$`` formula
    through its closing line, an admonition through its indented body, else the line itself."""
    line = lines[i]
    fence = FENCE.match(line)
    if fence:
        char, length = fence["fence"][0], len(fence["fence"])
        for j in range(i + 1, len(lines)):
            closing = lines[j].strip()
            if len(closing) >= length and set(closing) == {char}:
                return j + 1
        return len(lines)
    if line.lstrip().startswith("$$"):
        if "$$" in line.lstrip()[2:]:
            return i + 1
        for j in range(i + 1, len(lines)):
            if "$$" in lines[j]:
                return j + 1
        return len(lines)
    if CONTAINER.match(line):
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip(" ")) >= indent + 4):
            j += 1
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1
        return j
    return i + 1


def _shift(text: str, indent: int, target: int) -> str:
    """A line of a block that moves from column ``indent`` to ``target``, its own indentation kept."""
    if not text.strip():
        return text
    own = len(text) - len(text.lstrip(" "))
    return " " * (target + max(0, own - indent)) + text.lstrip(" ")


class _GithubListsPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return github_lists(lines)


class GithubListsExtension(Extension):
    """``markdown_extensions: [generator.markdown_lists]`` in mkdocs.yml."""

    def extendMarkdown(self, md) -> None:
        # after whitespace normalisation (tabs expanded, 29.9), before fenced code is stashed (25)
        md.preprocessors.register(_GithubListsPreprocessor(md), "papernotes_github_lists", 29.5)


def makeExtension(**kwargs) -> GithubListsExtension:
    return GithubListsExtension(**kwargs)
