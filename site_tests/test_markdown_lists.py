"""Markdown as GitHub renders it, through the site's own dialect (mkdocs.yml's markdown_extensions):
lists nest at 2 spaces and at 4, and the other GitHub habits render. Tests compare the HTML's structure."""
from __future__ import annotations

import html.parser
import re
from pathlib import Path

import markdown
import pytest
from conftest import REPO, edit, make_project

from generator.markdown_lists import github_lists


@pytest.fixture(scope="module")
def render():
    from mkdocs.config import load_config

    config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(REPO / "notes"), site_dir=str(REPO / "site"))
    return lambda text: markdown.Markdown(extensions=config.markdown_extensions, extension_configs=config.mdx_configs).convert(text)


class _Lists(html.parser.HTMLParser):
    """The lists of a page as nested tuples: ("ul", [("item text", [nested lists...]), ...])."""

    def __init__(self):
        super().__init__()
        self.root: list = []
        self.stack: list = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            items: list = []
            self.stack[-1].append((tag, items))
            self.stack.append(items)
        elif tag == "li":
            entry = ["", []]
            self.stack[-1].append(entry)
            self.stack.append(entry[1])

    def handle_endtag(self, tag):
        if tag in ("ul", "ol", "li"):
            self.stack.pop()

    def handle_data(self, data):
        for frame in reversed(self.stack):  # the text goes to the innermost open item
            parent = self._owner(frame)
            if parent is not None:
                parent[0] = (parent[0] + " " + data).strip()
                return

    def _owner(self, children):
        def find(nodes):
            for node in nodes:
                if isinstance(node, list) and node[1] is children:
                    return node
                if isinstance(node, tuple):
                    found = find(node[1])
                elif isinstance(node, list):
                    found = find(node[1])
                else:
                    found = None
                if found is not None:
                    return found
            return None
        return find(self.root)


def lists(page: str):
    parser = _Lists()
    parser.feed(page)

    def plain(node):
        if isinstance(node, tuple):
            return (node[0], [plain(n) for n in node[1]])
        return (" ".join(node[0].split()), [plain(n) for n in node[1]]) if node[1] else " ".join(node[0].split())
    return [plain(n) for n in parser.root]


def test_lists_nested_two_spaces_in_nest(render):
    assert lists(render("- a\n  - b\n    - c\n- d\n")) == [("ul", [("a", [("ul", [("b", [("ul", ["c"])])])]), "d"])]


def test_lists_nested_four_spaces_in_nest_too_and_mixed(render):
    assert lists(render("- a\n    - b\n- c\n  - d\n      - e\n")) == [
        ("ul", [("a", [("ul", ["b"])]), ("c", [("ul", [("d", [("ul", ["e"])])])])])]


def test_ordered_lists_nest_under_their_text_three_spaces_in(render):
    assert lists(render("1. one\n   - sub\n2. two\n   1. first\n   2. second\n")) == [
        ("ol", [("one", [("ul", ["sub"])]), ("two", [("ol", ["first", "second"])])])]


def test_a_paragraph_and_a_formula_continue_their_item(render):
    page = render("1. Unpool:\n\n   $$\n   x = 1\n   $$\n\n   Then rectify.\n2. Next.\n")
    assert lists(page) == [("ol", [("Unpool: \\[ x = 1 \\] Then rectify.", []), "Next."])] or \
        re.search(r"<ol>\s*<li>\s*<p>Unpool:</p>\s*<div class=\"arithmatex\">\\\[\s*x = 1\s*\\\]</div>\s*<p>Then rectify.</p>\s*</li>", page)
    assert '<div class="arithmatex">' in page and "Next." in page.split("</li>")[1]


def test_code_fences_move_with_their_item_and_keep_their_indentation(render):
    page = render("- item\n  ```python\n  def f():\n      return 1\n  ```\n- next\n")
    assert lists(page)[0][0] == "ul" and len(lists(page)[0][1]) == 2
    assert '<span class="k">return</span>' in page and "\n    <span" in page  # the body's 4 spaces kept


def test_a_bulleted_and_a_numbered_list_stay_two_lists(render):
    assert [kind for kind, _ in lists(render("- a\n- b\n\n1. c\n2. d\n"))] == ["ul", "ol"]


def test_a_number_that_continues_a_sentence_is_not_a_list(render):
    """CommonMark: only a list that starts at 1 interrupts a paragraph."""
    page = render("- It appeared at NAACL\n  2018. The precursor is TagLM.\n")
    assert lists(page) == [("ul", ["It appeared at NAACL 2018. The precursor is TagLM."])]


def test_lists_inside_admonitions_nest_at_two_spaces(render):
    page = render("!!! note\n    - a\n      - b\n")
    assert '<div class="admonition note">' in page and lists(page) == [("ul", [("a", [("ul", ["b"])])])]


def test_indented_code_outside_lists_is_untouched():
    lines = ["Text.", "", "    code line", "", "!!! note", "    body"]
    assert github_lists(lines) == lines


def test_github_habits(render):
    page = render("- [ ] todo\n- [x] done\n\n~~gone~~, about ~5 or ~6, at https://example.org/a.\n\n"
                  "Name | Value\n--- | ---:\na | 1\n\n```python\nx = 1\n```\n\nA claim[^1].\n\n[^1]: The source.\n")
    assert '<input type="checkbox" disabled/> todo' in page and '<input type="checkbox" disabled checked/> done' in page
    assert "<del>gone</del>, about ~5 or ~6" in page  # no subscript, which GitHub does not have
    assert '<a href="https://example.org/a">https://example.org/a</a>' in page
    assert "<th>Name</th>" in page and '<td style="text-align: right;">1</td>' in page
    assert '<span class="n">x</span>' in page  # highlighted as Python
    assert 'href="#fn:1"' in page and "The source." in page


def test_a_note_written_for_github_validates_and_builds_with_its_formulas(tmp_path):
    from generator.load import load
    from generator.formulas import Katex
    from generator.site_build import build

    project = make_project(tmp_path)
    with open(project.notes / "alpha2020first.md", "a", encoding="utf-8") as note:
        note.write("\n## As written on GitHub\n\n- Few-shot:\n  - nested two in, with $a^2$\n\n    $$\n    b = 2\n    $$\n"
                   "- Zero-shot:\n    - nested four in\n")
    assert [str(p) for p in load(project, Katex()).problems] == []
    assert [str(p) for p in build(project)] == []
    page = (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
    section = page[page.index('id="as-written-on-github"'):]
    assert re.search(r"<li>\s*<p>Few-shot:</p>\s*<ul>\s*<li>\s*<p>nested two in, with <span class=\"arithmatex\"><span class=\"katex\">", section)
    assert re.search(r"<div class=\"arithmatex\">\s*<span class=\"katex-display\">", section)
    assert re.search(r"<li>\s*<p>Zero-shot:</p>\s*<ul>\s*<li>nested four in</li>", section)
