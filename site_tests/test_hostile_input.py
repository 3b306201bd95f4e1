"""Malformed and hostile input: nothing crashes, nothing escapes, every problem is ``path:line: message``.

Property-based tests feed random and adversarial front matter, Markdown and BibTeX to the readers and
the validator; the explicit cases below pin the exact outcome for each input the issue names.
"""
from __future__ import annotations

import html.parser
import os
import string

import pytest
import yaml
from conftest import edit, errors, make_project, messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.diagnostics import Diagnostic
from generator.formulas import Katex
from generator.load import load
from generator.readers.bibliography import parse_bibliography
from generator.readers.notes import read_note
from generator.site_build import build

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WHOLE_LOAD = settings(FAST, max_examples=60)  # each example validates the whole fixture knowledge base

# --- properties -------------------------------------------------------------------------------------

YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                         st.dates(), st.sampled_from(["optimization", "<script>alert(1)</script>", "&a", "*b", "!!python/object:os.system", "\t"]))
YAML_VALUES = st.recursive(YAML_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
FIELD_NAMES = st.sampled_from(["tags", "tldr", "lang", "citations", "related", "added", "kind", "title", "unchecked", "author", "x"])
MARKDOWN_PIECES = st.sampled_from([
    "$", "$$", "$$ {#eq:a}", "{#eq:", "{#fig:x}", "[@", "[@alpha2020first]", "[@a; @b]", "]", "`", "```", "~~~", "\n", " ", "\\frac{",
    "}", "<script>", "<!--", "--8<--", "# ", "!!! note", "    ", "\t", "\r\n", "\ufeff", "é", "注意力", "внимание", "\x00"])
BIB_PIECES = st.sampled_from(["@article{", "@misc{", "@string{", "@comment{", "k1,", "k 2,", "a/b,", "title", "author", "year", "=",
                              "{", "}", "\"", ",", "2020", "\\'e", "\n", " ", "@", "%", "#", "and", "{{", "}}"])


def diagnostics_are_well_formed(problems: list[Diagnostic], path: str) -> None:
    for problem in problems:
        assert problem.path == path and isinstance(problem.line, int) and problem.line >= 0 and problem.message
        assert str(problem).startswith(f"{path}:")


@FAST
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_note_give_diagnostics_not_crashes(tmp_path_factory, data):
    file = tmp_path_factory.mktemp("bytes") / "x2020y.md"
    file.write_bytes(data)
    _, problems = read_note(file, "notes/x2020y.md")
    diagnostics_are_well_formed(problems, "notes/x2020y.md")


@WHOLE_LOAD
@given(front=st.dictionaries(FIELD_NAMES, YAML_VALUES, max_size=6), body=st.lists(MARKDOWN_PIECES, max_size=40))
def test_random_front_matter_and_markdown_validate_without_crashing(project, katex, front, body):
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + "".join(body)
    (project.notes / "x2020y.md").write_text(text, encoding="utf-8", errors="surrogatepass")
    problems = load(project, katex).problems
    diagnostics_are_well_formed([p for p in problems if p.path.startswith("notes/x2020y")], "notes/x2020y.md")


@WHOLE_LOAD
@given(yaml_text=st.lists(st.sampled_from(["tags:", " [", "]", "- ", "&a ", "*a", "\t", ": ", "\n", "  ", "x", "'", "\"", "{", "}", "?", "|", ">", "!!", "%YAML 1.1\n"]), max_size=30))
def test_random_yaml_syntax_gives_a_line_not_a_traceback(project, katex, yaml_text):
    (project.notes / "x2020y.md").write_text("---\n" + "".join(yaml_text) + "\n---\nbody\n", encoding="utf-8")
    problems = [p for p in load(project, katex).problems if p.path == "notes/x2020y.md"]
    diagnostics_are_well_formed(problems, "notes/x2020y.md")


@FAST
@given(pieces=st.lists(BIB_PIECES, max_size=60))
def test_random_bibtex_gives_diagnostics_not_crashes(pieces):
    references, problems = parse_bibliography("".join(pieces), "references.bib")
    diagnostics_are_well_formed(problems, "references.bib")
    for key in references:
        assert key and " " not in key and "/" not in key


# --- the named cases, each with its exact outcome ------------------------------------------------------

def note_messages(project, katex, key="x2020y"):
    """The errors in one note (these notes are written for their case, without an added: date)."""
    return [m for m in errors(project, katex) if m.startswith(f"notes/{key}")]


def write_note(project, content: bytes | str, key="x2020y"):
    path = project.notes / f"{key}.md"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    # a paper note needs its entry; these cases are about the file, so make it a topic note where it parses
    return path


VALID = "---\nkind: topic\ntitle: T\ntags: [vision]\ntldr: Fine.\n---\n## Idea\n\nText $x$ here.\n"


def test_empty_file(project, katex):
    write_note(project, b"")
    assert note_messages(project, katex) == [
        "notes/x2020y.md:1: no front matter: a note must start with a '---' line, then YAML (tags, tldr, ...), then '---'"]


def test_no_front_matter(project, katex):
    write_note(project, "## Idea\n\nJust a body.\n")
    assert note_messages(project, katex) == [
        "notes/x2020y.md:1: no front matter: a note must start with a '---' line, then YAML (tags, tldr, ...), then '---'"]


def test_a_byte_order_mark_is_accepted(project, katex):
    write_note(project, "\ufeff" + VALID)
    assert note_messages(project, katex) == []


def test_crlf_line_endings_are_accepted_and_lines_stay_right(project, katex):
    write_note(project, VALID.replace("tags: [vision]", "tags: [visoin]").replace("\n", "\r\n"))
    assert note_messages(project, katex) == [
        "notes/x2020y.md:4: unknown tag 'visoin' (did you mean 'vision'?); use a slug or alias from taxonomy.yml"]


def test_tabs_in_yaml(project, katex):
    write_note(project, VALID.replace("tags: [vision]", "tags:\n\t- vision"))
    assert note_messages(project, katex) == [
        "notes/x2020y.md:5: front matter is not valid YAML: found character '\\t' that cannot start any token (YAML indents with spaces, never tabs)"]


def test_billion_laughs_is_refused_before_it_expands(project, katex):
    bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    write_note(project, "---\n" + bomb + "tags: [vision]\n---\nbody\n")
    assert note_messages(project, katex) == [
        "notes/x2020y.md:2: YAML anchors and aliases (&name, *name) are not allowed in front matter; write the value out"]


def test_a_5_mb_note_is_refused(project, katex):
    write_note(project, VALID + "x" * 5_000_000)
    assert note_messages(project, katex) == [
        "notes/x2020y.md: the note is 5,000,080 bytes; a note may be at most 2,000,000 (split it or move data out)"]


def test_bytes_that_are_not_utf8(project, katex):
    write_note(project, VALID.encode("utf-8") + "Überblick\n".encode("latin-1"))
    assert note_messages(project, katex) == ["notes/x2020y.md:10: not valid UTF-8 (byte 0xdc); save the file as UTF-8"]


def test_a_note_key_with_spaces(project, katex):
    write_note(project, VALID, key="my note")
    assert note_messages(project, katex, "my note") == [
        "notes/my note.md:1: 'my note' is not a valid note key: use lowercase letters, digits, '-' and '_' (a BibTeX key like vaswani2017attention)"]


def test_a_note_in_a_subfolder(project, katex):
    (project.notes / "sub").mkdir()
    (project.notes / "sub" / "x2020y.md").write_text(VALID, encoding="utf-8")
    assert note_messages(project, katex, "sub/") == [
        "notes/sub/x2020y.md: notes live directly in notes/ as <key>.md; move it to notes/x2020y.md"]


def test_bibtex_keys_with_slashes_are_accepted_as_bibtex_accepts_them(project, katex):
    with open(project.bibliography, "a", encoding="utf-8") as bib:
        bib.write("\n@misc{a/b,\n  title = {T},\n  author = {A, B},\n  year = {2020}\n}\n")
    assert [m for m in messages(project, katex) if m.startswith("references.bib")] == []
    assert "a/b" in load(project, katex).kb.references


@pytest.mark.parametrize("include", ['--8<-- "/etc/passwd"', '--8<-- "../../../etc/passwd"', '-8<- "references.bib"', ";--8<-- \"x\""])
def test_snippet_includes_are_refused_even_inside_code_fences(project, katex, include):
    write_note(project, VALID + f"\n```\n{include}\n```\n")
    assert note_messages(project, katex) == [
        "notes/x2020y.md:12: snippet includes (--8<--) are not allowed in notes: the build adds a note's check code itself; paste the text, or link to the file"]


def test_a_snippet_that_is_a_symlink_out_of_the_repository_is_refused(project):
    from generator.checks.discover import discover
    (project.root / "runnable_snippets").mkdir()
    (project.root / "runnable_snippets" / "alpha2020first.py").symlink_to("/etc/passwd")
    specs, problems = discover(project.root, {"alpha2020first"})
    assert specs == []
    assert [str(p) for p in problems] == [
        "runnable_snippets/alpha2020first.py: snippets must be regular files in the repository, not symbolic links; copy the code in"]


def test_a_note_that_is_a_symlink_is_refused(project, katex):
    (project.notes / "x2020y.md").symlink_to("/etc/passwd")
    assert note_messages(project, katex) == ["notes/x2020y.md: notes must be regular files, not symbolic links"]


@pytest.mark.parametrize(("line", "tag"), [
    ("<script>alert(1)</script>", "<script"), ("<img src=x onerror=alert(1)>", "<img"), ("<!-- hidden -->", "<!--"),
    ("<iframe src=//evil>", "<iframe"), ("</div>", "</div")])
def test_raw_html_in_a_body_is_refused(project, katex, line, tag):
    write_note(project, VALID + line + "\n")
    assert note_messages(project, katex) == [
        f"notes/x2020y.md:10: raw HTML ({tag}) is not allowed in notes: write Markdown (inside `code` or $math$ a '<' is fine)"]


def test_angle_brackets_in_code_math_and_autolinks_are_fine(project, katex):
    write_note(project, VALID + "Use `<script>`, $a<b$, <https://arxiv.org> and x < y.\n\n```html\n<div></div>\n```\n")
    assert note_messages(project, katex) == []


def test_citation_loops_build_fine(project, katex):
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: zh\nrelated: [alpha2020first, beta2021second]")
    with open(project.notes / "beta2021second.md", "a", encoding="utf-8") as note:
        note.write("\nSee [@alpha2020first] and [@beta2021second].\n")
    loaded = load(project, katex)
    assert [str(p) for p in loaded.problems] == []
    assert "beta2021second" in loaded.kb.backlinks["alpha2020first"]
    assert "alpha2020first" in loaded.kb.backlinks["beta2021second"]


# --- HTML and JavaScript in every text field reach the page as text --------------------------------

PAYLOAD = '<img src=x onerror="alert(1)"><script>alert("PWNED")</script>'


class Injected(html.parser.HTMLParser):
    """Elements a payload would have created: any on* attribute, any script running alert("PWNED")
    (JSON data in a script element holds the payload escaped, as text, which is fine)."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        self.found += [f"<{tag} {name}>" for name, _ in attrs if name.startswith("on")]
        self._script = tag == "script"

    def handle_data(self, data):
        if self._script and 'alert("PWNED")' in data:
            self.found.append("<script>PWNED")

    def handle_endtag(self, tag):
        self._script = False


def test_html_in_every_text_field_shows_as_text(tmp_path):
    project = make_project(tmp_path)
    edit(project.notes / "alpha2020first.md", "tldr: Alpha optimisation takes smaller steps when gradients are noisy.",
         f"tldr: '{PAYLOAD}'")
    edit(project.notes / "alpha2020first.md", "source: Google Scholar", f"source: '{PAYLOAD}'")
    edit(project.bibliography, "title     = {First Steps in {Alpha} Optimisation}", f"title     = {{{PAYLOAD}}}")
    edit(project.bibliography, "author    = {Alpha, Ann and Zulu, Zed}", f"author    = {{Alpha, Ann and {PAYLOAD}}}")
    edit(project.bibliography, "booktitle = {Proceedings of the Test Conference (TC)}", f"booktitle = {{{PAYLOAD}}}")
    edit(project.taxonomy, "title: Optimization and Training Techniques", f"title: '{PAYLOAD}'")
    edit(project.taxonomy, "description: Optimisers and schedules.", f"description: '{PAYLOAD}'")
    (project.notes / "topic-x.md").write_text(f"---\nkind: topic\ntitle: '{PAYLOAD}'\ntags: [optimization]\ntldr: '{PAYLOAD}'\nadded: 2026-11-30\n---\nBody.\n", encoding="utf-8")
    assert [str(p) for p in build(project)] == []
    pages = [p for p in project.site.rglob("*.html")]
    assert len(pages) > 10
    found = {}
    for page in pages:
        parser = Injected()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.found:
            found[str(page.relative_to(project.site))] = parser.found
    assert found == {}
    note = (project.site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;PWNED&#34;)" in note or "&lt;script&gt;alert(&quot;PWNED&quot;)" in note  # shown as text
