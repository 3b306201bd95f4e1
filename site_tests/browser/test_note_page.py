"""A note page's links and buttons: citations, the Cite block's copy button, equation badges;
and a category's citation table, sorted by clicking its Year header."""
from __future__ import annotations

import re

import pytest

from .conftest import goto, note, reader_click

IN_VIEW = """id => { const el = document.getElementById(id); if (!el) return false;
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 20), r.top + Math.min(r.height / 2, 8));
  return r.top >= 0 && r.top < innerHeight && (hit === el || el.contains(hit)); }"""


def wait_in_view(page, element_id: str) -> None:
    """Wait until the top of the element is on screen and not covered (by the sticky header).
    By id, not by handle: the theme may replace the page's content while it navigates."""
    from playwright.sync_api import TimeoutError

    try:
        page.wait_for_function(IN_VIEW, arg=element_id)
    except TimeoutError:
        where = page.evaluate("id => [location.href, scrollY, document.getElementById(id)?.getBoundingClientRect().top]", element_id)
        raise AssertionError(f"#{element_id} is not in view: {where}") from None


def citing_note(notes, cited_has_note: bool) -> tuple[str, str]:
    """(citing note, cited key): the first note citing a key that has a note (or only a bibliography entry)."""
    for facts in notes.values():
        for key in facts.cites:
            if (key in notes) == cited_has_note and key != facts.key:
                return facts.key, key
    pytest.fail(f"no note cites a paper {'with' if cited_has_note else 'without'} a note")


@pytest.mark.parametrize("has_note", [True, False], ids=["to-a-note", "to-the-bibliography"])
def test_a_citation_lands_on_the_cited_paper(page, notes, has_note):
    citing, cited = citing_note(notes, has_note)
    goto(page, notes[citing].url)
    target = f"/notes/{cited}/" if has_note else f"/bibliography/#{cited}"
    link = page.locator(f'article p a[title][href$="{target}"]').first  # in the prose, not the related list
    assert re.search(r"\d{4}", link.inner_text()), "a citation reads 'Author, year'"
    reader_click(link)
    if has_note:
        page.locator(f'.pn-card[data-note="{cited}"]').wait_for()
    else:
        entry = page.locator(f"#{cited}")
        entry.wait_for()
        wait_in_view(page, cited)
        assert page.evaluate("location.hash") == f"#{cited}"
        assert cited in entry.inner_text()


def test_cite_button_copies_the_bibtex_entry(context, base_url, notes):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
    page = context.new_page()
    facts = note(notes, "kingma2014adam")
    goto(page, facts.url)
    cite = page.locator("details:has(summary:text-is('Cite'))")
    cite.locator("summary").click()
    code = cite.locator("pre code")
    code.hover()
    cite.get_by_title("Copy to clipboard").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == code.inner_text().strip()
    assert re.match(r"@\w+\{" + facts.key + ",", copied.strip())
    assert "title" in copied and "author" in copied


def test_an_equation_badge_shows_its_status_and_opens_the_check(page, notes):
    goto(page, note(notes, "kingma2014adam").url)
    badge = page.locator(".pn-equation .pn-badge").first
    assert badge.is_visible()
    assert "pn-badge--verified" in badge.get_attribute("class"), "run `papernotes check` before building"
    assert badge.inner_text().startswith("✓ ")
    function = badge.get_attribute("href").split("#check-", 1)[1]
    reader_click(badge)
    check = page.locator(f"#check-{function}")
    wait_in_view(page, f"check-{function}")
    assert page.evaluate("location.hash") == f"#check-{function}"
    code = check.locator("pre code")
    assert code.is_visible()
    assert f"def {function}(" in code.inner_text()


def category_with_most_years(site) -> str:
    def years(path):
        return set(re.findall(r'<tr><td data-value="(\d{4})">', path.read_text(encoding="utf-8")))
    pages = sorted(site.glob("categories/*/index.html"), key=lambda p: (-len(years(p)), p.parent.name))
    assert pages and len(years(pages[0])) >= 2, "no category has notes from two years"
    return f"categories/{pages[0].parent.name}/"


def test_clicking_year_sorts_the_citation_table(page, site):
    goto(page, category_with_most_years(site))
    table = page.locator("table[data-pn-sortable]")

    def rows():
        return table.locator("tbody tr").evaluate_all("rows => rows.map(r => [r.cells[0].innerText, r.cells[1].innerText])")

    before = rows()
    year = table.locator("th", has_text="Year")
    year.click()
    ascending = rows()
    assert [int(y) for y, _ in ascending] == sorted(int(y) for y, _ in before)
    assert year.get_attribute("aria-sort") == "ascending"
    year.click()
    descending = rows()
    assert [int(y) for y, _ in descending] == sorted((int(y) for y, _ in before), reverse=True)
    assert year.get_attribute("aria-sort") == "descending"
    assert sorted(ascending) == sorted(descending) == sorted(before)  # rows move whole
