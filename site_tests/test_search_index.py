"""The repository's own built site (``make test`` builds it before the tests): every note is indexed
for search in its own language, and the recsys category's table lists every recsys note."""
from __future__ import annotations

import json
import os
import re

import pytest
from conftest import REPO

from generator.formulas import Katex
from generator.load import load
from generator.project import Project

SITE = REPO / "site"


@pytest.fixture(scope="module")
def kb():
    return load(Project(REPO), Katex()).kb


def test_every_note_is_in_the_bundle_of_its_language(kb):
    """Each language's Pagefind bundle lists exactly that language's notes (plus, for English, the
    other pages)."""
    if not (SITE / "pagefind" / "languages.json").exists():
        if os.environ.get("CI"):
            pytest.fail("site/ is not built: make test runs papernotes build before the tests")
        pytest.skip("site/ is not built: run papernotes build (make test does)")
    for lang in ("zh", "ru"):
        entry = json.loads((SITE / "pagefind" / lang / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert entry["languages"][lang]["page_count"] == sum(1 for n in kb.notes.values() if n.lang == lang)


def test_the_recsys_table_lists_every_recsys_note(kb):
    page = SITE / "categories" / "recsys" / "index.html"
    if not page.exists():
        pytest.skip("site/ is not built")
    html = page.read_text(encoding="utf-8")
    table = html[html.index("<table"):html.index("</table>")]
    listed = set(re.findall(r'href="\.\./\.\./notes/([^/"]+)/"', table))
    recsys = {key for key, note in kb.notes.items() if "recsys" in note.categories}
    assert len(recsys) >= 25
    assert listed == recsys
