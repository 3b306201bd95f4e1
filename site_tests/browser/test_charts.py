"""Charts draw: on first load, after instant navigation by clicking a link, and in dark mode."""
from __future__ import annotations

import re

import pytest

from .conftest import goto, note

CHART_NOTES = ["kingma2014adam", "vaswani2017attention"]


def chart_pages(site) -> list[str]:
    """Every page with a chart, as a URL path."""
    pages = [p for p in site.rglob("index.html") if "data-pn-chart=" in p.read_text(encoding="utf-8")]
    return sorted("" if p.parent == site else f"{p.parent.relative_to(site).as_posix()}/" for p in pages)


def assert_charts_drawn(page) -> None:
    """Every chart on the page is an SVG with one drawn trace per trace in its data."""
    charts = page.locator("[data-pn-chart]")
    assert charts.count() > 0, page.url
    for chart in charts.all():
        expected = chart.evaluate("el => JSON.parse(el.dataset.pnFigure).data.length")
        chart.locator("svg.main-svg").first.wait_for()
        page.wait_for_function("([el, n]) => el.querySelectorAll('svg.main-svg g.trace').length === n",
                               arg=[chart.element_handle(), expected])
        box = chart.bounding_box()
        assert box["width"] > 200 and box["height"] > 200


def tick_luminance(page) -> float:
    """How light the first chart's axis labels are, 0 (black) to 1 (white)."""
    fill = page.locator("[data-pn-chart] .xtick text").first.evaluate("t => getComputedStyle(t).fill")
    r, g, b = (int(v) for v in re.findall(r"\d+", fill)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_every_chart_draws(page, site, notes):
    pages = chart_pages(site)
    assert "" in pages, "the home page has no chart"
    for key in CHART_NOTES:
        assert note(notes, key).url in pages, f"{key} has no chart"
    for path in pages:
        goto(page, path)
        assert_charts_drawn(page)


def click_and_wait(page, link: str, arrived: str) -> None:
    """Click the first ``link``; wait until the new page's content (``arrived``) is in place (the
    theme changes the URL at the click, before it has fetched the page)."""
    page.locator(link).first.click()
    page.locator(arrived).first.wait_for()


HOME = ('.md-tabs a:text-is("Home")', '[data-pn-chart="notes-per-year"]')
TIMELINE = ('.md-tabs a:text-is("Timeline")', 'h1#timeline')


def note_link(key: str) -> tuple[str, str]:
    return f'article a[href$="/notes/{key}/"]', f'.pn-card[data-note="{key}"]'


def test_charts_draw_after_instant_navigation(page, notes):
    goto(page, "timeline/")
    page.evaluate("window.pnSamePage = true")
    for key in CHART_NOTES:
        click_and_wait(page, *note_link(note(notes, key).key))
        assert page.evaluate("window.pnSamePage"), "the link reloaded the page: instant navigation is off"
        assert_charts_drawn(page)
        click_and_wait(page, *TIMELINE)
    click_and_wait(page, *HOME)
    assert page.evaluate("window.pnSamePage")
    assert_charts_drawn(page)


@pytest.mark.parametrize("path", ["", "notes/kingma2014adam/"], ids=["home", "note"])
def test_charts_follow_dark_mode(page, path):
    goto(page, path)
    assert_charts_drawn(page)
    assert tick_luminance(page) < 0.4
    page.locator('label[title="Switch to dark mode"]:visible').click()
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    page.wait_for_function("() => { const t = document.querySelector('[data-pn-chart] .xtick text');"
                           " return t && getComputedStyle(t).fill !== 'rgb(0, 0, 0)'; }")
    assert_charts_drawn(page)
    assert tick_luminance(page) > 0.6, "axis labels stay dark on the dark background"
    # the next page, reached by a click, draws in the dark colours from the start
    if path:
        click_and_wait(page, *HOME)
        assert_charts_drawn(page)
        assert tick_luminance(page) > 0.6
