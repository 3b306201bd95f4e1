"""Note pages found in the memo by the digest of what they read (``views.note_inputs``): after each
kind of edit, the pages rendered with a warm memo are the pages rendered from scratch, and an edit
to one note's text renders that note's page alone."""
from __future__ import annotations

import dataclasses
import shutil

import pytest
from conftest import FIXTURES, REPO, edit, make_project

from generator.checks.discover import discover
from generator.checks.results import CheckResult, load_results, save_results
from generator.checks.verification import Verification, verification
from generator.load import load
from generator.memo import ParseMemo
from generator.render.pages import render_pages


def knowledge(project, katex):
    kb = load(project, katex).kb
    assert kb is not None
    specs, problems = discover(project.root, set(kb.notes))
    assert not problems
    return kb, verification(project, kb, specs)


def rendered(project, katex, memo, checks=lambda v: v):
    kb, checked = knowledge(project, katex)
    return render_pages(kb, checks(checked), memo=memo)


@pytest.fixture
def warm(tmp_path, katex):
    project = make_project(tmp_path)
    snippets = project.root / "runnable_snippets"
    snippets.mkdir()
    shutil.copy2(FIXTURES / "snippets_runner" / "beta2021second.py", snippets / "beta2021second.py")
    shutil.copy2(REPO / "runnable_snippets" / "harness.py", snippets / "harness.py")
    memo = ParseMemo()
    rendered(project, katex, memo)
    return project, memo


def same_as_from_scratch(project, katex, memo, checks=lambda v: v, kind="note page") -> int:
    """How many note pages (or index pages) the warm memo had to render; fails when its pages differ
    from a fresh render."""
    before = memo.computed.get(kind, 0)
    pages = rendered(project, katex, memo, checks)
    assert pages == rendered(project, katex, None, checks)
    return memo.computed.get(kind, 0) - before


def index_pages_rendered(project, katex, memo) -> int:
    return same_as_from_scratch(project, katex, memo, kind="index page")


def test_an_unchanged_knowledge_base_renders_no_note_page(warm, katex):
    project, memo = warm
    assert same_as_from_scratch(project, katex, memo) == 0
    assert index_pages_rendered(project, katex, memo) == 0


def test_an_edit_to_a_notes_text_renders_that_page_alone(warm, katex):
    project, memo = warm
    edit(project.notes / "alpha2020first.md", "## Idea", "## Idea\n\nOne more sentence.")
    assert same_as_from_scratch(project, katex, memo) == 1
    edit(project.notes / "alpha2020first.md", "One more sentence.", "Another sentence.")
    assert index_pages_rendered(project, katex, memo) == 0  # no list shows a note's prose


@pytest.mark.parametrize("path, old, new, pages", [
    ("notes/alpha2020first.md", "tags: [optimization, training]", "tags: [optimization, vision]", 3),  # home, categories, vision
    ("references.bib", "title", "title = {Renamed},\n  note", 1),  # at least the bibliography
], ids=["tags", "bibliography-title"])
def test_an_edit_to_what_lists_show_renders_the_index_pages_that_show_it(warm, katex, path, old, new, pages):
    project, memo = warm
    edit(project.root / path, old, new)
    assert index_pages_rendered(project, katex, memo) >= pages


@pytest.mark.parametrize("path, old, new", [
    ("references.bib", "title", "title = {Renamed},\n  note"),  # a cited entry's title
    ("taxonomy.yml", "title: Recommender Systems", "title: Recommenders"),  # a tag's title
    ("notes/script2022title.md", "Рекомендательные", "[@alpha2020first] Рекомендательные"),  # a new backlink
    ("notes/alpha2020first.md", "related: [beta2021second]", "related: []"),  # a backlink gone
], ids=["bibliography-title", "taxonomy-title", "backlink-added", "backlink-removed"])
def test_an_edit_elsewhere_renders_the_pages_that_read_it(warm, katex, path, old, new):
    project, memo = warm
    edit(project.root / path, old, new)
    assert same_as_from_scratch(project, katex, memo) >= 1


def test_a_check_result_renders_its_notes_page(warm, katex):
    project, memo = warm

    def failed(checked: Verification) -> Verification:
        spec = checked.checks_of("beta2021second")[0]
        result = CheckResult(spec.id, spec.file, spec.first_line, tuple(spec.equations), "failed", "cpu", "2", 0.1, 1.0,
                             1e-6, "x", "2026-12-07", message="off by one")
        return dataclasses.replace(checked, results={**checked.results, spec.id: result})

    assert same_as_from_scratch(project, katex, memo, failed) == 1


@pytest.mark.parametrize("read_back", [False, True], ids=["result-made-in-code", "result-read-from-its-record"])
def test_a_results_figure_alone_renders_its_notes_page(warm, katex, read_back):
    """A figure is no part of a result's equality (``compare=False``) but is shown on the page: a
    result's identity in the page's key covers it, whether the result was read from results.json
    (the record's digest) or made in code."""
    project, memo = warm

    def with_figure(y: list[int]):
        def change(checked: Verification) -> Verification:
            spec = checked.checks_of("beta2021second")[0]
            result = CheckResult(spec.id, spec.file, spec.first_line, tuple(spec.equations), "passed", "cpu", "2", 0.1, 1e-9,
                                 1e-6, "x", "2026-12-07", figures={"curve": {"data": [{"y": y}]}})
            if read_back:
                save_results(project.check_results, {spec.id: result})
                result = load_results(project.check_results)[spec.id]
                assert result.source
            return dataclasses.replace(checked, results={**checked.results, spec.id: result})
        return change

    assert same_as_from_scratch(project, katex, memo, with_figure([1, 2])) == 1
    assert same_as_from_scratch(project, katex, memo, with_figure([1, 2])) == 0
    assert same_as_from_scratch(project, katex, memo, with_figure([1, 3])) == 1
