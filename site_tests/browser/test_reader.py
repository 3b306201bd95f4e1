"""What a reader sees in Chromium: pages load only from the site, formulas are typeset, small
screens fit, each note's language is marked, and the screenshots for review."""
from __future__ import annotations

import pytest

from .conftest import DESKTOP, goto, note, open_context, screenshot

PAGE_KINDS = ["", "categories/", "timeline/", "bibliography/", "verification/", "404.html"]


def representative_pages(notes) -> list[str]:
    """An index page of each kind, a category page and a note in each language."""
    by_lang = {}
    for facts in notes.values():
        by_lang.setdefault(facts.lang, facts.url)
    return PAGE_KINDS + ["categories/optimization/"] + sorted(by_lang.values())


def test_pages_load_only_from_the_site_and_log_no_error(page, visit, notes):
    for path in representative_pages(notes):
        goto(page, path)
        assert page.locator("h1").first.is_visible(), path
    assert visit.requests, "no request was recorded"
    assert visit.outside() == []
    assert visit.errors == []


def test_the_guard_sees_an_outside_request_and_an_error(browser, base_url):
    """The check above would catch a CDN script or a failing script (without sending anything)."""
    from .conftest import Visit

    visit = Visit(base_url)
    context = open_context(browser, visit)
    page = context.new_page()
    goto(page, "")
    page.evaluate("""() => { const s = document.createElement("script");
      s.src = "https://cdn.example.org/lib.js"; document.head.appendChild(s);
      setTimeout(() => { throw new Error("boom"); }); }""")
    page.wait_for_timeout(300)
    context.close()
    assert visit.outside() == ["https://cdn.example.org/lib.js"]
    assert any("boom" in e for e in visit.errors)


VISIBLE_PROSE = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, .katex-mathml, script").forEach(e => e.remove());
  return article.innerText;
}"""


@pytest.mark.parametrize("key", ["kingma2014adam", "ioffe2015batch"])
def test_every_formula_is_typeset(page, notes, key):
    goto(page, note(notes, key).url)
    prose = page.evaluate(VISIBLE_PROSE)
    for raw in ("$$", "\\frac", "\\(", "\\[", "\\hat", "\\sum"):
        assert raw not in prose
    assert page.locator(".katex-error").count() == 0
    display = page.locator(".katex-display")
    inline = page.locator(":not(.katex-display) > .katex")
    assert display.count() > 0 and inline.count() > 0
    for formulas in (display, inline):
        box = formulas.first.bounding_box()
        assert box and box["width"] > 5 and box["height"] > 5
    # the glyphs come from KaTeX's own fonts, served by the site
    assert page.evaluate("document.fonts.check('16px KaTeX_Main') && document.fonts.check('16px KaTeX_Math')")
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('KaTeX_Math') && f.status === 'loaded')")


NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone(browser, visit):
    """A page on a 375 px wide phone screen, with the same request and error checks as ``page``."""
    context = open_context(browser, visit, **PHONE)
    yield context.new_page()
    context.close()
    assert visit.outside() == [] and visit.errors == []


def assert_no_horizontal_scroll(page) -> None:
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"{page.url} is {page.evaluate('document.documentElement.scrollWidth')} px wide"


@pytest.mark.parametrize("key", ["kingma2014adam", "ioffe2015batch", "rajput2023recommender"])
def test_a_note_fits_a_small_screen(phone, notes, key):
    goto(phone, note(notes, key).url)
    assert_no_horizontal_scroll(phone)
    card = phone.locator(".pn-card")
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert card.evaluate("c => c.scrollWidth <= c.clientWidth")
    for part in card.locator("p").all():
        line = part.bounding_box()
        assert line["x"] >= 0 and line["x"] + line["width"] <= 375, part.inner_text()
        assert part.evaluate("p => parseFloat(getComputedStyle(p).fontSize)") >= 11
    if key == "kingma2014adam":
        screenshot(phone, "note-small-screen")


def test_a_category_page_fits_a_small_screen(phone):
    goto(phone, "categories/optimization/")
    assert_no_horizontal_scroll(phone)
    table = phone.locator("table[data-pn-sortable]")
    assert table.evaluate("t => t.closest('.md-typeset__scrollwrap') !== null"), "a wide table scrolls inside its own box"


def test_chinese_and_russian_notes_carry_their_language(page, notes):
    checked = set()
    for facts in notes.values():
        if facts.lang == "en" or facts.lang in checked:
            continue
        checked.add(facts.lang)
        goto(page, facts.url)
        paragraph = page.locator("article .pn-note-body p").first
        assert paragraph.evaluate("p => p.closest('[lang]').lang") == facts.lang
        assert page.locator(".pn-card__tldr").evaluate("p => p.closest('[lang]').lang") == facts.lang
    assert {"zh", "ru"} <= checked


def test_tldrs_listed_on_the_home_page_carry_their_language(page, notes):
    goto(page, "")
    for facts in notes.values():
        link = page.locator(f'#recently-added ~ ul a[href="{facts.url}"]')
        if facts.lang != "en" and link.count():
            item = link.locator("xpath=..")
            assert item.evaluate("li => [...li.querySelectorAll('[lang]')].map(e => e.lang)") == [facts.lang], facts.key


def test_screenshots(page, notes):
    """For review (site_tests/artifacts/, git-ignored). ``note-equations.png`` is the README's picture."""
    goto(page, "")
    screenshot(page, "home", full_page=True)
    goto(page, note(notes, "kingma2014adam").url)
    page.locator("[data-pn-chart] svg.main-svg").first.wait_for()
    screenshot(page, "note-math-chart", full_page=True)
    page.set_viewport_size({"width": 1100, "height": 720})
    page.locator("h2", has_text="Key equations").evaluate("h => scrollTo(0, h.getBoundingClientRect().top + scrollY - 60)")
    page.wait_for_timeout(300)
    screenshot(page, "note-equations")
    page.set_viewport_size(DESKTOP)
    goto(page, "categories/optimization/")
    screenshot(page, "category", full_page=True)
