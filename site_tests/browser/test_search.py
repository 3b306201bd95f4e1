"""Typing into the search box finds notes written in English, Chinese and Russian."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import goto, note, screenshot

FIRST_RESULTS = 5

# (term, the note it must find, why the term is a good one)
QUERIES = [
    ("Adam", "kingma2014adam", "a word of the title"),
    ("内部协变量偏移", "ioffe2015batch", "internal covariate shift, in the Chinese note's prose"),
    ("остаточную квантизацию", "rajput2023recommender",
     "accusative of 'остаточной квантизацией': neither form appears in the Russian note"),
]


def search(page, term: str) -> list[str]:
    """Type ``term`` into the header's search box; the paths of the pages in the results, best first."""
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(term)
    box.press("End")  # the theme searches on keyup (an IME's typing ends with one too)
    meta = page.locator(".md-search-result__meta")
    page.wait_for_function("m => !/Type to start|Initializing/i.test(m.textContent)", arg=meta.element_handle())
    hrefs = page.locator(".md-search-result__item > a.md-search-result__link").evaluate_all("links => links.map(a => a.href)")
    return list(dict.fromkeys(urlsplit(href).path.lstrip("/") for href in hrefs))


@pytest.mark.parametrize("term, key, _why", QUERIES, ids=["english", "chinese", "russian-inflected"])
def test_search_finds_the_note(page, notes, term, key, _why):
    goto(page, "")
    results = search(page, term)
    assert note(notes, key).url in results[:FIRST_RESULTS], results
    if key == "rajput2023recommender":
        page.wait_for_timeout(500)  # the results panel fades in
        screenshot(page, "search")


def test_the_index_is_fetched_only_when_the_reader_searches(page, visit, notes):
    goto(page, note(notes, "kingma2014adam").url)
    index = [url for url in visit.requests if url.endswith("/search/search_index.json")]
    assert index == [], "a page that is only read fetched the whole search index"
    assert note(notes, "kingma2014adam").url in search(page, "Adam")[:FIRST_RESULTS]
    assert [url for url in visit.requests if url.endswith("/search/search_index.json")]
