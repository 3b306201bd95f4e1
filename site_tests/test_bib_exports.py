"""BibTeX as reference managers and publishers export it (fixtures/bib_exports/, one file per tool),
read with what BibTeX and biber make of it; one test per class of entry the tools write."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import edit, make_project

from generator.readers.bibliography import parse_bibliography, read_bibliography
from generator.site_build import build

EXPORTS = Path(__file__).parent / "fixtures" / "bib_exports"


def read(name: str):
    references, problems = read_bibliography(EXPORTS / name, name)
    return references, [str(p) for p in problems]


@pytest.mark.parametrize("name", sorted(p.name for p in EXPORTS.glob("*.bib")))
def test_every_export_reads_with_no_problem(name):
    references, problems = read(name)
    assert problems == []
    assert references


def test_keys_are_any_key_bibtex_allows():
    keys = set(read("dblp.bib")[0]) | set(read("acm_dl.bib")[0]) | set(read("jabref.bib")[0])
    assert {"DBLP:conf/icml/OkaforLS21", "10.1145/3394486.3403999", "Ruiz*2022", "Okafor2023a"} <= keys


def test_an_edited_book_shows_its_editors():
    book = read("zotero_better_bibtex.bib")[0]["halvorsenHandbook2019"]
    assert (book.authors, book.editors) == ((), ("Ingrid Halvorsen", "Thabo Mbeki"))
    assert book.short_authors() == "Halvorsen and Mbeki (eds.)"
    one, _ = parse_bibliography("@book{b, editor = {Roe, Rick}, title = {T}, year = {2001}}", "r.bib")
    assert one["b"].short_authors() == "Roe (ed.)" and one["b"].editor_mark == "(ed.)"


def test_a_year_suffix_is_the_year_and_stays_in_the_label():
    references = read("jabref.bib")[0]
    a, b = references["Okafor2023a"], references["Okafor2023b"]
    assert (a.year, a.year_suffix, a.year_label) == (2023, "a", "2023a")
    assert (b.year, b.year_label) == (2023, "2023b")


def test_a_date_without_a_year_gives_the_year():
    assert read("zotero_better_bibtex.bib")[0]["tanakaScaling2023"].year == 2023


def test_a_bare_ampersand_is_text():
    assert read("jabref.bib")[0]["Okafor2023a"].venue == "Journal of Machine Learning Research"
    assert read("acm_dl.bib")[0]["10.1145/3394486.3403999"].venue.endswith("Knowledge Discovery & Data Mining")
    references, problems = parse_bibliography("@book{p, author = {A, B}, title = {Tom & Jerry}, publisher = {Wiley & Sons}, year = 1990}", "r.bib")
    assert problems == [] and (references["p"].title, references["p"].venue) == ("Tom & Jerry", "Wiley & Sons")


def test_string_macros_and_concatenation_are_resolved():
    references = read("jabref.bib")[0]
    assert references["Ruiz*2022"].venue == "Proceedings of the AAAI Conference on Artificial Intelligence"
    assert references["Ruiz*2022"].title == "Retrieval with C# Pipelines"  # a braced '#' is text


def test_month_macros_are_defined():
    references, problems = parse_bibliography("@article{m, author = {A, B}, title = {T}, journal = {J}, year = 2020, month = dec # {~24}}", "r.bib")
    assert problems == [] and "m" in references


def test_an_undefined_macro_is_a_warning_at_its_entry():
    _, problems = parse_bibliography("\n@article{u, author = {A, B}, title = {T}, journal = jmrl, year = 2020}", "r.bib")
    assert [str(p) for p in problems] == [
        "r.bib:2: warning: entry 'u', field 'journal' uses the macro 'jmrl', which no @string defines (BibTeX reads it as empty); "
        "define it with @string{jmrl = {...}} or put the text in braces"]


def test_comments_and_preambles_are_not_entries():
    references = read("jabref.bib")[0]
    assert sorted(references) == ["Okafor2023a", "Okafor2023b", "Ruiz*2022"]  # no @comment, @preamble, @xdata


def test_crossref_inherits_the_parents_fields_and_its_title_as_booktitle():
    references = read("dblp.bib")[0]
    child = references["DBLP:conf/nips/TanakaR23"]
    assert child.title == "Scaling Laws for Retrieval"
    assert child.venue.startswith("Advances in Neural Information Processing Systems 36")
    assert references["DBLP:conf/nips/2023"].editors == ("Alice Oh", "Tristan Naumann", "Amir Globerson")


def test_xdata_fields_are_inherited():
    references, problems = parse_bibliography(
        "@xdata{pub, publisher = {AAAI Press}}\n@book{x, author = {A, B}, title = {T}, year = 2020, xdata = {pub}}", "r.bib")
    assert problems == [] and references["x"].venue == "AAAI Press" and "pub" not in references


def test_a_missing_or_circular_crossref_is_a_warning():
    _, problems = parse_bibliography(
        "@inproceedings{a, author = {A, B}, title = {T}, year = 2020, crossref = {nowhere}}\n"
        "@inproceedings{b, author = {A, B}, title = {T}, year = 2020, crossref = {c}}\n"
        "@proceedings{c, title = {P}, editor = {E, F}, year = 2020, crossref = {b}}\n", "r.bib")
    assert [str(p) for p in problems] == [
        "r.bib:1: warning: entry 'a': crossref 'nowhere' names no entry in this file; add it, or remove the crossref field",
        "r.bib:2: warning: entry 'b': crossref leads in a circle (b -> c -> b); remove one link",
        "r.bib:3: warning: entry 'c': crossref leads in a circle (c -> b -> c); remove one link",
    ]


def test_a_duplicate_key_across_two_exports_names_both_lines():
    text = (EXPORTS / "arxiv.bib").read_text(encoding="utf-8")
    _, problems = parse_bibliography(text + "\n" + text, "references.bib")
    assert [str(p) for p in problems] == [
        "references.bib:11: duplicate key 'tanaka2023scaling' (first defined at line 1); rename or remove one entry"]


def test_all_exports_together_validate_with_only_their_true_duplicates(tmp_path):
    """The same papers exported by six tools: distinct keys, so nothing but a duplicate could fail."""
    text = "\n".join((EXPORTS / n).read_text(encoding="utf-8") for n in sorted(p.name for p in EXPORTS.glob("*.bib")))
    references, problems = parse_bibliography(text, "references.bib")
    assert problems == [] and len(references) == 16


ODD_KEYS = ("Ruiz*2022", "10.1145/3394486.3403999", "DBLP:conf/icml/OkaforLS21", "smith|2020")


@pytest.fixture(scope="module")
def built_with_odd_keys(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("oddkeys"))
    with open(project.bibliography, "a", encoding="utf-8") as bib:
        for name in ("jabref.bib", "acm_dl.bib", "dblp.bib"):
            bib.write("\n" + (EXPORTS / name).read_text(encoding="utf-8"))
        bib.write("\n@misc{smith|2020, author = {Smith, Sam}, title = {A Pipe in the Key}, year = {2020}}\n")
    cites = "; ".join(f"@{k}" for k in ODD_KEYS)
    edit(project.notes / "alpha2020first.md", "related: [beta2021second]", f"related: [beta2021second, Okafor2023a]")
    with open(project.notes / "alpha2020first.md", "a", encoding="utf-8") as note:
        note.write(f"\nOdd keys: [{cites}].\n")
    assert [str(p) for p in build(project)] == []
    return project


def test_odd_keys_get_anchors_and_escaped_links(built_with_odd_keys):
    site = built_with_odd_keys.site
    bibliography = (site / "bibliography/index.html").read_text(encoding="utf-8")
    for key in ODD_KEYS:
        assert f'id="{key}"' in bibliography
    assert 'id="smith%7C2020"' in bibliography  # what mkdocs and a browser match the encoded fragment to
    note = (site / "notes/alpha2020first/index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="\.\./\.\./bibliography/#([^"]+)"', note)
    assert {"Ruiz*2022", "10.1145/3394486.3403999", "DBLP:conf/icml/OkaforLS21", "smith%7C2020", "Okafor2023a"} <= set(hrefs)
    assert "Okafor and Tanaka, 2023a" in note  # the related list's hover text keeps the year suffix


def test_an_edited_book_is_shown_with_ed(built_with_odd_keys):
    bibliography = (built_with_odd_keys.site / "bibliography/index.html").read_text(encoding="utf-8")
    assert "Alice Oh, Tristan Naumann, Amir Globerson (eds.) (2023)" in bibliography
