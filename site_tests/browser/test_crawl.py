"""Every page of the built site, read as HTML without a browser: no broken internal link or anchor,
no formula left as TeX, no renderer error, and every search result lands on a real place."""
from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

HIDDEN = {"pre", "code", "script", "style", "math", "textarea", "template"}  # text a reader never sees as prose
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\[A-Za-z]{2,}")


class PageParser(HTMLParser):
    """The ids a page defines, the URLs it links or loads, and its visible prose."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self.katex_errors = 0
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        for name in ("href", "src"):
            if attrs.get(name) is not None and not (tag == "link" and "canonical" in (attrs.get("rel") or "")):
                self.links.append(attrs[name])
        if "katex-error" in (attrs.get("class") or "").split():
            self.katex_errors += 1
        if tag in HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


@pytest.fixture(scope="module")
def pages(site) -> dict[Path, PageParser]:
    parsed = {}
    for path in sorted(site.rglob("*.html")):
        parser = PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        parsed[path] = parser
    return parsed


def target_file(site: Path, page: Path, url: str) -> Path | None:
    """The file an internal URL on ``page`` points at (directory URLs serve index.html)."""
    path = unquote(urlsplit(url).path)
    if path.startswith("/"):  # root-relative (the 404 page's): the site is served at the root
        target = (site / path.lstrip("/")).resolve()
    else:
        target = (page.parent / path).resolve() if path else page
    if not target.is_relative_to(site):
        return None
    return target / "index.html" if target.is_dir() else target


def is_internal(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("javascript:")


def test_every_internal_link_and_anchor_resolves(site, pages):
    assert len(pages) > 5
    broken = []
    for page, parser in pages.items():
        for url in filter(is_internal, parser.links):
            target = target_file(site, page, url)
            where = f"{page.relative_to(site)}: {url}"
            if target is None or not target.exists():
                broken.append(f"{where} (no such file)")
                continue
            anchor = unquote(urldefrag(url).fragment)
            if anchor and target.suffix == ".html" and anchor not in pages[target].ids:
                broken.append(f"{where} (no id {anchor!r} on {target.relative_to(site)})")
    assert broken == []


def search_fragments(site: Path) -> list[dict]:
    """Every page record of the Pagefind bundles (gzip, behind Pagefind's 12-byte marker)."""
    marker = b"pagefind_dcd"
    records = []
    for fragment in sorted((site / "pagefind").glob("*/fragment/*.pf_fragment")):
        data = gzip.decompress(fragment.read_bytes())
        assert data.startswith(marker), fragment
        records.append(json.loads(data[len(marker):]))
    return records


def test_every_search_result_lands_on_a_page_and_anchor(site, pages):
    records = search_fragments(site)
    assert records
    broken = []
    for record in records:
        target = site / unquote(record["url"]).lstrip("/") / "index.html"
        if target not in pages:
            broken.append(f"{record['url']} (no page)")
            continue
        broken += [f"{record['url']}#{a['id']} (no anchor)" for a in record.get("anchors", []) if a["id"] not in pages[target].ids]
    assert broken == []


def test_no_page_shows_raw_tex_or_a_renderer_error(site, pages):
    problems = []
    for page, parser in pages.items():
        prose = " ".join(parser.text)
        raw = sorted(set(RAW_TEX.findall(prose)))
        if raw:
            problems.append(f"{page.relative_to(site)}: raw TeX {raw[:5]}")
        if parser.katex_errors:
            problems.append(f"{page.relative_to(site)}: {parser.katex_errors} KaTeX error(s)")
    assert problems == []


def test_non_english_notes_mark_their_language(site, notes):
    wrong = []
    for facts in notes.values():
        html = (site / facts.url / "index.html").read_text(encoding="utf-8")
        if facts.lang != "en" and f'<div class="pn-note-body" lang="{facts.lang}">' not in html:
            wrong.append(facts.key)
    assert wrong == []
