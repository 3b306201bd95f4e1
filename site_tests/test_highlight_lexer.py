"""The fast Python lexer gives Pygments' tokens: on every Python file of the repository, on random
text, and, as a mixin, for other lexers (including rules it cannot join); the site's Python blocks
use it, and their HTML is what Pygments' own lexer gives."""
from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexer import RegexLexer, bygroups, default
from pygments.lexers import BashLexer, CppLexer, PythonLexer, TexLexer, get_lexer_by_name
from pygments.token import Name, String, Text

from generator.highlight.lexer import ALIAS, FastPythonLexer, FirstCharacterLexer, first_characters, pymdownx_languages

ROOT = Path(__file__).resolve().parents[1]
PYTHON_FILES = sorted([*ROOT.glob("runnable_snippets/**/*.py"), *ROOT.glob("generator/**/*.py"), *ROOT.glob("site_tests/*.py")])


def tokens(lexer, text: str) -> list:
    return list(lexer.get_tokens_unprocessed(text))


def test_every_python_file_of_the_repository_has_pygments_tokens():
    reference, fast = PythonLexer(), FastPythonLexer()
    assert len(PYTHON_FILES) > 100
    different = [str(f.relative_to(ROOT)) for f in PYTHON_FILES if tokens(reference, t := f.read_text()) != tokens(fast, t)]
    assert different == []


# what makes Python's lexer change state: string prefixes and quotes, f-string braces, escapes,
# comments, decorators, numbers, keywords that start names, line ends; and letters beyond ASCII
FRAGMENTS = ["f'", 'rb"', "'''", '"""', "{", "}", "{x!r:>{w}}", "\\", "\\n", "#", "@", "0x1f", "1e-3", "1_000j",
             "def ", "class ", "import ", "from ", "as ", "lambda", "match ", "case ", "None", "self", "__init__",
             "print", "ValueError", "\n", " ", "\t", "(", ")", "[", "]", ":", "=", "->", "%s", "%(a)d", "é", "π", "𝔸", "x", "_"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=40))
def test_random_text_has_pygments_tokens(parts):
    text = "".join(parts)
    assert tokens(FastPythonLexer(), text) == tokens(PythonLexer(), text)


SAMPLES = {
    BashLexer: 'for f in *.py; do echo "${f%.py}" $((1 + 2)) <<EOF\nhi $USER\nEOF\ndone # end\n',
    CppLexer: '#include <vector>\ntemplate <class T> int f(T x) { return R"(raw)" "s\\n" 0x1Fu + \'c\'; } // c\n',
    TexLexer: r"\begin{equation} \frac{a}{b} = \sum_{i=1}^n x_i % note" "\n" r"\end{equation} $a^2$",
}


@pytest.mark.parametrize("lexer", list(SAMPLES), ids=lambda lexer: lexer.__name__)
def test_as_a_mixin_it_gives_other_lexers_their_tokens(lexer):
    fast = type(f"Fast{lexer.__name__}", (FirstCharacterLexer, lexer), {"aliases": [], "filenames": []})
    text = SAMPLES[lexer]
    assert tokens(fast(), text) == tokens(lexer(), text)
    for cut in range(len(text)):  # every prefix: the states the text ends in, the rules tried at the end
        assert tokens(fast(), text[:cut]) == tokens(lexer(), text[:cut])


class Quoted(RegexLexer):
    """Rules that cannot be joined (a backreference, a named group) between rules that can."""

    name, aliases, filenames = "quoted", [], []
    tokens = {
        "root": [
            (r"(['\"])(.*?)\1", bygroups(String, String)),
            (r"(?P<word>[a-z]+)(?=:)", Name.Label),
            (r"[a-z]+", Name),
            (r"\(", Text, "inner"),
            (r"\s+", Text),
        ],
        "inner": [(r"\)", Text, "#pop"), (r"[^)]+", String.Other), default("#pop")],
    }


class FastQuoted(FirstCharacterLexer, Quoted):
    name, aliases = "fast quoted", []


@given(st.text(alphabet="ab:'\"() \n", max_size=30))
def test_rules_that_cannot_be_joined_are_tried_one_by_one(text):
    assert tokens(FastQuoted(), text) == tokens(Quoted(), text)


@pytest.mark.parametrize(("pattern", "starts"), [
    (r"abc", "a"), (r"(?i)x", "xX"), (r"[0-9a-f]+", "0af"), (r"\s*#", " \t#"), (r"(?:ab|cd)?e", "ace"),
    (r"^\w", "a_1é"), (r"(?<=x)y", "y"), (r"a{0,2}b", "ab"),
])
def test_first_characters_hold_every_character_a_match_starts_with(pattern, starts):
    first = first_characters(re.compile(pattern))
    assert first is not None and all(first.match(c) for c in starts)
    assert not first.match("\x00")


@pytest.mark.parametrize("pattern", [r"", r"a*", r"(?=a)", r".b", r"[^a]", r"(a|.)", r"(?:x|)"])
def test_first_characters_of_a_pattern_that_can_start_anywhere_is_none(pattern):
    assert first_characters(re.compile(pattern)) is None


def test_the_sites_python_blocks_use_it_and_their_html_is_pygments():
    assert isinstance(get_lexer_by_name(ALIAS), FastPythonLexer)  # the entry point of the installed package
    source = (ROOT / "runnable_snippets").rglob("*.py").__next__().read_text()
    page = f"```python\n{source}\n```\n\n```py title=\"x.py\" linenums=\"3\" hl_lines=\"4\"\n{source}\n```\n"

    def html(extend: list[dict]) -> str:
        configs = {"pymdownx.highlight": {"extend_pygments_lang": extend}}
        return markdown.markdown(page, extensions=["pymdownx.highlight", "pymdownx.superfences"], extension_configs=configs)

    assert {entry["name"] for entry in pymdownx_languages()} >= {"python", "py"}
    fast, reference = html(pymdownx_languages()), html([])
    assert fast == reference and '<span class="k">' in fast
