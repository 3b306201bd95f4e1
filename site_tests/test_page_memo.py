"""Note pages found in the memo by the digest of what they read (``views.note_inputs``): after each
kind of edit, the pages rendered with a warm memo are the pages rendered from scratch, and an edit
to one note's text renders that note's page alone."""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import pytest
from conftest import FIXTURES, REPO, edit, make_project
from test_incremental import record_result

from generator.checks.discover import discover
from generator.checks.results import CheckResult, load_results, save_results
from generator.checks.verification import Verification, verification
from generator.load import load
from generator.memo import ParseMemo
from generator.model import Note
from generator.render import views
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
    views_made = memo.computed.get("index page keys", 0)
    assert index_pages_rendered(project, katex, memo) == 0  # no list shows a note's prose
    assert memo.computed.get("index page keys", 0) == views_made  # nor were the lists' views made again


def changed(value):
    """Another value of a note's field, of the same kind (None: no other value to try)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value + " changed"
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, tuple):
        return value[:-1] if value else None
    if dataclasses.is_dataclass(value):
        first = dataclasses.fields(value)[0].name
        return dataclasses.replace(value, **{first: changed(getattr(value, first)) or getattr(value, first) + 1})
    return None


def index_pages(kb, checked) -> dict[str, str]:
    return {page: text for page, text in render_pages(kb, checked).items() if not page.startswith("notes/")}


def test_what_the_index_pages_show_of_a_note_is_in_their_inputs(warm, katex):
    """``views.index_inputs`` stands for all that the index pages read: each field of each note (and
    of each of its formulas, and each pair of its reasons), changed alone, changes the digest when
    it changes an index page; and where a formula stands in the text changes neither."""
    project, _ = warm
    kb, checked = knowledge(project, katex)
    specs = list(checked.specs)
    before, digest_before = index_pages(kb, checked), views.index_inputs(kb, checked)

    def variants(note: Note):
        for field in dataclasses.fields(Note):
            value = getattr(note, field.name)
            if field.name in ("key", "source"):  # the key names the note; the source is no part of its equality
                continue
            if isinstance(value, tuple) and value and (dataclasses.is_dataclass(value[0]) or isinstance(value[0], tuple)):
                for k, item in enumerate(value):  # a formula, a citation, a (label, reason) pair: each part of each
                    parts = dataclasses.fields(item) if dataclasses.is_dataclass(item) else range(len(item))
                    for part in parts:
                        name = getattr(part, "name", part)
                        old = getattr(item, name) if dataclasses.is_dataclass(item) else item[name]
                        new = changed(old) if not isinstance(old, int) else old + 1
                        if new is None:
                            continue
                        item_changed = dataclasses.replace(item, **{name: new}) if dataclasses.is_dataclass(item) else \
                            item[:name] + (new,) + item[name + 1:]
                        yield f"{field.name}[{k}].{name}", dataclasses.replace(note, **{field.name: value[:k] + (item_changed,) + value[k + 1:]})
            new = changed(value)
            if new is not None:
                yield field.name, dataclasses.replace(note, **{field.name: new})

    shown = 0
    for key, note in kb.notes.items():
        for what, variant in variants(note):
            other = dataclasses.replace(kb, notes={**kb.notes, key: variant})
            try:
                other_checked = verification(project, other, specs)
                pages = index_pages(other, other_checked)
            except (KeyError, StopIteration, ValueError):  # a change no valid knowledge base can hold (a tag with no category)
                continue
            if pages != before:
                shown += 1
                assert views.index_inputs(other, other_checked) != digest_before, f"{key}: {what} changes an index page"
            if what.startswith("formulas[") and what.endswith((".line", ".start", ".end")):
                assert views.index_inputs(other, other_checked) == digest_before, f"{key}: {what} is no part of a list"
    assert shown >= 10  # the test changes what the lists show: tags, titles, dates, counts, summaries, equations


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


@pytest.mark.parametrize("change", ["tex", "snippet", "helper", "result", "python"])
def test_the_current_checks_found_in_the_memo_are_those_computed_again(warm, katex, change, monkeypatch):
    """``verification`` finds which recorded results still belong to their checks by one digest of
    what their keys are made of: after each kind of change it must say what a fresh lookup says."""
    project, memo = warm
    record_result(project, "passed")

    def lookup(memo):
        kb = load(project, katex).kb
        specs, _ = discover(project.root, set(kb.notes))
        return verification(project, kb, specs, memo)

    assert set(lookup(memo).results) == set(lookup(None).results) != set()
    if change == "tex":
        edit(project.notes / "beta2021second.md", r"y = \max(0, x) $$", r"y = \max(x, 0) $$")
    elif change == "snippet":
        edit(project.root / "runnable_snippets" / "beta2021second.py", "def check_", "# edited\ndef check_")
    elif change == "helper":
        with (project.root / "runnable_snippets" / "harness.py").open("a", encoding="utf-8") as helper:
            helper.write("\n# edited\n")
    elif change == "result":
        record_result(project, "failed")
    else:
        monkeypatch.setattr("platform.python_version", lambda: "3.99.0")
    computed = memo.computed.get("current checks", 0)
    assert lookup(memo).results == lookup(None).results
    assert memo.computed.get("current checks", 0) == computed + 1
    if change != "result":
        assert lookup(None).results == {}  # each change makes the recorded result stale
