from generator.readers.bibliography import parse_bibliography

ENTRY = """@inproceedings{kingma2014adam,
  title     = {{Adam}: A Method for Stochastic Optimization},
  author    = {Kingma, Diederik P. and Ba, Jimmy},
  booktitle = {International Conference on Learning Representations ({ICLR})},
  year      = {2015},
  eprint    = {1412.6980},
  doi       = {10.48550/arXiv.1412.6980}
}
"""


def test_entry_is_decoded_for_display():
    references, problems = parse_bibliography(ENTRY, "references.bib")
    assert problems == []
    adam = references["kingma2014adam"]
    assert adam.title == "Adam: A Method for Stochastic Optimization"
    assert adam.authors == ("Diederik P. Kingma", "Jimmy Ba")
    assert adam.venue == "International Conference on Learning Representations (ICLR)"
    assert (adam.year, adam.eprint, adam.line) == (2015, "1412.6980", 1)
    assert adam.arxiv_url == "https://arxiv.org/abs/1412.6980"
    assert adam.doi_url == "https://doi.org/10.48550/arXiv.1412.6980"
    assert adam.bibtex == ENTRY.strip()
    assert adam.short_authors() == "Kingma and Ba"


def test_latex_accents_and_others():
    references, _ = parse_bibliography('@misc{m, title={{\\"U}ber Sch{\\"o}n}, author={M{\\"u}ller, Hans and others}, year={2020}, eprint={2001.1}}', "r.bib")
    m = references["m"]
    assert m.title == "Über Schön"
    assert m.authors == ("Hans Müller", "others")
    assert m.short_authors() == "Müller et al."
    assert m.venue == "arXiv preprint arXiv:2001.1"


def test_missing_fields_and_bad_year_are_reported_at_the_entry():
    _, problems = parse_bibliography("\n@article{a, title={T}, year={20x}}\n", "references.bib")
    assert [str(p) for p in problems] == [
        "references.bib:2: entry 'a': year '20x' is not a four-digit year (a letter may follow, as in 2023a)",
        "references.bib:2: warning: entry 'a' has neither 'author' nor 'editor' (pages show no names); add one",
    ]


def test_duplicate_field_is_reported():
    _, problems = parse_bibliography("@misc{b, title={x}, title={y}, author={A, B}, year={2020}}", "references.bib")
    assert [str(p) for p in problems] == ["references.bib:1: entry has a field twice: 'title'; keep one"]


def test_an_unparseable_entry_does_not_hide_the_others():
    references, problems = parse_bibliography(ENTRY + "\n@article{broken\n  title = {x}\n}\n" + ENTRY.replace("kingma2014adam", "other"), "references.bib")
    assert sorted(references) == ["kingma2014adam", "other"]
    assert [str(p) for p in problems] == [
        "references.bib:10: this entry does not parse: Expected comma after entry key, but found = (at line 11); check its braces, commas and '=' signs"]
