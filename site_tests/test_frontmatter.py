import pytest

from generator.readers.frontmatter import FrontMatterError, split


def test_values_and_the_line_of_each_value():
    fm = split("---\ntags:\n  - a\n  - b\ntldr: hi\ncitations:\n  count: 3\n---\nbody\n")
    assert fm.values == {"tags": ["a", "b"], "tldr": "hi", "citations": {"count": 3}}
    assert fm.lines == {"tags": 2, "tags[0]": 3, "tags[1]": 4, "tldr": 5, "citations": 6, "citations.count": 7}
    assert fm.body == "body\n"
    assert fm.body_line == 9


def test_bom_and_crlf_line_endings_are_accepted():
    fm = split("\ufeff---\r\ntldr: x\r\n---\r\nline one\r\nline two\r\n")
    assert fm.values == {"tldr": "x"}
    assert fm.body == "line one\nline two\n"


@pytest.mark.parametrize("text, line, message", [
    ("no front matter here\n", 1, "no front matter: a note must start with a '---' line, then YAML (tags, tldr, ...), then '---'"),
    ("", 1, "no front matter: a note must start with a '---' line, then YAML (tags, tldr, ...), then '---'"),
    ("---\ntldr: x\n", 1, "front matter is never closed: add a '---' line after the YAML"),
    ("---\ntags: [a\ntldr: x\n---\n", 3, "front matter is not valid YAML: expected ',' or ']', but got ':'"),
    ("---\ntldr: x\n\ttags: [a]\n---\n", 3, "front matter is not valid YAML: found character '\\t' that cannot start any token (YAML indents with spaces, never tabs)"),
    ("---\n- a\n- b\n---\n", 2, "front matter must be a YAML mapping of fields (tags: ..., tldr: ...)"),
    ("---\na: &x [1, 2]\nb: *x\n---\n", 2, "YAML anchors and aliases (&name, *name) are not allowed in front matter; write the value out"),
])
def test_bad_front_matter_is_reported_at_its_line(text, line, message):
    with pytest.raises(FrontMatterError) as caught:
        split(text)
    assert (caught.value.line, caught.value.message) == (line, message)


def test_billion_laughs_is_refused_before_it_expands():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)) + "---\n"
    with pytest.raises(FrontMatterError) as caught:
        split(bomb)
    assert caught.value.line == 2
