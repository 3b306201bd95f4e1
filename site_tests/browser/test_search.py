"""The header's search box, answered by the Pagefind index: notes in English, Chinese and Russian,
BibTeX keys, authors and equation ids; keyboard navigation; the matched words highlighted on the page
opened; the site served from a sub-path."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .chromium import serving
from .conftest import DESKTOP, NOTES, REPO, Visit, goto, note, open_context, screenshot

FIRST_RESULTS = 5

# (term, the note it must find, why the term is a good one)
QUERIES = [
    ("Adam", "kingma2014adam", "a word of the title"),
    ("optimizers", "kingma2014adam", "English stemming: the note says 'optimizer'"),
    ("平滑", "label-smoothing", "a two-character word inside the Chinese note's sentences (标签平滑)"),
    ("协变量", "ioffe2015batch", "covariate, a word inside 内部协变量偏移 in the Chinese note's prose"),
    ("внимания", "recsys2024-overview", "genitive of 'внимание', the only form the Russian note uses"),
    ("остаточную квантизацию", "rajput2023recommender",
     "accusative of 'остаточной квантизацией': neither form appears in the Russian note"),
    ("kingma2014adam", "kingma2014adam", "a BibTeX key"),
    ("Vaswani", "vaswani2017attention", "an author"),
]


def search(page, term: str) -> list[str]:
    """Type ``term`` into the header's search box; the links of the results (path#anchor), best first."""
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(term)
    # the count comes first, then the results, each as its fragment arrives: wait for the first few
    page.wait_for_function("""([meta, n]) => {
        const text = meta.textContent.trim();
        if (/^No /.test(text)) return true;
        const found = /\\d+/.exec(text);
        return found && document.querySelectorAll(".md-search-result__item").length >= Math.min(Number(found[0]), n);
    }""", arg=[page.locator(".md-search-result__meta").element_handle(), FIRST_RESULTS])
    hrefs = page.locator(".md-search-result__item > a.md-search-result__link").evaluate_all("links => links.map(a => a.href)")
    return [unquote(urlsplit(href).path).lstrip("/") + (f"#{urlsplit(href).fragment}" if urlsplit(href).fragment else "")
            for href in hrefs]


def pages(links: list[str]) -> list[str]:
    return list(dict.fromkeys(link.split("#")[0] for link in links))


@pytest.mark.parametrize("term, key, _why", QUERIES,
                         ids=["english", "english-stemmed", "chinese-word", "chinese-word-2", "russian-genitive",
                              "russian-accusative", "bibtex-key", "author"])
def test_search_finds_the_note(page, notes, term, key, _why):
    goto(page, "")
    results = pages(search(page, term))
    assert note(notes, key).url in results[:FIRST_RESULTS], results
    if key == "rajput2023recommender":
        page.wait_for_timeout(500)  # the results panel fades in
        screenshot(page, "search")


def test_an_equation_id_finds_the_equation_and_links_to_its_anchor(page, notes):
    goto(page, "")
    target = f"{note(notes, 'vaswani2017attention').url}#eq-scaled-dot-product"
    search(page, "vaswani2017attention/scaled-dot-product")
    links = page.locator(".md-search-result__item a.md-search-result__link")
    anchors = [urlsplit(h).path.lstrip("/") + "#" + urlsplit(h).fragment for h in links.evaluate_all("l => l.map(a => a.href)")]
    assert target in anchors, anchors
    links.nth(anchors.index(target)).click()
    page.wait_for_url(lambda url: urlsplit(url).path.lstrip("/") + "#" + urlsplit(url).fragment == target)
    page.locator("#eq-scaled-dot-product").wait_for(state="visible")  # the page may still be rendering


def test_a_page_fetches_only_the_engine_until_the_reader_types(page, visit, notes):
    """Once the page is idle the engines are loaded (Pagefind's module, WebAssembly and each bundle's
    metadata); the index's chunks and the results' fragments only for a query."""
    goto(page, note(notes, "kingma2014adam").url)
    for _ in range(100):  # the browser starts them when it is idle: on a busy machine, a while after
        fetched = [url for url in visit.requests if "/pagefind/" in url]
        if any(url.endswith(".pf_meta") for url in fetched):
            break
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")
    fetched = [url for url in visit.requests if "/pagefind/" in url]
    assert any(url.endswith(".pf_meta") for url in fetched) and any("/wasm." in url for url in fetched), fetched
    assert [url for url in fetched if url.endswith((".pf_index", ".pf_fragment"))] == []
    assert note(notes, "kingma2014adam").url in pages(search(page, "Adam"))[:FIRST_RESULTS]
    queried = [url for url in visit.requests if url.endswith((".pf_index", ".pf_fragment"))]
    assert queried and len([url for url in queried if url.endswith(".pf_fragment")]) <= 5, queried
    assert [url for url in visit.requests if url.endswith("/search/search_index.json")] == [], "the theme's lunr index"


def test_keyboard_opens_the_box_walks_the_results_and_opens_one_highlighted(page, notes):
    goto(page, note(notes, "vaswani2017attention").url)
    page.keyboard.press("/")
    box = page.locator("input.md-search__input")
    assert box.evaluate("b => b === document.activeElement")
    box.press_sequentially("softmax")
    search(page, "softmax")  # waits for the answer
    first = page.locator("a.md-search-result__link").first
    box.press("ArrowDown")
    assert first.evaluate("a => a === document.activeElement")
    page.keyboard.press("ArrowDown")
    assert page.locator("a.md-search-result__link").nth(1).evaluate("a => a === document.activeElement")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert box.evaluate("b => b === document.activeElement"), "ArrowUp from the first result returns to the box"
    box.press("ArrowDown")
    href = first.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href.split('#')[0]}*")
    mark = page.locator("article.md-content__inner mark").first
    mark.wait_for()
    assert "softmax" in mark.text_content().lower()
    assert not page.locator("#__search").is_checked(), "the search dialog closes on opening a result"
    page.keyboard.press("/")
    page.keyboard.press("Escape")
    assert not page.locator("#__search").is_checked()


def test_search_works_from_a_sub_path_and_across_a_languages_parts(browser, tmp_path, notes):
    """The site built with ``--site-url http://127.0.0.1:PORT/sub/path/`` and served from there: the
    index, the engine and every result stay under the sub-path, and nothing leaves the site. Built
    with search bundles of 20 pages, so the English notes are in several parts, which one engine
    searches as one index."""
    from generator.site_build import build

    from .test_at_scale import replicate

    with serving(tmp_path) as origin:
        base = origin + "sub/path/"
        project = replicate(tmp_path / "kb", 1)
        assert [str(p) for p in build(project, site_url=base, search_bundle_pages=20) if p.is_error] == []
        english = json.loads((project.site / "pagefind" / "languages.json").read_text(encoding="utf-8"))["engines"][0]
        assert len([b for b in english if b.startswith("en.")]) >= 2, english
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "path").symlink_to(project.site.resolve())
        visit = Visit(base)
        context = open_context(browser, visit, viewport=DESKTOP)
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            goto(page, base)
            links = search(page, "Adam")
            assert f"sub/path/{note(notes, 'kingma2014adam').url}" in pages(links)[:FIRST_RESULTS], links
            pagefind = [url for url in visit.requests if "/pagefind/" in url]
            assert pagefind and all(url.startswith(base + "pagefind/") for url in pagefind), pagefind
            page.locator(".md-search-result__item > a.md-search-result__link").first.click()
            page.wait_for_url(f"{base}**")
            page.locator("article.md-content__inner mark").first.wait_for()
        finally:
            context.close()
        assert visit.outside() == [] and visit.errors == [], (visit.outside(), visit.errors)


def test_only_the_results_shown_are_fetched_and_more_come_as_the_list_scrolls(page, visit):
    """A query with dozens of hits fetches the fragments of the first 5 only; scrolling the panel to
    its end shows (and fetches) the next ones."""
    goto(page, "")
    search(page, "attention")
    total = int(page.locator(".md-search-result__meta").inner_text().split()[0])
    items = page.locator(".md-search-result__item")
    assert total > 10 and items.count() == FIRST_RESULTS
    assert len([url for url in visit.requests if url.endswith(".pf_fragment")]) == FIRST_RESULTS
    page.locator(".md-search__scrollwrap").evaluate("wrap => { wrap.scrollTop = wrap.scrollHeight; }")
    page.wait_for_function("n => document.querySelectorAll('.md-search-result__item').length > n", arg=FIRST_RESULTS)
    assert len([url for url in visit.requests if url.endswith(".pf_fragment")]) > FIRST_RESULTS


def test_a_one_letter_term_is_answered_once_the_reader_pauses(page):
    """A term of one or two letters (the prefix of many words) is searched only after a pause, but it
    is searched: a Chinese character at once, a Latin letter a moment later."""
    goto(page, "")
    for term in ("x", "平"):
        search(page, term)  # waits for a count or "No matching documents"
        assert page.locator(".md-search-result__meta").inner_text() != "Type to start searching"


def test_the_checks_code_is_not_indexed_but_their_names_are(page, site, notes):
    """``torch.linspace`` is written only in the checks' code shown on some note pages: searching it
    finds none of them (code words would match nearly every note; what it finds, if anything, are
    Pagefind's near matches elsewhere). A check's name, written above its code, finds its note."""
    listed = {f"notes/{p.parent.name}/" for p in (site / "notes").glob("*/index.html") if "linspace" in p.read_text(encoding="utf-8")}
    assert listed, "no note page shows a check that calls torch.linspace: pick another code-only word"
    assert not any("linspace" in path.read_text(encoding="utf-8") for path in NOTES.glob("*.md"))
    goto(page, "")
    assert listed.isdisjoint(pages(search(page, "linspace")))
    key, function = "kim2017interpretability", "check_tcav_score"
    assert f"def {function}(" in (REPO / "runnable_snippets" / f"{key}.py").read_text(encoding="utf-8")
    goto(page, "")  # a fresh result list: ``search`` reads the first results it finds, the last query's too
    assert note(notes, key).url in pages(search(page, function))[:FIRST_RESULTS]
