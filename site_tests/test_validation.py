"""One test per kind of bad input: the exact message, at the exact line, all in one run."""
import subprocess
import sys

from conftest import edit, messages

from generator.cli import main


def test_the_valid_fixture_has_no_problems(project, katex):
    assert messages(project, katex) == []


def test_yaml_that_does_not_parse(project, katex):
    edit(project.notes / "alpha2020first.md", "tags: [optimization, training]", "tags: [optimization, training")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:3: front matter is not valid YAML: expected ',' or ']', but got ':'"]


def test_missing_required_field(project, katex):
    edit(project.notes / "beta2021second.md", "tldr: 第二篇论文用卷积看图。\n", "")
    assert messages(project, katex) == [
        "notes/beta2021second.md:1: missing required field 'tldr': one or two sentences saying what the paper shows"]


def test_unknown_tag_with_did_you_mean(project, katex):
    edit(project.notes / "alpha2020first.md", "tags: [optimization, training]", "tags: [optimization, trainng]")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:2: unknown tag 'trainng' (did you mean 'training'?); use a slug or alias from taxonomy.yml"]


def test_unknown_tag_in_block_list_is_reported_at_its_item(project, katex):
    edit(project.notes / "alpha2020first.md", "tags: [optimization, training]", "tags:\n  - optimization\n  - recsis")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:4: unknown tag 'recsis' (did you mean 'recsys'?); use a slug or alias from taxonomy.yml"]


def test_note_without_a_references_bib_entry(project, katex):
    (project.notes / "omega2023lost.md").write_text("---\ntags: [recsys]\ntldr: Lost.\nadded: 2026-11-30\n---\nText.\n", encoding="utf-8")
    assert messages(project, katex) == [
        "notes/omega2023lost.md:1: no entry 'omega2023lost' in references.bib: add the paper's BibTeX entry under this key (or set kind: topic for a topic note)"]


def test_duplicate_key_in_references_bib(project, katex):
    with (project.bibliography).open("a", encoding="utf-8") as bib:
        bib.write("\n@misc{gamma2019third,\n  title = {Again},\n  author = {Gamma, Gil},\n  year = {2019}\n}\n")
    assert messages(project, katex) == [
        "references.bib:31: duplicate key 'gamma2019third' (first defined at line 17); rename or remove one entry"]


def test_duplicate_note_keys_up_to_case(project, katex):
    (project.notes / "Alpha2020first.md").write_text((project.notes / "alpha2020first.md").read_text(encoding="utf-8"), encoding="utf-8")
    problems = messages(project, katex)
    assert "notes/alpha2020first.md:1: duplicate key: notes/Alpha2020first.md has the same key up to case; keys are URLs and must be unique" in problems


def test_citation_that_resolves_nowhere(project, katex):
    edit(project.notes / "alpha2020first.md", "[@gamma2019third]", "[@gamma2019thrid]")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:13: [@gamma2019thrid] cites a key found neither in references.bib nor in notes/; add a BibTeX entry for it (did you mean 'gamma2019third'?)"]


def test_related_key_that_does_not_exist(project, katex):
    edit(project.notes / "alpha2020first.md", "related: [beta2021second]", "related:\n  - beta2021second\n  - beta2021secnd")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:10: related key 'beta2021secnd' is neither a note nor a references.bib entry (did you mean 'beta2021second'?)"]


def test_unknown_lang(project, katex):
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: cn")
    assert messages(project, katex) == [
        "notes/beta2021second.md:4: unknown lang 'cn'; use one of: en, zh, ru"]


def test_references_bib_that_does_not_parse(project, katex):
    edit(project.bibliography, "@article{beta2021second,\n", "@article{beta2021second\n")
    problems = messages(project, katex)
    assert problems[-1] == (
        "references.bib:10: this entry does not parse: Expected comma after entry key, but found = (at line 11); "
        "check its braces, commas and '=' signs")


def test_bibliographic_fields_belong_in_references_bib(project, katex):
    edit(project.notes / "alpha2020first.md", "tldr:", "year: 2020\ntldr:")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:3: 'year' belongs in references.bib, not in the front matter; remove it here (the note's BibTeX entry has the same key as its file name)"]


def test_unknown_field_with_did_you_mean(project, katex):
    edit(project.notes / "alpha2020first.md", "related:", "relatd:")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:8: unknown field 'relatd' (did you mean 'related'?); fields are: tags, tldr, lang, citations, related, added, kind, title, unchecked, not_evaluated"]


def test_malformed_formula_is_reported_at_its_line(project, katex):
    edit(project.notes / "alpha2020first.md", r"\eta_t = \eta_0 / \sqrt{t}", r"\eta_t = \frac{\eta_0}{\sqrt{t}")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:13: formula does not render: Unexpected end of input in a macro argument, expected '}' at end of input: …eta_0}{\\sqrt{t}; fix the TeX (KaTeX syntax)"]


def test_citations_field_needs_a_whole_count_and_a_date(project, katex):
    edit(project.notes / "alpha2020first.md", "count: 1234\n  as_of: 2022-04-20", "count: many\n  as_of: April")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:5: citations.count must be a whole number, not 'many'",
        "notes/alpha2020first.md:6: citations.as_of must be a date YYYY-MM-DD, not 'April'",
    ]


def test_every_problem_is_reported_in_one_run(project, katex):
    edit(project.notes / "alpha2020first.md", "tags: [optimization, training]", "tags: [optimisation]")
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: de")
    edit(project.notes / "script2022title.md", "tldr: A title with <script> must show as text.\n", "")
    assert len(messages(project, katex)) == 3


def test_cli_exits_1_and_prints_path_line_message(project, capsys):
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: cn")
    assert main(["--root", str(project.root), "validate"]) == 1
    err = capsys.readouterr().err
    assert err == "notes/beta2021second.md:4: unknown lang 'cn'; use one of: en, zh, ru\n1 error.\n"


def test_cli_exits_0_on_a_valid_knowledge_base(project, capsys):
    assert main(["--root", str(project.root), "validate"]) == 0
    assert capsys.readouterr().out == "ok: 3 notes, 4 references, 3 categories\n"


def test_validate_paths_checks_only_those_notes_against_everything(project, capsys):
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: cn")
    alpha = str(project.notes / "alpha2020first.md")
    assert main(["--root", str(project.root), "validate", alpha]) == 0
    assert capsys.readouterr().out == "ok: alpha2020first\n"
    assert main(["--root", str(project.root), "validate", alpha, str(project.notes / "beta2021second.md")]) == 1
    assert capsys.readouterr().err == "notes/beta2021second.md:4: unknown lang 'cn'; use one of: en, zh, ru\n1 error.\n"


def test_validate_paths_reports_a_related_key_that_does_not_exist(project, capsys):
    edit(project.notes / "alpha2020first.md", "related: [beta2021second]", "related: [gamma2023]")
    assert main(["--root", str(project.root), "validate", str(project.notes / "alpha2020first.md")]) == 1
    assert "notes/alpha2020first.md:8: related key 'gamma2023' is neither a note nor a references.bib entry" in capsys.readouterr().err


def test_validate_a_path_outside_notes_validates_everything(project, capsys):
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: cn")
    assert main(["--root", str(project.root), "validate", str(project.bibliography)]) == 1
    assert "notes/beta2021second.md:4: unknown lang 'cn'" in capsys.readouterr().err


def test_validate_refuses_paths_that_are_not_notes_of_this_knowledge_base(project, capsys):
    assert main(["--root", str(project.root), "validate", str(project.notes / "missing.md"), "/etc/passwd"]) == 1
    assert capsys.readouterr().err == (
        f"{project.notes / 'missing.md'}: no such file\n"
        f"/etc/passwd: not in this knowledge base ({project.root}): give paths like notes/<key>.md\n2 errors.\n")


def test_the_repository_knowledge_base_is_valid():
    from conftest import REPO
    result = subprocess.run([sys.executable, "-m", "generator.cli", "--root", str(REPO), "validate"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_a_field_given_twice_is_an_error_not_a_silent_override(project, katex):
    edit(project.notes / "alpha2020first.md", "added: 2026-11-01", "added: 2026-11-01\nrelated: [gamma2023]")
    assert messages(project, katex) == [
        "notes/alpha2020first.md:10: field 'related' is given twice (first at line 8); keep one"]


def test_not_evaluated_needs_a_reason_and_an_existing_equation(project, katex):
    note = project.notes / "alpha2020first.md"
    edit(note, "related:", "not_evaluated: {nosuch: 'a reason'}\nrelated:")
    problems = messages(project, katex)
    assert any("not_evaluated names 'nosuch', but the note has no equation {#eq:nosuch}" in p for p in problems), problems


LONG_TLDR = "Alpha takes smaller steps when gradients are noisy. " * 9  # 468 characters


def test_style_rules_are_warnings_that_pass(project, capsys):
    edit(project.notes / "alpha2020first.md", "tldr: Alpha optimisation takes smaller steps when gradients are noisy.", f"tldr: {LONG_TLDR.strip()}")
    edit(project.notes / "beta2021second.md", "added: 2026-11-22\n", "")
    assert main(["--root", str(project.root), "validate"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "notes/alpha2020first.md:3: warning: tldr is 467 characters, over the suggested 400; say it in one or two sentences "
        "and move the rest into the note\n"
        "notes/beta2021second.md:1: warning: no 'added' date: add added: YYYY-MM-DD, the day the note was written "
        "(the home page's 'Recently added' list is ordered by it)\n")
    assert captured.out == "ok: 3 notes, 4 references, 3 categories\n"


def test_strict_fails_on_warnings(project, capsys):
    edit(project.notes / "beta2021second.md", "added: 2026-11-22\n", "")
    assert main(["--root", str(project.root), "validate", "--strict"]) == 1
    assert capsys.readouterr().err == (
        "notes/beta2021second.md:1: warning: no 'added' date: add added: YYYY-MM-DD, the day the note was written "
        "(the home page's 'Recently added' list is ordered by it)\n"
        "1 warning, which --strict counts as errors.\n")


def test_errors_stay_errors_and_strict_counts_both(project, capsys):
    edit(project.notes / "beta2021second.md", "lang: zh", "lang: cn")
    edit(project.notes / "beta2021second.md", "added: 2026-11-22\n", "")
    assert main(["--root", str(project.root), "validate"]) == 1
    assert capsys.readouterr().err.endswith("\n1 error.\n")
    assert main(["--root", str(project.root), "validate", "--strict"]) == 1
    assert capsys.readouterr().err.endswith("\n1 error.\n1 warning, which --strict counts as errors.\n")


def test_a_build_passes_with_warnings_and_prints_them(project):
    from generator.site_build import build

    edit(project.notes / "beta2021second.md", "added: 2026-11-22\n", "")
    problems = build(project)
    assert [str(p) for p in problems] == [
        "notes/beta2021second.md:1: warning: no 'added' date: add added: YYYY-MM-DD, the day the note was written "
        "(the home page's 'Recently added' list is ordered by it)"]
    assert (project.site / "notes/beta2021second/index.html").exists()
