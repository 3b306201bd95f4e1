"""Build the fixture knowledge base once and read the generated HTML as a reader's browser would get it."""
import json
import re
from html import unescape as html_unescape
from pathlib import Path

import pytest
from conftest import edit, make_project

from generator.build_inputs import inputs_digest
from generator.file_digests import FileDigests
from generator.site_build import build

ASSET_URL = re.compile(r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=["']?(?:https?:)?//"""
                       r"""|<link\b(?![^>]*\brel=["']?canonical)[^>]*\bhref=["']?(?:https?:)?//[^>]*>""",  # canonical: never fetched
                       re.IGNORECASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("built"))
    problems = build(project)
    assert [str(p) for p in problems] == []
    return project


def page(project, path: str) -> str:
    return (project.site / path).read_text(encoding="utf-8")


def test_site_is_a_link_to_the_finished_build(built):
    assert built.site.is_symlink()
    assert (built.site / "index.html").exists()
    assert (built.site / "notes" / "alpha2020first" / "index.html").exists()


def test_metadata_card(built):
    html = page(built, "notes/alpha2020first/index.html")
    card = html[html.index('<div class="pn-card"'):]
    card = card[: card.index("</div>")]
    assert '<p class="pn-card__authors">Ann Alpha, Zed Zulu</p>' in card
    assert "<span>Proceedings of the Test Conference (TC)</span>" in card
    assert '<span class="pn-card__year">2020</span>' in card
    assert 'href="https://arxiv.org/abs/2001.00001"' in card
    assert 'href="https://doi.org/10.1000/alpha.2020"' in card
    assert '<a class="pn-tag" href="../../categories/optimization/">Optimization and Training Techniques</a>' in card
    assert card.count('class="pn-tag"') == 1  # 'training' is an alias of 'optimization': one chip
    assert "<strong>TL;DR</strong> Alpha optimisation takes smaller steps when gradients are noisy." in card
    assert "1,234 citations (Google Scholar, as of 2022-04-20)" in card


def test_cite_block_holds_the_bibtex_entry(built):
    html = page(built, "notes/alpha2020first/index.html")
    cite = html[html.index("<summary>Cite</summary>"):]
    text = re.sub(r"<[^>]+>", "", cite[: cite.index("</details>")])
    assert "@inproceedings{alpha2020first," in text
    assert "author    = {Alpha, Ann and Zulu, Zed}," in text


def test_citations_link_to_notes_or_bibliography_anchors(built):
    html = page(built, "notes/alpha2020first/index.html")
    assert '<a href="../../bibliography/#gamma2019third" title="A Third Paper Without a Note">Gamma, 2019</a>' in html
    assert '<a href="../beta2021second/" title="Second Thoughts on Seeing">Beta et al., 2021</a>' in html
    assert "[@not-a-citation]" in html  # code is left alone
    bibliography = page(built, "bibliography/index.html")
    assert 'id="gamma2019third"' in bibliography


def test_related_and_backlinks(built):
    alpha = page(built, "notes/alpha2020first/index.html")
    assert 'id="related-notes"' in alpha and '<a href="../beta2021second/">Second Thoughts on Seeing</a>' in alpha
    beta = page(built, "notes/beta2021second/index.html")
    assert 'id="cited-by"' in beta and '<a href="../alpha2020first/">First Steps in Alpha Optimisation</a>' in beta


def test_bibliography_lists_every_entry_with_an_anchor_and_the_bib_file(built):
    html = page(built, "bibliography/index.html")
    for key in ("alpha2020first", "beta2021second", "gamma2019third", "script2022title"):
        assert f'<p class="pn-ref" id="{key}">' in html
    assert 'href="../references.bib"' in html
    assert (built.site / "references.bib").read_text(encoding="utf-8") == built.bibliography.read_text(encoding="utf-8")


def test_category_table_is_sortable_and_lists_the_category_notes(built):
    html = page(built, "categories/recsys/index.html")
    table = html[html.index('<table data-pn-sortable id="pn-table-recsys">'):html.index("</table>")]
    rows = re.findall(r"<tr><td data-value=\"(\d+)\">", table)
    assert rows == ["2022", "2021"]  # newest first
    assert '<a href="../../notes/beta2021second/">Second Thoughts on Seeing</a>' in table
    assert '<th data-sort="number" aria-sort="descending">Year</th>' in table
    optimization = page(built, "categories/optimization/index.html")
    assert '<td data-value="1234">1,234 (as of 2022-04-20)</td>' in optimization


def test_home_chart_has_one_trace_per_category_with_notes(built):
    html = page(built, "index.html")
    assert 'data-pn-chart="notes-per-year"' in html
    data = re.search(r'<div class="pn-chart" data-pn-chart="notes-per-year" data-pn-figure="([^"]*)"', html)[1]
    figure = json.loads(html_unescape(data))
    assert [(t["name"], t["x"], t["y"]) for t in figure["data"]] == [
        ("Optimization and Training Techniques", [2020, 2021, 2022], [1, 0, 0]),
        ("Image Processing and Computer Vision", [2020, 2021, 2022], [0, 1, 0]),
        ("Recommender Systems", [2020, 2021, 2022], [0, 0, 1]),
    ]
    assert figure["layout"]["barmode"] == "stack"


def test_plotly_is_served_by_the_site_but_not_loaded_by_pages(built):
    assert (built.site / "assets/javascripts/plotly.min.js").stat().st_size > 1_000_000
    for html_file in built.site.rglob("*.html"):
        assert "plotly.min.js" not in html_file.read_text(encoding="utf-8"), html_file


def test_a_script_title_shows_as_text(built):
    html = page(built, "notes/script2022title/index.html")
    assert "<script>alert" not in html
    assert "<title>&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Escaping Titles - papernotes</title>" in html
    assert '&lt;script&gt;alert("pwned")&lt;/script&gt; Escaping Titles<a class="headerlink"' in html
    assert "<b>Bold</b>" not in page(built, "bibliography/index.html")
    assert "<script>alert" not in page(built, "categories/recsys/index.html")
    assert "<script>alert" not in page(built, "bibliography/index.html")


def test_math_is_rendered_at_build_time(built):
    html = page(built, "notes/alpha2020first/index.html")
    assert html.count('class="katex"') == 2
    assert html.count('class="katex-display"') == 1
    assert "\\(" not in html and "\\[" not in html
    assert re.search(r'<div class="pn-equation"[^>]* id="eq-update">', html)
    assert (built.site / "assets/katex/katex.min.css").exists()
    assert list((built.site / "assets/katex/fonts").glob("*.woff2"))


def test_search_is_a_pagefind_bundle_per_language(built):
    manifest = json.loads(page(built, "pagefind/languages.json"))
    assert manifest["engines"] == [["en", "zh"], ["ru"]]  # Chinese has no stemmer: merged into the English engine
    for language in ("en", "ru", "zh"):
        entry = json.loads(page(built, f"pagefind/{language}/pagefind-entry.json"))
        assert list(entry["languages"]) == [language]
    assert not (built.site / "search/search_index.json").exists(), "the theme's lunr index is not built"


def test_equation_blocks_carry_their_id_for_the_search_index(built):
    html = page(built, "notes/alpha2020first/index.html")
    assert 'data-pn-equation="alpha2020first/update"' in html and 'data-pagefind-index-attrs="data-pn-equation"' in html


def test_non_english_notes_carry_their_lang(built):
    assert '<div class="pn-note-body" lang="zh">' in page(built, "notes/beta2021second/index.html")
    assert '<div class="pn-note-body" lang="ru">' in page(built, "notes/script2022title/index.html")


def test_no_page_loads_an_asset_from_the_internet(built):
    pages = list(built.site.rglob("*.html"))
    assert len(pages) >= 10
    for html_file in pages:
        hits = ASSET_URL.findall(html_file.read_text(encoding="utf-8"))
        assert hits == [], f"{html_file}: {hits}"
    for css in built.site.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css.read_text(encoding="utf-8")), css


def test_navigation_lists_categories_not_notes(built):
    html = page(built, "notes/alpha2020first/index.html")
    nav = html[html.index('<nav class="md-nav md-nav--primary'):html.index('<nav class="md-nav md-nav--secondary"')]
    assert "categories/recsys/" in nav
    assert "script2022title" not in nav


def test_a_failed_build_leaves_the_previous_site(tmp_path):
    project = make_project(tmp_path)
    assert build(project) == []
    good = project.site.resolve()
    edit(project.notes / "alpha2020first.md", "tags: [optimization, training]", "tags: [nonsense]")
    problems = [str(p) for p in build(project)]
    assert problems == ["notes/alpha2020first.md:2: unknown tag 'nonsense'; use a slug or alias from taxonomy.yml"]
    assert project.site.resolve() == good
    assert (project.site / "notes/alpha2020first/index.html").exists()
    assert len(list((project.work / "sites").iterdir())) == 1


def test_a_failure_inside_mkdocs_leaves_the_previous_site(tmp_path):
    project = make_project(tmp_path)
    assert build(project) == []
    good = project.site.resolve()
    edit(project.notes / "alpha2020first.md", "## Idea", "## Idea\n\nSee [this](missing-page.md).")
    problems = [str(p) for p in build(project)]
    assert len(problems) == 1 and problems[0].startswith("mkdocs: Doc file 'notes/alpha2020first.md' contains a link 'missing-page.md'")
    assert project.site.resolve() == good


def test_a_figure_waits_for_its_checks(built):
    html = page(built, "notes/beta2021second/index.html")
    assert "Chart <code>relu</code> is drawn by this note's checks" in html


def test_the_sitemap_lists_every_page_for_instant_navigation(built):
    sitemap = page(built, "sitemap.xml")
    assert "<loc>http://127.0.0.1:8000/notes/alpha2020first/</loc>" in sitemap
    assert "<loc>http://127.0.0.1:8000/categories/recsys/</loc>" in sitemap


def test_a_build_killed_at_any_moment_leaves_the_previous_site(tmp_path):
    """SIGKILL the build at points spread over its whole run: each time ``site`` still serves the
    previous build, complete; the next build then publishes normally."""
    import signal
    import subprocess
    import sys
    import time as clock

    project = make_project(tmp_path)
    command = [sys.executable, "-m", "generator.cli", "--root", str(project.root), "build"]
    started = clock.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    duration = clock.perf_counter() - started
    good = project.site.resolve()
    files = sorted(p.relative_to(good) for p in good.rglob("*"))
    edit(project.notes / "alpha2020first.md", "## Idea", "## Idea\n\nA sentence the killed builds never publish.")
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95):
        build_process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        clock.sleep(duration * fraction)
        build_process.send_signal(signal.SIGKILL)
        build_process.wait()
        if project.site.resolve() != good:  # the kill came after the atomic switch: the new site is whole
            assert "never publish" in (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
            break
        assert sorted(p.relative_to(good) for p in good.rglob("*")) == files
        assert "never publish" not in (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
    subprocess.run(command, check=True, capture_output=True)
    assert "never publish" in (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
    assert (project.site / "pagefind/languages.json").exists()


def test_the_digests_a_server_keeps_follow_every_change_to_an_input(tmp_path):
    """``serve`` keeps each input file's digest while its size, times, inode and type are unchanged:
    the inputs' digest is then the one read from scratch, after edits, a same-size edit, a deletion,
    a symbolic link and a new note."""
    project = make_project(tmp_path)
    kept = FileDigests()
    kept.RACY_NS = 0  # keep even what was written a moment ago (else a fresh file is always read again)

    def agree() -> bool:
        return inputs_digest(project, None, "f", kept) == inputs_digest(project, None, "f")

    assert agree()
    note = project.notes / "alpha2020first.md"
    edit(note, "## Idea", "## Idea\n\nMore.")
    assert agree()
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("More.", "Less."), encoding="utf-8")  # the same size
    assert agree()
    (project.notes / "gamma2023new.md").write_text(text, encoding="utf-8")
    assert agree()
    (project.notes / "gamma2023new.md").unlink()
    (project.notes / "gamma2023new.md").symlink_to(note)
    assert agree()
    project.bibliography.unlink()
    assert agree()


def test_one_build_sees_each_file_once_and_the_next_build_sees_the_change(tmp_path):
    """``FileDigests.one_build``: every stage of a build works from the digest a file had when the
    build first looked at it; what that build read is kept for the next, which sees the edit."""
    file = tmp_path / "note.md"
    file.write_text("one", encoding="utf-8")
    kept = FileDigests()
    kept.RACY_NS = -10**18  # as if read long after the write
    first = kept.one_build()
    before = first.digest(file)
    file.write_text("two, longer", encoding="utf-8")
    assert first.digest(file) == before  # the same build: the same view
    assert first.read(file)[1] == b"two, longer" and first.digest(file) != before  # what it read, it sees
    second = kept.one_build()
    assert second.digest(file) == first.digest(file) == FileDigests().digest(file)


def test_a_file_changed_a_moment_before_it_was_read_is_read_again(tmp_path, monkeypatch):
    """A write in the same clock tick as the read would leave the file's size and times as they
    were: what was read within ``RACY_NS`` of a change is read again the next time, not kept."""
    reads = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (reads.append(self), real_read_bytes(self))[1])
    file = tmp_path / "note.md"
    file.write_text("one", encoding="utf-8")
    kept = FileDigests()
    kept.digest(file)
    kept.digest(file)
    assert len(reads) == 2  # written a moment ago: read each time
    kept.RACY_NS = -10**18  # as if read long after the write
    kept.digest(file)
    kept.digest(file)
    assert len(reads) == 3  # then kept while unchanged
