"""Search bundles: a language's pages in one Pagefind bundle, or, past ``BUNDLE_PAGES``, in several
(each indexed by its own Pagefind command, so its memory is a part's, and an edit re-indexes one
part); the browser's engines merge a language's parts."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import make_project

from generator.cli import main
from generator.search import CONCURRENT_BUNDLES, MANIFEST, bundles_of, concurrent_bundles, engines, index_search, language_of

ARTICLE = '<html><head><title>{0}</title></head><body><article class="md-content__inner"><h1>{0}</h1><p>{1}</p></article></body></html>'


def test_a_small_site_has_one_bundle_per_language():
    languages = {f"notes/n{i}/": "en" for i in range(40)} | {"notes/zh/": "zh", "notes/ru/": "ru"}
    assert bundles_of(languages, bundle_pages=40) == languages


def test_a_large_language_is_cut_into_stable_parts():
    languages = {f"notes/n{i}/": "en" for i in range(1200)} | {f"notes/z{i}/": "zh" for i in range(30)}
    bundles = bundles_of(languages, bundle_pages=500)
    sizes = Counter(bundles.values())
    assert set(sizes) == {"en.0", "en.1", "en.2", "zh"} and sizes["zh"] == 30
    assert sum(sizes[f"en.{i}"] for i in range(3)) == 1200 and min(sizes[f"en.{i}"] for i in range(3)) > 300
    # a page keeps its part when other pages change (the parts are by URL, not by position)
    fewer = {url: lang for url, lang in languages.items() if url != "notes/n7/"} | {"notes/new/": "en"}
    again = bundles_of(fewer, bundle_pages=500)
    assert all(again[url] == bundles[url] for url in fewer if url in bundles)
    assert {language_of(b) for b in bundles.values()} == {"en", "zh"}


def test_the_parts_of_a_language_are_indexed_one_at_a_time():
    """A language is cut to bound the memory of the Pagefind command that writes a part: two parts
    written side by side would add up to the memory of the whole language again."""
    assert concurrent_bundles(["en", "ru", "zh"]) == CONCURRENT_BUNDLES > 1
    assert concurrent_bundles(["en.0", "en.1", "ru", "zh"]) == 1
    assert concurrent_bundles(["en.1"]) == 1  # an incremental build re-indexing one part: alone anyway


def test_the_engines_merge_a_languages_parts_and_the_unstemmed_bundles(tmp_path):
    for bundle, language in (("en", "en"), ("en.0", "en"), ("en.1", "en"), ("ru", "ru"), ("zh", "zh")):
        (tmp_path / "pagefind" / bundle).mkdir(parents=True)
        if language != "zh":  # Pagefind writes no stemmer for Chinese
            (tmp_path / "pagefind" / bundle / f"wasm.{language}.pagefind").write_bytes(b"")
    assert engines(tmp_path, ["en", "en.0", "en.1", "ru", "zh"]) == [["en", "en.0", "en.1", "zh"], ["ru"]]


def test_every_page_is_indexed_once_in_its_part(tmp_path):
    site = tmp_path / "site"
    words = {f"notes/n{i}/": f"word{i} shared" for i in range(7)}
    for url, text in words.items():
        (site / url).mkdir(parents=True)
        (site / url / "index.html").write_text(ARTICLE.format(url, text), encoding="utf-8")
    (site / "index.html").write_text(ARTICLE.format("home", "home page"), encoding="utf-8")
    bundles = bundles_of(dict.fromkeys(words, "en"), bundle_pages=3)
    assert index_search(site, bundles) == []
    counts = Counter(bundles.values()) + Counter({"en": 1})  # the home page is in the English bundle
    for bundle, count in counts.items():
        entry = json.loads((site / "pagefind" / bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert entry["languages"]["en"]["page_count"] == count
    manifest = json.loads((site / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["engines"] == [sorted(counts)]


def test_papernotes_build_cuts_a_language_at_the_pages_asked_for(tmp_path):
    """``papernotes build --search-bundle-pages N``: the English notes of the fixture, more than N,
    are indexed in parts, each listed for the browser; a number below one is refused."""
    project = make_project(tmp_path)
    note = (project.notes / "alpha2020first.md").read_text(encoding="utf-8")  # a second English note, of an entry without one
    (project.notes / "gamma2019third.md").write_text(note.replace("[@gamma2019third]", "[@alpha2020first]"), encoding="utf-8")
    assert main(["--root", str(project.root), "build", "--search-bundle-pages", "1"]) == 0
    manifest = json.loads((project.site / MANIFEST).read_text(encoding="utf-8"))
    listed = [bundle for engine in manifest["engines"] for bundle in engine]
    assert len([b for b in listed if language_of(b) == "en"]) > 1 and all(language_of(b) == b or "." in b for b in listed)
    with pytest.raises(SystemExit):
        main(["--root", str(project.root), "build", "--search-bundle-pages", "0"])
