"""Parsed inputs (notes, taxonomy, bibliography, snippets) come from the memo when what they were
parsed from is unchanged: a warm load parses nothing, an edit is parsed again and seen, an unreadable
entry or another generator is a miss, and a value from the memo is the value parsing gives,
diagnostics included."""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO, edit, make_project
from hypothesis import given
from hypothesis import strategies as st
from test_hostile_input import BIB_PIECES, FAST, FIELD_NAMES, MARKDOWN_PIECES, YAML_VALUES
from test_incremental import record_result, with_snippet_and_result

from generator import fingerprint
from generator.checks.discover import discover, snippet_imports
from generator.checks.results import load_results
from generator.checks.runner import Environment, SnippetSources, cache_key
from generator.content_cache import ContentCache
from generator.file_digests import FileDigests
from generator.formulas import Katex
from generator.load import load
from generator.memo import ParseMemo, cached_memo
from generator.project import Project
from generator.readers.bibliography import parse_bibliography, read_bibliography
from generator.readers.notes import parse_note


def with_snippets(project: Project) -> Project:
    snippets = project.root / "runnable_snippets"
    snippets.mkdir()
    shutil.copy2(FIXTURES / "snippets_runner" / "beta2021second.py", snippets / "beta2021second.py")
    shutil.copy2(REPO / "runnable_snippets" / "harness.py", snippets / "harness.py")
    return project


def read_everything(project: Project, memo: ParseMemo):
    """What a build and a check read and parse: the notes, the bibliography, the checks and the imports
    their results' keys follow."""
    loaded = load(project, Katex(), memo=memo)
    specs, problems = discover(project.root, set(loaded.kb.notes), memo)
    sources = SnippetSources(project.root, memo=memo)
    keys = [cache_key(project.root, spec, Environment("cpu", "3", "2"), {}, sources) for spec in specs]
    return loaded, specs, problems, keys


def test_a_second_run_on_an_unchanged_knowledge_base_parses_nothing(tmp_path):
    project = with_snippets(make_project(tmp_path))
    first = cached_memo(project.cache)
    everything = read_everything(project, first)
    # notes, taxonomy.yml, references.bib, the two snippet files (each parsed once for its checks and
    # its imports), the digest of each with its helpers (which the checks' cache keys start from), and
    # each note's validation problems
    assert first.parsed == 3 + 1 + 1 + 2 + 2 + 3
    again = cached_memo(project.cache)  # as a later command opens it
    assert read_everything(project, again) == everything
    assert again.parsed == 0


def test_a_long_lived_memo_finds_its_values_in_memory(tmp_path):
    project = with_snippets(make_project(tmp_path))
    memo = ParseMemo()  # no store: what serve's rebuilds find is what the memo kept from the last one
    first = read_everything(project, memo)
    parsed = memo.parsed
    assert read_everything(project, memo) == first
    assert memo.parsed == parsed


def test_an_edited_note_bibliography_and_snippet_are_parsed_again_and_seen(tmp_path):
    project = with_snippets(make_project(tmp_path))
    read_everything(project, cached_memo(project.cache))
    edit(project.notes / "beta2021second.md", "tags: [", "tags: [recsys, ")
    edit(project.bibliography, "A Third Paper Without a Note", "A Third Paper, Retitled")
    edit(project.taxonomy, "Seeing machines.", "Machines that see.")
    edit(project.snippets / "beta2021second.py", "def check_relu_from_the_note", "def check_relu_renamed")
    memo = cached_memo(project.cache)
    loaded, specs, _, _ = read_everything(project, memo)
    # the note, the bibliography, the taxonomy, the snippet (its checks and imports at once) and its
    # digest, and the three notes' problems (validated against the changed taxonomy)
    assert memo.parsed == 5 + 3
    assert "recsys" in loaded.kb.notes["beta2021second"].categories
    assert any(r.title == "A Third Paper, Retitled" for r in loaded.kb.references.values())
    assert any(c.description == "Machines that see." for c in loaded.kb.taxonomy.categories)
    assert [s.function for s in specs] == ["check_relu_renamed"]


def test_with_the_digests_kept_only_the_edited_inputs_are_read(tmp_path, monkeypatch):
    """``serve`` keeps the input files' digests (``FileDigests``): an edit's build reads the edited
    note and snippet (with its helper), not the others, and makes what reading from scratch makes."""
    project = with_snippets(make_project(tmp_path))
    kept = FileDigests()
    kept.RACY_NS = -10**18  # as if read long after the last write (else a fresh file is read each time)
    memo = ParseMemo()

    def read_all(memo: ParseMemo | None, files: FileDigests | None):
        loaded = load(project, Katex(), memo=memo, files=files)
        specs, problems = discover(project.root, set(loaded.kb.notes), memo, files)
        sources = SnippetSources(project.root, memo=memo, files=files)
        return loaded, specs, problems, [cache_key(project.root, s, Environment("cpu", "3", "2"), {}, sources) for s in specs]

    first = read_all(memo, kept)
    reads: list[Path] = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (reads.append(self), real_read_bytes(self))[1])
    assert read_all(memo, kept) == first
    assert not [p for p in reads if p.parent in (project.notes, project.snippets)]
    edit(project.notes / "beta2021second.md", "tags: [", "tags: [recsys, ")
    edit(project.snippets / "beta2021second.py", "def check_relu_from_the_note", "def check_relu_renamed")
    reads.clear()
    after = read_all(memo, kept)
    # and the helper the snippet imports: its key hashes their bytes together
    assert {p.name for p in reads if p.parent in (project.notes, project.snippets)} == {"beta2021second.md", "beta2021second.py", "harness.py"}
    assert after == read_all(None, None)
    assert [s.function for s in after[1]] == ["check_relu_renamed"]


@pytest.mark.parametrize("path, old, new, problem", [
    ("references.bib", "@misc{gamma2019third,", "@misc{gamma2019renamed,", "[@gamma2019third] cites a key"),
    ("taxonomy.yml", "  - slug: optimization", "  - slug: optimisation", "unknown tag 'optimization'"),
    ("notes/beta2021second.md", "tags: [cv, recsys]", "tags: [cv, recsys]\nrelated: [script2022title]", ""),
], ids=["a-cited-entry-renamed", "a-tag-renamed", "another-note-edited"])
def test_a_notes_problems_are_found_again_only_against_the_same_keys_and_taxonomy(tmp_path, path, old, new, problem):
    """The memo keeps each note's validation problems by the note and what it is validated against
    (the taxonomy, the keys of the bibliography and of the notes): an edit to any of these finds the
    problems a fresh validation finds, in unchanged notes too."""
    project = make_project(tmp_path)
    memo = ParseMemo()
    first = [str(p) for p in load(project, Katex(), memo=memo).problems]
    edit(project.root / path, old, new)
    again = [str(p) for p in load(project, Katex(), memo=memo).problems]
    assert again == [str(p) for p in load(project, Katex()).problems]
    if problem:  # a problem the edit made, in a note the edit did not touch
        assert problem not in "\n".join(first) and problem in "\n".join(again)
    else:  # only the edited note was validated again
        assert memo.computed["note problems"] == 3 + 1


def test_an_entry_that_cannot_be_read_back_is_a_miss(tmp_path):
    project = with_snippets(make_project(tmp_path))
    expected = read_everything(project, cached_memo(project.cache))
    with sqlite3.connect(project.cache / "content.sqlite") as db:
        count = db.execute("SELECT count(*) FROM entry").fetchone()[0]
        db.execute("UPDATE entry SET value = substr(value, 1, length(value) - 1)")  # truncated pickles (a short one too)
        db.execute("UPDATE entry SET value = 'text, not a pickle' WHERE rowid % 2 = 0")
    memo = cached_memo(project.cache)
    assert read_everything(project, memo) == expected
    assert memo.parsed == count


def test_another_generator_parses_again(tmp_path, monkeypatch):
    project = with_snippets(make_project(tmp_path))
    expected = read_everything(project, cached_memo(project.cache))
    monkeypatch.setattr(fingerprint, "generator_fingerprint", lambda: "a changed generator")
    memo = cached_memo(project.cache)
    assert read_everything(project, memo) == expected
    assert memo.parsed == 12
    store = ContentCache(tmp_path / "c.sqlite")
    ParseMemo(store, "v1").one(parse_note, "k", "notes/k.md", "---\ntags: [a]\n---\nbody\n")
    assert ParseMemo(store, "v1").parsed == 0
    other = ParseMemo(store, "v2")
    other.one(parse_note, "k", "notes/k.md", "---\ntags: [a]\n---\nbody\n")
    assert other.parsed == 1


def test_diagnostics_of_a_memoised_bad_note_and_snippet_keep_their_file_and_line(tmp_path):
    project = with_snippets(make_project(tmp_path))
    (project.notes / "x2020y.md").write_text("---\ntags: [a]\ntldr: x\n\tbad: indent\n---\nbody\n", encoding="utf-8")
    edit(project.snippets / "beta2021second.py", "import torch", "import torch\ndef broken(:")
    first = cached_memo(project.cache)
    problems = [str(p) for p in load(project, Katex(), memo=first).problems]
    check_problems = [str(p) for p in discover(project.root, {"beta2021second"}, first)[1]]
    again = cached_memo(project.cache)
    assert [str(p) for p in load(project, Katex(), memo=again).problems] == problems
    assert [str(p) for p in discover(project.root, {"beta2021second"}, again)[1]] == check_problems
    assert again.parsed == 0
    assert any(p.startswith("notes/x2020y.md:4: front matter is not valid YAML") for p in problems), problems
    assert check_problems and check_problems[0].startswith("runnable_snippets/beta2021second.py:3: the snippet does not parse")


def test_the_file_checks_happen_whatever_the_memo_holds(tmp_path):
    project = make_project(tmp_path)
    note = project.notes / "alpha2020first.md"
    load(project, Katex(), memo=cached_memo(project.cache))
    shutil.move(note, tmp_path / "elsewhere.md")
    note.symlink_to(tmp_path / "elsewhere.md")  # the same text, parsed before, behind a link
    problems = [str(p) for p in load(project, Katex(), memo=cached_memo(project.cache)).problems]
    assert "notes/alpha2020first.md: notes must be regular files, not symbolic links" in problems


def test_what_a_caller_gets_is_its_own_copy(tmp_path):
    project = make_project(tmp_path)
    memo = ParseMemo()
    references, problems = read_bibliography(project.bibliography, "references.bib", memo)
    expected = (dict(references), list(problems))
    references.clear()
    problems.append("changed by a caller")
    assert read_bibliography(project.bibliography, "references.bib", memo) == expected


def test_a_store_keeps_bytes_as_bytes(tmp_path):
    ContentCache(tmp_path / "c.sqlite").put_many({"b": b"\x80\x00binary", "t": "text"})
    assert ContentCache(tmp_path / "c.sqlite").get_many(["b", "t"]) == {"b": b"\x80\x00binary", "t": "text"}


@FAST
@given(front=st.dictionaries(FIELD_NAMES, YAML_VALUES, max_size=6), body=st.lists(MARKDOWN_PIECES, max_size=40))
def test_a_note_from_the_store_is_the_note_parsing_gives(tmp_path_factory, front, body):
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + "".join(body)
    store = ContentCache(tmp_path_factory.mktemp("memo") / "c.sqlite")
    ParseMemo(store, "v").one(parse_note, "x2020y", "notes/x2020y.md", text)
    again = ParseMemo(store, "v")
    assert again.one(parse_note, "x2020y", "notes/x2020y.md", text) == parse_note("x2020y", "notes/x2020y.md", text)
    assert again.parsed == 0


@FAST
@given(pieces=st.lists(BIB_PIECES, max_size=60))
def test_a_bibliography_from_the_store_is_the_one_parsing_gives(tmp_path_factory, pieces):
    text = "".join(pieces)
    store = ContentCache(tmp_path_factory.mktemp("memo") / "c.sqlite")
    ParseMemo(store, "v").one(parse_bibliography, text, "references.bib")
    again = ParseMemo(store, "v")
    assert again.one(parse_bibliography, text, "references.bib") == parse_bibliography(text, "references.bib")
    assert again.parsed == 0


def test_every_snippets_helpers_at_once_are_those_found_one_file_at_a_time(tmp_path):
    """The helpers a result's key covers, from the table of the folder's modules, are those the walk
    over one file's imports finds on disk: transitive, through cycles and dotted names, never the
    file itself nor a module that is not in the folder."""
    from generator.checks.discover import HELPERS_DIR, helpers_of_every_file, local_imports, snippet_imports

    folder = tmp_path / HELPERS_DIR
    folder.mkdir()
    modules = {
        "alpha2020a": "import torch\nfrom harness import check\nimport shapes.grid\n",
        "beta2021b": "import alpha2020a\nif True:\n    import gamma\n",
        "harness": "import math\nimport texeval\n",
        "shapes": "from gamma import *\n",
        "gamma": "import shapes\nimport beta2021b\n",
        "lonely": "import os\n",
        "broken": "import harness\ndef (:\n",
    }
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(text, encoding="utf-8")
    imports = snippet_imports(tmp_path, ParseMemo())
    at_once = helpers_of_every_file(tmp_path, imports)
    one_by_one = {file: local_imports(tmp_path, file) for file in sorted(folder.glob("*.py"))}
    assert at_once == one_by_one
    assert [p.stem for p in at_once[folder / "beta2021b.py"]] == ["alpha2020a", "gamma", "harness", "shapes"]
    assert at_once[folder / "lonely.py"] == [] and at_once[folder / "broken.py"] == []


def test_a_helper_that_cannot_be_read_is_no_check_and_stops_nothing(tmp_path):
    """With a memo, the check discovery looks the helpers up too (the import scan looks up the
    same files); one that cannot be read (here a folder named like a module) is skipped by both."""
    project = with_snippets(make_project(tmp_path))
    (project.snippets / "odd.py").mkdir()
    memo = ParseMemo()
    specs, problems = discover(project.root, {"beta2021second"}, memo)
    assert [s.function for s in specs] == ["check_relu_from_the_note"] and problems == []
    assert project.snippets / "odd.py" not in snippet_imports(project.root, memo)


def test_check_results_are_read_again_only_when_their_file_changed(tmp_path, monkeypatch):
    """The results file holds every result with its figures (68 MB at 3,000 notes): with the
    digests kept, an unchanged file is not read; a changed one gives what reading it gives."""
    project = with_snippet_and_result(make_project(tmp_path))
    kept = FileDigests()
    kept.RACY_NS = -10**18  # as if read long after the last write
    memo = ParseMemo()
    first = load_results(project.check_results, memo, kept)
    assert [r.status for r in first.values()] == ["passed"]
    reads: list[Path] = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (reads.append(self), real_read_bytes(self))[1])
    assert load_results(project.check_results, memo, kept.one_build()) == first
    assert project.check_results not in reads
    record_result(project, "failed")
    again = load_results(project.check_results, memo, kept.one_build())
    assert project.check_results in reads
    assert again == load_results(project.check_results) and [r.status for r in again.values()] == ["failed"]
    project.check_results.unlink()
    assert load_results(project.check_results, memo, kept.one_build()) == {} == load_results(project.check_results)


def test_a_lookup_of_unchanged_files_gives_the_last_values_and_a_change_is_seen(tmp_path):
    """``file_values`` answers a lookup whose files all have the digests of the last lookup of the
    same kind with the last values (no key made); an edited file, another ``extra`` or another item
    are looked up as always."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one", encoding="utf-8")
    b.write_text("two", encoding="utf-8")
    seen = FileDigests()
    seen.RACY_NS = -10**18  # as if read long after the last write
    memo = ParseMemo()

    def lookup(extra: str = "", **files) -> dict:
        return memo.file_values("upper", {name: (path,) for name, path in files.items()}, seen.one_build(),
                                lambda item, contents: contents[0].decode().upper() + extra, extra=extra)

    assert lookup(a=a, b=b) == {"a": "ONE", "b": "TWO"}
    assert lookup(a=a, b=b) == {"a": "ONE", "b": "TWO"} and memo.computed["upper"] == 2
    b.write_text("three", encoding="utf-8")
    assert lookup(a=a, b=b) == {"a": "ONE", "b": "THREE"} and memo.computed["upper"] == 3
    assert lookup("!", a=a, b=b) == {"a": "ONE!", "b": "THREE!"} and memo.computed["upper"] == 5
    assert lookup("!", a=a) == {"a": "ONE!"}
    b.write_text("two", encoding="utf-8")
    assert lookup(a=a, b=b) == {"a": "ONE", "b": "TWO"}
