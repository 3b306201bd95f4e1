"""A build after an edit, with every cache warm, writes exactly the site a clean build of the same
inputs writes: file by file, for each kind of input a writer changes."""
import dataclasses
import platform
import shutil
import time

import pytest
from conftest import FIXTURES, REPO, edit, make_project

from generator import fingerprint, site_build, site_seed
from generator.checks.discover import discover
from generator.checks.results import CheckResult, load_results, save_results
from generator.checks.runner import Environment, cache_key
from generator.load import load
from generator.formulas import Katex
from generator.incremental import UNCHANGED_MTIME
from generator.project import Project
from generator.site_build import KEEP_BUILDS, build, finish_search


def with_snippet_and_result(project: Project) -> Project:
    """The fixture with beta2021second's check and a passing result recorded for it."""
    snippets = project.root / "runnable_snippets"
    snippets.mkdir()
    shutil.copy2(FIXTURES / "snippets_runner" / "beta2021second.py", snippets / "beta2021second.py")
    shutil.copy2(REPO / "runnable_snippets" / "harness.py", snippets / "harness.py")
    record_result(project, "passed")
    return project


def record_result(project: Project, status: str) -> None:
    kb = load(project, Katex()).kb
    note_tex = {f"{n.key}/{f.label}": f.tex for n in kb.notes.values() for f in n.formulas if f.label}
    (spec,) = discover(project.root, set(kb.notes))[0]
    env = Environment("cpu", platform.python_version(), "2.13.0+cpu")
    save_results(project.check_results, {spec.id: CheckResult(
        spec.id, spec.file, spec.first_line, spec.equations, status, env.device, env.torch, 0.1, 0.0, 1e-5,
        cache_key(project.root, spec, env, note_tex), "2026-12-04T00:00:00+00:00")})


def site_files(project: Project) -> dict[str, bytes]:
    site = project.site.resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def clean_copy(project: Project, into) -> Project:
    """The same inputs in a fresh folder with no build/ (no cache, no previous site)."""
    shutil.copytree(project.root, into, symlinks=True, ignore=shutil.ignore_patterns("build", "site"))
    copy = Project(into)
    if project.check_results.exists():
        copy.check_results.parent.mkdir(parents=True)
        shutil.copy2(project.check_results, copy.check_results)
    return copy


def set_status(project: Project) -> None:
    (result,) = load_results(project.check_results).values()
    save_results(project.check_results, {result.check: dataclasses.replace(result, status="failed", message="got 2")})


EDITS = {
    "note prose and a formula": lambda p: edit(p.notes / "alpha2020first.md", "## Idea", "## Idea\n\nA new sentence with $a^2 + b^2$."),
    "a note's tags": lambda p: edit(p.notes / "beta2021second.md", "tags: [", "tags: [recsys, "),
    "the bibliography": lambda p: edit(p.bibliography, "A Third Paper Without a Note", "A Third Paper, Retitled"),
    "the taxonomy": lambda p: edit(p.taxonomy, "Seeing machines.", "Machines that see."),
    "a snippet": lambda p: edit(p.snippets / "beta2021second.py", "# y = max(0, x)", "# y = max(0, x), elementwise"),
    "a check result": set_status,
    "mkdocs.yml": lambda p: edit(p.mkdocs_config, "site_name: papernotes", "site_name: papernotes, edited"),
    "a note's language": lambda p: edit(p.notes / "script2022title.md", "lang: ru", "lang: zh"),
    "a note's TL;DR": lambda p: edit(p.notes / "alpha2020first.md", "takes smaller steps", "takes smaller, safer steps"),
    "a note's citation count": lambda p: edit(p.notes / "alpha2020first.md", "count: 1234", "count: 4321"),
}


@pytest.mark.parametrize("kind", EDITS)
def test_a_build_after_an_edit_equals_a_clean_build(tmp_path, kind):
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project) == []
    before = site_files(project)
    EDITS[kind](project)
    assert build(project) == []
    after = site_files(project)
    assert after != before, f"editing {kind} changed nothing on the site"
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean) == []
    expected = site_files(clean)
    assert sorted(after) == sorted(expected)
    assert [(name, after[name][:400], expected[name][:400]) for name in expected if after[name] != expected[name]] == []


def test_a_sequence_of_edits_ends_at_the_clean_build(tmp_path):
    """Each build starts from the one before (never from a clean one): nothing goes stale on the way."""
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project) == []
    for kind in ("note prose and a formula", "a note's language", "a check result", "a note's TL;DR", "a note's tags"):
        EDITS[kind](project)
        assert build(project) == [], kind
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean) == []
    after, expected = site_files(project), site_files(clean)
    assert sorted(after) == sorted(expected)
    assert [(name, after[name][:400], expected[name][:400]) for name in expected if after[name] != expected[name]] == []


def test_an_edit_to_one_note_rebuilds_only_the_pages_that_show_it(tmp_path):
    """The pages an edit of a note's prose leaves as they were are the previous build's files
    (hard links), not rendered again; the note's own page is new."""
    project = with_snippet_and_result(make_project(tmp_path))
    assert build(project) == []
    before = project.site.resolve()
    edit(project.notes / "alpha2020first.md", "## Idea", "## Idea\n\nOne more sentence.")
    assert build(project) == []
    after = project.site.resolve()
    assert after != before
    kept = [page for page in ("notes/beta2021second/index.html", "notes/script2022title/index.html", "bibliography/index.html")
            if (after / page).stat().st_ino == (before / page).stat().st_ino]
    assert kept == ["notes/beta2021second/index.html", "notes/script2022title/index.html", "bibliography/index.html"]
    assert (after / "notes/alpha2020first/index.html").stat().st_ino != (before / "notes/alpha2020first/index.html").stat().st_ino


def test_a_build_with_nothing_changed_keeps_the_published_site(tmp_path):
    project = with_snippet_and_result(make_project(tmp_path))
    assert build(project) == []
    published = project.site.resolve()
    assert build(project) == []
    assert project.site.resolve() == published


def test_the_generators_fingerprint_follows_its_templates(tmp_path):
    """Every cache key and the published site's digest start with it: a template edit rebuilds."""
    package = tmp_path / "generator"
    shutil.copytree(fingerprint.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = fingerprint.generator_fingerprint(package)
    assert before == fingerprint.generator_fingerprint()
    edit(package / "render" / "templates" / "note.md.j2", "## Related notes", "## See also")
    assert fingerprint.generator_fingerprint(package) != before


def test_a_link_to_a_missing_anchor_fails_as_in_a_clean_build(tmp_path):
    """mkdocs checks anchors only between the pages it renders; a dirty build also checks links
    between a re-rendered page and a kept one, in both directions, from the previous build's record."""
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    edit(project.notes / "beta2021second.md", "## 方法", "## 方法\n\nSee [the idea](alpha2020first.md#idea).")
    assert build(project) == []
    edit(project.notes / "alpha2020first.md", "## Idea", "## Concept")  # the linked page is re-rendered, the linking one kept
    problems = [p.message for p in build(project)]
    assert problems == [p.message for p in build(clean_copy(project, tmp_path / "clean"))]
    assert problems == ["Doc file 'notes/beta2021second.md' contains a link 'alpha2020first.md#idea', "
                        "but the doc 'notes/alpha2020first.md' does not contain an anchor '#idea'."]
    edit(project.notes / "alpha2020first.md", "## Concept", "## Idea")
    assert build(project) == []
    edit(project.notes / "beta2021second.md", "#idea)", "#ideas)")  # the linking page is re-rendered, the linked one kept
    problems = [p.message for p in build(project)]
    assert problems == [p.message for p in build(clean_copy(project, tmp_path / "clean2"))]
    assert problems == ["Doc file 'notes/beta2021second.md' contains a link 'alpha2020first.md#ideas', "
                        "but the doc 'notes/alpha2020first.md' does not contain an anchor '#ideas'."]


@pytest.mark.parametrize("then", ["finish_search", "build"])
def test_a_build_that_leaves_search_stale_is_followed_by_the_clean_build(tmp_path, then):
    """serve publishes an edit before re-indexing it for search (build(search=False)), then
    finish_search re-indexes it; a build instead does it too. Either way the site is a clean build's."""
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project) == []
    EDITS["note prose and a formula"](project)
    assert build(project, search=False) == []
    assert (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8").count("A new sentence") == 1
    stale = project.site.resolve()
    assert (finish_search(project) if then == "finish_search" else build(project)) == []
    finished = project.site.resolve()
    assert finished != stale
    assert build(project) == []
    assert project.site.resolve() == finished  # taken for the finished build of these inputs: nothing rebuilt
    # the quick build left the pruning to the step after it, which did it
    assert len([p for p in (project.work / "sites").iterdir() if p.is_dir()]) <= KEEP_BUILDS
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean) == []
    after, expected = site_files(project), site_files(clean)
    assert sorted(after) == sorted(expected)
    assert [name for name in expected if after[name] != expected[name]] == []


def test_a_build_takes_the_docs_folder_of_the_one_before_and_writes_only_the_changed_pages(tmp_path, monkeypatch):
    """Writing every page's Markdown again was a tenth of an edit's build at 3,000 notes: the docs
    folder moves from build to build, every file aged once its HTML is built."""
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project) == []
    first = project.site.resolve().parent
    written = []
    real_write_docs = site_build.write_docs
    monkeypatch.setattr(site_build, "write_docs", lambda project, rendered, docs, every_file=True: (
        written.append((sorted(rendered), every_file)), real_write_docs(project, rendered, docs, every_file))[1])
    EDITS["note prose and a formula"](project)
    assert build(project, search=False) == []
    assert written == [(["notes/alpha2020first.md"], False)]
    second = project.site.resolve().parent
    assert not (first / "docs").exists() and (second / "docs").is_dir()
    assert finish_search(project) == []  # the build that re-indexes takes the folder along
    assert (project.site.resolve().parent / "docs").is_dir()
    assert {p.stat().st_mtime for p in (project.site.resolve().parent / "docs").rglob("*") if p.is_file()} == {UNCHANGED_MTIME}
    EDITS["a note's TL;DR"](project)
    assert build(project) == []
    assert written[1] == (["index.md", "notes/alpha2020first.md"], False)
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean) == []
    assert site_files(project) == site_files(clean)


def test_after_a_failed_build_lost_the_docs_folder_the_next_writes_every_page(tmp_path):
    """A build that fails after taking the docs folder deletes it with its own folder: the next
    build writes the docs anew, and its site is still a clean build's."""
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project) == []
    edit(project.notes / "beta2021second.md", "## 方法", "## 方法\n\nSee [the idea](alpha2020first.md#nowhere).")
    assert build(project) != []
    assert not (project.site.resolve().parent / "docs").exists()
    edit(project.notes / "beta2021second.md", "#nowhere)", "#idea)")
    assert build(project) == []
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean) == []
    assert site_files(project) == site_files(clean)


def test_a_build_stopped_by_a_bad_note_leaves_only_the_builds_that_were_there(tmp_path):
    """A build starts linking the published site into its folder before it reads the notes; when a
    note stops it, that folder goes, and the published site stays."""
    project = with_snippet_and_result(make_project(tmp_path))
    assert build(project) == []
    published = project.site.resolve()
    before = sorted(p.name for p in (project.work / "sites").iterdir())
    edit(project.notes / "alpha2020first.md", "tags: [", "tags: [[")
    assert any(p.is_error for p in build(project))
    assert project.site.resolve() == published
    deadline = time.monotonic() + 30
    while sorted(p.name for p in (project.work / "sites").iterdir()) != before and time.monotonic() < deadline:
        time.sleep(0.05)  # the discarded folder is deleted in the background
    assert sorted(p.name for p in (project.work / "sites").iterdir()) == before


def test_when_linking_the_published_site_ahead_fails_the_build_links_it_itself(tmp_path, monkeypatch):
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project) == []
    monkeypatch.setattr(site_seed.Seeding, "wait", lambda self: False)
    EDITS["note prose and a formula"](project)
    assert build(project) == []
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean) == []
    assert site_files(project) == site_files(clean)


def test_the_site_is_linked_ahead_with_the_files_written_in_place_copied(tmp_path):
    source, target = tmp_path / "site", tmp_path / "build" / "site"
    (source / "notes" / "a").mkdir(parents=True)
    (source / "notes" / "a" / "index.html").write_text("a", encoding="utf-8")
    (source / "sitemap.xml").write_text("<urlset/>", encoding="utf-8")
    seeding = site_seed.Seeding(source, target, frozenset({"sitemap.xml"}))
    assert seeding.wait()
    assert (target / "notes/a/index.html").stat().st_ino == (source / "notes/a/index.html").stat().st_ino
    assert (target / "sitemap.xml").read_text(encoding="utf-8") == "<urlset/>"
    assert (target / "sitemap.xml").stat().st_ino != (source / "sitemap.xml").stat().st_ino
    assert not site_seed.Seeding(source, target, frozenset()).wait()  # the target must not exist


def test_a_build_interrupted_while_it_reads_leaves_no_folder_behind(tmp_path, monkeypatch):
    project = with_snippet_and_result(make_project(tmp_path))
    assert build(project) == []
    before = sorted(p.name for p in (project.work / "sites").iterdir())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(site_build, "markdown_pages", interrupted)
    EDITS["note prose and a formula"](project)
    with pytest.raises(KeyboardInterrupt):
        build(project)
    deadline = time.monotonic() + 30
    while sorted(p.name for p in (project.work / "sites").iterdir()) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in (project.work / "sites").iterdir()) == before
