"""A clean build whose pages several processes render writes the site one process writes, byte for
byte, with the same record for the next incremental build, and reports the same problems."""
import json
import time

import pytest
from conftest import edit, make_project
from test_incremental import clean_copy, site_files, with_snippet_and_result

from generator import page_shards
from generator.diagnostics import Diagnostic
from generator.incremental import RECORD, Anchors
from generator.site_build import build


def record(project) -> dict:
    return json.loads((project.site.resolve().parent / RECORD).read_text(encoding="utf-8"))


@pytest.mark.parametrize("jobs", [2, 3])
def test_pages_rendered_by_several_processes_make_the_site_one_process_makes(tmp_path, jobs):
    one = with_snippet_and_result(make_project(tmp_path / "one"))
    assert build(one, jobs=1) == []
    several = clean_copy(one, tmp_path / "several")
    assert build(several, jobs=jobs) == []
    expected, got = site_files(one), site_files(several)
    assert sorted(got) == sorted(expected)
    assert [path for path in expected if got[path] != expected[path]] == []
    assert all(got[path] for path in got if path.endswith(".html"))  # no placeholder left
    assert record(several) == record(one)  # what the next (incremental) build starts from
    assert not list(several.site.resolve().parent.glob("site.shard*"))


def test_an_edit_after_a_sharded_build_is_incremental_and_equals_a_clean_build(tmp_path):
    project = with_snippet_and_result(make_project(tmp_path / "warm"))
    assert build(project, jobs=2) == []
    edit(project.notes / "alpha2020first.md", "## Idea", "## Idea\n\nOne more sentence.")
    assert build(project, jobs=2) == []
    clean = clean_copy(project, tmp_path / "clean")
    assert build(clean, jobs=1) == []
    assert site_files(project) == site_files(clean)


def test_a_link_between_two_shards_to_a_missing_anchor_is_reported_as_mkdocs_reports_it(tmp_path):
    project = with_snippet_and_result(make_project(tmp_path / "one"))
    edit(project.notes / "beta2021second.md", "## 方法", "## 方法\n\nSee [the idea](alpha2020first.md#nowhere).")
    expected = [p.message for p in build(project, jobs=1)]
    assert expected == ["Doc file 'notes/beta2021second.md' contains a link 'alpha2020first.md#nowhere', "
                        "but the doc 'notes/alpha2020first.md' does not contain an anchor '#nowhere'."]
    # every split of the two notes' pages into different shards reports it once
    for jobs in (2, 3, 4):
        assert [p.message for p in build(clean_copy(project, tmp_path / f"jobs{jobs}"), jobs=jobs)] == expected
    assert not project.site.exists()  # a failed build publishes nothing


def test_split_balances_the_shards_by_size_and_keeps_every_page_once():
    sizes = {f"notes/n{i}.md": size for i, size in enumerate([90, 10, 50, 50, 40, 30, 20, 10])}
    shards = page_shards.split(sizes, 3)
    assert sorted(p for shard in shards for p in shard) == sorted(sizes)
    totals = [sum(sizes[p] for p in shard) for shard in shards]
    assert max(totals) - min(totals) <= 20


def test_workers_default_to_one_for_a_small_site_and_follow_jobs_when_given():
    assert page_shards.workers_for(page_shards.MIN_PAGES - 1, None) == 1
    assert page_shards.workers_for(10, 4) == 4
    assert page_shards.workers_for(3, 8) == 3
    assert page_shards.workers_for(500, 1) == 1


def test_a_worker_that_fails_is_a_problem_of_the_build_and_leaves_no_site(tmp_path):
    docs, site = tmp_path / "docs", tmp_path / "site"
    for name in ("a.md", "b.md"):
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text("# page\n", encoding="utf-8")

    def worker(docs_dir, folder, shard):
        if "b.md" in shard:
            raise RuntimeError("disk full")
        (folder / "a").mkdir(parents=True, exist_ok=True)
        (folder / "a" / "index.html").write_text("<p>a</p>", encoding="utf-8")
        return [], Anchors({"a.md": ()}, {})

    problems, _ = page_shards.render(docs, site, [["a.md"], ["b.md"]], worker)
    assert problems == [Diagnostic("mkdocs", 0, "rendering pages failed: RuntimeError: disk full")]
    assert not site.exists()
    assert not list(tmp_path.glob("site.shard*"))


def test_a_worker_killed_without_an_answer_is_reported(tmp_path):
    docs, site = tmp_path / "docs", tmp_path / "site"
    docs.mkdir()
    (docs / "a.md").write_text("# a\n", encoding="utf-8")

    def worker(docs_dir, folder, shard):
        import os
        os._exit(9)

    problems, _ = page_shards.render(docs, site, [["a.md"]], worker)
    assert len(problems) == 1 and "stopped without a result" in problems[0].message
    assert not site.exists()


def test_crossing_links_reports_a_missing_anchor_in_either_direction_between_shards_once():
    anchors = Anchors({"a.md": ("top",), "b.md": ("x",), "c.md": ()},
                      {"a.md": {"b.md": {"y": "b.md#y", "x": "b.md#x"}}, "b.md": {"a.md": {"gone": "a.md#gone"}},
                       "c.md": {"a.md": {"nope": "a.md#nope"}}})
    problems = [p.message for p in page_shards.crossing_links(anchors, [["a.md", "c.md"], ["b.md"]])]
    assert problems == [
        "Doc file 'a.md' contains a link 'b.md#y', but the doc 'b.md' does not contain an anchor '#y'.",
        "Doc file 'b.md' contains a link 'a.md#gone', but the doc 'a.md' does not contain an anchor '#gone'.",
    ]  # c.md -> a.md#nope is within one shard: mkdocs itself reports it there


def test_shards_hold_at_most_shard_pages_and_come_in_multiples_of_the_workers():
    assert page_shards.shard_count(100, 2) == 2
    assert page_shards.shard_count(page_shards.SHARD_PAGES * 2, 2) == 2
    assert page_shards.shard_count(page_shards.SHARD_PAGES * 2 + 1, 2) == 4
    assert page_shards.shard_count(page_shards.SHARD_PAGES * 5, 2) == 6
    assert page_shards.shard_count(page_shards.SHARD_PAGES * 3, 1) == 3


def test_more_shards_than_processes_run_a_few_at_a_time_and_make_the_site(tmp_path):
    docs, site = tmp_path / "docs", tmp_path / "site"
    names = [f"p{k}.md" for k in range(5)]
    for name in names:
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text("# page\n", encoding="utf-8")
    running = tmp_path / "running"
    running.mkdir()

    def worker(docs_dir, folder, shard):
        marker = running / shard[0]
        marker.touch()
        time.sleep(0.3)  # the workers of one batch overlap
        at_once = len(list(running.iterdir()))
        for page in shard:
            (folder / page[:-3]).mkdir(parents=True, exist_ok=True)
            (folder / page[:-3] / "index.html").write_text(f"<p>{page}</p>", encoding="utf-8")
        time.sleep(0.1)
        marker.unlink()
        return [], Anchors({page: (f"{at_once}",) for page in shard}, {})

    problems, anchors = page_shards.render(docs, site, [[n] for n in names], worker, at_once=2)
    assert problems == [] and sorted(anchors.present) == names
    assert all((site / n[:-3] / "index.html").read_text(encoding="utf-8") == f"<p>{n}</p>" for n in names)
    running_together = [int(ids[0]) for ids in anchors.present.values()]
    assert max(running_together) == 2  # two side by side, never more
    assert not list(tmp_path.glob("site.shard*"))
