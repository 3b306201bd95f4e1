"""The site at 10x its notes: the real site (74 notes) and a replicated corpus of 740 built by the
test (every note copied ten times, keys renamed), read in Chromium. The home chart's axis labels
never overlap, long author lists are shortened with the full list a click away, a long category
table can be filtered, and bibliography entries with odd keys (a DOI, ``*``, ``|``) are link targets."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.project import Project
from generator.site_build import build

from .chromium import serving
from .conftest import NOTES, REPO, goto, open_context, reader_click, screenshot, DESKTOP, Visit
from .test_crawl import PageParser, is_internal, target_file
from .test_note_page import wait_in_view

COPIES = 10
ODD_KEYS = ("10.1145/3394486.3403999", "Ruiz*2022", "smith|2020")
ODD_ENTRIES = """
@inproceedings{10.1145/3394486.3403999,
author = {Mbeki, Thabo and Halvorsen, Ingrid and Chen, Wei},
title = {Calibrated Forecasts at Scale},
year = {2020},
booktitle = {Proceedings of the 26th ACM SIGKDD International Conference on Knowledge Discovery & Data Mining}
}
@InProceedings{Ruiz*2022, author = {Ruiz, Mateo and Chen, Wei}, title = {Retrieval Pipelines}, booktitle = {AAAI}, year = {2022a}}
@misc{smith|2020, author = {Smith, Sam}, title = {A Pipe in the Key}, year = {2020}}
"""
ENTRY_KEY = re.compile(r"^(@\w+\{)([^,\s]+),", re.M)


def replicate(root: Path, copies: int) -> Project:
    """The repository's knowledge base with every note (and its entry) ``copies`` times: the
    original, then ``<key>-copyN``; a note citing the odd keys is added to the originals."""
    root.mkdir(parents=True)
    for name in ("taxonomy.yml", "mkdocs.yml"):
        shutil.copy2(REPO / name, root / name)
    bib = (REPO / "references.bib").read_text(encoding="utf-8")
    keys = [p.stem for p in sorted(NOTES.glob("*.md"))]
    entries = {m[2]: m for m in ENTRY_KEY.finditer(bib)}
    parts = [bib, ODD_ENTRIES]
    (root / "notes").mkdir()
    for key in keys:
        text = (NOTES / f"{key}.md").read_text(encoding="utf-8")
        entry = ""
        if key in entries:  # a topic note has none
            start = entries[key].start()
            following = [m.start() for m in ENTRY_KEY.finditer(bib) if m.start() > start]
            entry = bib[start:following[0] if following else len(bib)]
        for n in range(copies):
            copy = key if n == 0 else f"{key}-copy{n}"
            (root / "notes" / f"{copy}.md").write_text(text, encoding="utf-8")
            if n and entry:
                parts.append(entry.replace(f"{{{key},", f"{{{copy},", 1))
    (root / "references.bib").write_text("\n".join(parts), encoding="utf-8")
    with open(root / "notes" / f"{keys[0]}.md", "a", encoding="utf-8") as note:
        note.write("\nOdd keys: [" + "; ".join(f"@{k}" for k in ODD_KEYS) + "].\n")
    return Project(root)


@pytest.fixture(scope="module")
def site_740(tmp_path_factory) -> Path:
    project = replicate(tmp_path_factory.mktemp("scale") / "kb", COPIES)
    problems = [str(p) for p in build(project) if p.is_error]
    assert problems == []
    assert len(list((project.site / "notes").glob("*/index.html"))) == COPIES * len(list(NOTES.glob("*.md")))
    return project.site.resolve()


@pytest.fixture(params=["74", "740"])
def scaled(request, site, browser):
    """(page, site folder, label) for the real site and for the 740-note one."""
    root = site if request.param == "74" else request.getfixturevalue("site_740")
    with serving(root) as url:
        visit = Visit(url)
        context = open_context(browser, visit, viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page, root, request.param
        context.close()
    assert visit.outside() == [] and visit.errors == []


def label_boxes(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => e.textContent.trim()).map(e => { const b = e.getBoundingClientRect();"
        " return {text: e.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; })")


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]]


def test_the_home_charts_tick_labels_never_overlap(scaled):
    page, _, label = scaled
    goto(page, "")
    page.locator("[data-pn-chart] .ytick text").first.wait_for()
    screenshot(page.locator("[data-pn-chart]").first, f"home-chart-{label}-notes")
    for axis in (".ytick", ".xtick"):
        boxes = label_boxes(page, f"[data-pn-chart] {axis} text")
        assert len(boxes) >= 2
        assert overlapping(boxes) == [], f"{axis} labels overlap at {label} notes"
    assert len(label_boxes(page, "[data-pn-chart] .ytick text")) <= 10


def test_long_author_lists_are_shortened_with_the_full_list_one_click_away(scaled):
    page, _, label = scaled
    goto(page, "categories/few-shot/")
    authors = page.locator("table[data-pn-sortable] details.pn-authors").first
    summary = authors.locator("summary")
    assert re.fullmatch(r"[^,]+, [^,]+, … et al\.", summary.inner_text())
    full = summary.get_attribute("title")
    assert full.count(",") >= 3 and full.startswith(summary.inner_text().split(", …")[0])
    assert authors.inner_text().strip() == summary.inner_text()  # closed: only the short list shows
    screenshot(page.locator("table[data-pn-sortable]"), f"category-authors-{label}-notes")
    reader_click(summary)
    assert authors.inner_text().strip() == full


def test_a_long_category_table_can_be_filtered(browser, site_740):
    with serving(site_740) as url:
        visit = Visit(url)
        context = open_context(browser, visit, viewport=DESKTOP)
        page = context.new_page()
        goto(page, "categories/recsys/")
        rows = page.locator("table[data-pn-sortable] tbody tr")
        total = rows.count()
        assert total > 100
        title = rows.first.locator("td").nth(1).inner_text()
        word = max(title.split(), key=len)
        page.locator("input[data-pn-filter]").fill(word)
        shown = page.locator("table[data-pn-sortable] tbody tr:not([hidden])")
        expected = sum(1 for r in rows.all_inner_texts() if word.lower() in r.lower())
        assert 0 < shown.count() == expected < total
        assert page.locator(".pn-filter .pn-hint").inner_text() == f"{expected} of {total} notes"
        screenshot(page, "category-filtered-740-notes")
        context.close()
    assert visit.outside() == [] and visit.errors == []


def test_odd_keys_are_anchors_every_link_to_them_resolves(site_740):
    pages = {}
    for path in [site_740 / "bibliography/index.html", *sorted((site_740 / "notes").glob("*/index.html"))[:5]]:
        parser = PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path] = parser
    bibliography = pages[site_740 / "bibliography/index.html"]
    assert set(ODD_KEYS) <= bibliography.ids
    from urllib.parse import unquote, urldefrag
    linked = set()
    for page, parser in pages.items():
        for url in filter(is_internal, parser.links):
            if target_file(site_740, page, url) == site_740 / "bibliography/index.html" and urldefrag(url).fragment:
                anchor = unquote(urldefrag(url).fragment)
                assert anchor in bibliography.ids, url
                linked.add(anchor)
    assert set(ODD_KEYS) <= linked


def test_a_citation_of_an_odd_key_lands_on_its_entry(browser, site_740):
    first = sorted(p.stem for p in NOTES.glob("*.md"))[0]
    with serving(site_740) as url:
        visit = Visit(url)
        context = open_context(browser, visit, viewport=DESKTOP)
        page = context.new_page()
        for key in ODD_KEYS:
            goto(page, f"notes/{first}/")
            link = page.locator(f'a[href$="#{key.replace("|", "%7C")}"]').first
            reader_click(link)
            page.wait_for_url(re.compile(r"/bibliography/"))
            wait_in_view(page, key)
            assert page.evaluate("decodeURIComponent(location.hash.slice(1))") == key
        context.close()
    assert visit.outside() == [] and visit.errors == []
