"""The repository's own built site (``make test`` builds it before the tests): the search index finds
Chinese and Russian words in the notes written in those languages, and the recsys category's table
lists every recsys note."""
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
def index():
    path = SITE / "search" / "search_index.json"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail("site/ is not built: make test runs papernotes build before the tests")
        pytest.skip("site/ is not built: run papernotes build (make test does)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kb():
    return load(Project(REPO), Katex()).kb


def tokens(index, text: str) -> set[str]:
    """Split indexed text the way the theme's search does: on its separator, HTML tags dropped,
    punctuation trimmed from both ends of a token (lunr's trimmer), lowercased."""
    separator = re.compile(index["config"]["separator"])
    trimmed = (re.sub(r"^\W+|\W+$", "", t) for t in separator.split(re.sub(r"<[^>]+>", " ", text)))
    return {t.lower() for t in trimmed if t}


def documents_with(index, word: str) -> set[str]:
    return {doc["location"].split("#")[0] for doc in index["docs"]
            if word.lower() in tokens(index, doc["title"]) | tokens(index, doc["text"])}


@pytest.mark.parametrize(("lang", "key", "word"), [
    ("zh", "label-smoothing", "平滑"),         # 标签平滑: segmented by jieba at build time
    ("zh", "ioffe2015batch", "归一化"),
    ("ru", "recsys2024-overview", "генеративный"),
    ("ru", "rajput2023recommender", "рекомендациях"),
])
def test_chinese_and_russian_words_find_their_notes(index, kb, lang, key, word):
    assert kb.notes[key].lang == lang
    assert f"notes/{key}/" in documents_with(index, word)


def test_the_index_config_searches_russian_and_splits_chinese(index):
    assert "ru" in index["config"]["lang"]
    assert re.compile(index["config"]["separator"]).split("标签\u200b平滑") == ["标签", "平滑"]


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
