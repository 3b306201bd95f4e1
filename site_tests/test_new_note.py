"""``papernotes new``: the entry, the note and the check skeleton, all or nothing, never overwriting."""
from __future__ import annotations

import http.server
import io
import shutil
import threading
from pathlib import Path

import pytest
from conftest import REPO

from generator.cli import main

SCHOLAR = """@article{he2016deep,
  title={Deep residual learning for image recognition},
  author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  journal={arXiv preprint arXiv:1512.03385},
  year={2015}
}
"""
ZOTERO = """@inproceedings{ba_layer_2016,
\ttitle = {Layer {Normalization}},
\tcopyright = {All rights reserved},
\turldate = {2024-01-02},
\tbooktitle = {{NIPS} 2016 {Deep} {Learning} {Symposium}},
\tauthor = {Ba, Jimmy Lei and Kiros, Jamie Ryan and Hinton, Geoffrey E.},
\tyear = {2016},
\tfile = {Ba - Layer Normalization.pdf:/home/me/Zotero/storage/ABC/Ba.pdf:application/pdf},
\tabstract = {Training state-of-the-art, deep neural networks is computationally expensive.},
\tkeywords = {Computer Science - Machine Learning},
}
"""
HE_ENTRY = """@misc{he2015deep,
  title         = {Deep residual learning for image recognition},
  author        = {He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  year          = {2015},
  eprint        = {1512.03385},
  archivePrefix = {arXiv},
  url           = {https://arxiv.org/abs/1512.03385}
}
"""


def new(project, *args, stdin: str | None = None, monkeypatch=None) -> int:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--root", str(project.root), "new", *args])


def test_new_from_a_google_scholar_export(project, tmp_path, capsys):
    bib_before = project.bibliography.read_text(encoding="utf-8")
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    assert new(project, "he2015deep", "--bib", str(tmp_path / "he.bib")) == 0
    assert project.bibliography.read_text(encoding="utf-8") == bib_before.rstrip("\n") + "\n\n" + HE_ENTRY
    assert (project.notes / "he2015deep.md").read_text(encoding="utf-8").startswith("---\ntags: []")
    assert '@check("he2015deep/main", tex=r"y = f(x)")' in (project.snippets / "he2015deep.py").read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert out.startswith("created notes/he2015deep.md\ncreated runnable_snippets/he2015deep.py\nadded he2015deep to references.bib:")


def test_a_zotero_export_from_standard_input_is_normalised(project, monkeypatch):
    assert new(project, "ba2016layer", "--bib", "-", stdin=ZOTERO, monkeypatch=monkeypatch) == 0
    assert project.bibliography.read_text(encoding="utf-8").endswith(
        "@inproceedings{ba2016layer,\n"
        "  title     = {Layer {Normalization}},\n"
        "  author    = {Ba, Jimmy Lei and Kiros, Jamie Ryan and Hinton, Geoffrey E.},\n"
        "  booktitle = {{NIPS} 2016 {Deep} {Learning} {Symposium}},\n"
        "  year      = {2016}\n"
        "}\n")


def test_the_skeleton_fails_validation_until_written(project, tmp_path, capsys):
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    assert new(project, "he2015deep", "--bib", str(tmp_path / "he.bib")) == 0
    capsys.readouterr()
    assert main(["--root", str(project.root), "validate", str(project.notes / "he2015deep.md")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == [
        "notes/he2015deep.md:2: missing required field 'tags': a list of category slugs from taxonomy.yml, e.g. tags: [optimization]",
        "notes/he2015deep.md:3: missing required field 'tldr': one or two sentences saying what the paper shows",
        "notes/he2015deep.md:9: placeholder from 'papernotes new' still here: replace it with your text"]
    assert err[-1] == "7 errors."


@pytest.mark.parametrize("existing", ["note", "snippet"])
def test_never_overwrites_and_writes_nothing_on_refusal(project, tmp_path, existing, capsys):
    target = project.notes / "he2015deep.md" if existing == "note" else project.snippets / "he2015deep.py"
    target.parent.mkdir(exist_ok=True)
    target.write_text("my work\n", encoding="utf-8")
    bib_before = project.bibliography.read_bytes()
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    assert new(project, "he2015deep", "--bib", str(tmp_path / "he.bib")) == 1
    assert target.read_text(encoding="utf-8") == "my work\n"
    assert project.bibliography.read_bytes() == bib_before
    other = project.snippets / "he2015deep.py" if existing == "note" else project.notes / "he2015deep.md"
    assert not other.exists()
    shown = "notes/he2015deep.md" if existing == "note" else "runnable_snippets/he2015deep.py"
    assert capsys.readouterr().err == f"{shown}: already exists; papernotes new never overwrites (pick another key or edit that file)\n1 error; nothing was written.\n"


def test_refuses_a_duplicate_key_or_the_same_paper_under_another_key(project, tmp_path, capsys):
    bib_before = project.bibliography.read_bytes()
    (tmp_path / "alpha.bib").write_text("@misc{x, title={T}, author={A, B}, year={2020}, eprint={2001.00001}}", encoding="utf-8")
    assert new(project, "Alpha2020first", "--bib", str(tmp_path / "alpha.bib")) == 1
    assert new(project, "alpha2020again", "--bib", str(tmp_path / "alpha.bib")) == 1
    assert project.bibliography.read_bytes() == bib_before
    assert capsys.readouterr().err.splitlines() == [
        "Alpha2020first: a note key is lowercase letters, digits, '-' and '_': surname, year and first title word, e.g. vaswani2017attention",
        "references.bib:1: already has an entry 'alpha2020first'; papernotes new never adds a second one",
        "2 errors; nothing was written.",
        "references.bib:1: already has this paper as 'alpha2020first'; write the note as notes/alpha2020first.md instead",
        "1 error; nothing was written."]


@pytest.mark.parametrize("key", ["he 2015", "he/2015", "../he2015", "He2015deep"])
def test_refuses_keys_with_spaces_slashes_or_capitals(project, tmp_path, key):
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    bib_before = project.bibliography.read_bytes()
    assert new(project, key, "--bib", str(tmp_path / "he.bib")) == 1
    assert project.bibliography.read_bytes() == bib_before
    assert sorted(p.name for p in project.notes.iterdir()) == ["alpha2020first.md", "beta2021second.md", "script2022title.md"]


@pytest.mark.parametrize(("text", "message"), [
    ("", "<stdin>: no BibTeX entry found (expected @article{...}, @inproceedings{...}, ...)"),
    ("@article{x,\n  title = {T},\n  author = {A}\n", "<stdin>:1: this entry does not parse; check its braces, commas and '=' signs"),
    ("@article{x, title={T}, year={2020}}", "<stdin>:1: the entry has no 'author' field; add it"),
    ("@article{x, title={T}, author={A, B}, year={in press}}", "<stdin>:1: year 'in press' is not a four-digit year"),
])
def test_a_bad_entry_is_reported_and_nothing_is_written(project, monkeypatch, capsys, text, message):
    bib_before = project.bibliography.read_bytes()
    assert new(project, "x2020y", "--bib", "-", stdin=text, monkeypatch=monkeypatch) == 1
    assert capsys.readouterr().err == f"{message}\n1 error; nothing was written.\n"
    assert project.bibliography.read_bytes() == bib_before
    assert not (project.notes / "x2020y.md").exists()


def test_a_failure_while_writing_references_bib_removes_the_new_files(project, tmp_path, monkeypatch):
    def fail(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("generator.scaffold.files._replace", fail)
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    bib_before = project.bibliography.read_bytes()
    with pytest.raises(OSError):
        new(project, "he2015deep", "--bib", str(tmp_path / "he.bib"))
    assert project.bibliography.read_bytes() == bib_before
    assert not (project.notes / "he2015deep.md").exists() and not (project.snippets / "he2015deep.py").exists()


# --- --arxiv, against a local fake of the arXiv API (never the real one) -------------------------

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry>
    <id>http://arxiv.org/abs/1607.06450v1</id>
    <published>2016-07-21T19:57:52Z</published>
    <title>Layer
      Normalization</title>
    <author><name>Jimmy Lei Ba</name></author>
    <author><name>Jamie Ryan Kiros</name></author>
    <author><name>Geoffrey E. Hinton</name></author>
    <arxiv:primary_category term="stat.ML"/>
  </entry>
</feed>"""
EMPTY = """<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>"""


@pytest.fixture
def fake_arxiv(monkeypatch):
    """A local server that answers like export.arxiv.org/api/query; ``answers`` maps ids to (status, body)."""
    answers: dict[str, tuple[int, str]] = {"1607.06450": (200, ATOM), "1234.56789": (200, EMPTY), "1111.11111": (503, "busy")}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            from urllib.parse import parse_qs, urlparse
            arxiv_id = parse_qs(urlparse(self.path).query)["id_list"][0]
            status, body = answers[arxiv_id]
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PAPERNOTES_ARXIV_API", f"http://127.0.0.1:{server.server_address[1]}/api/query")
    yield answers
    server.shutdown()


def test_new_from_arxiv(project, fake_arxiv):
    assert new(project, "ba2016layer", "--arxiv", "1607.06450") == 0
    assert project.bibliography.read_text(encoding="utf-8").endswith(
        "@misc{ba2016layer,\n"
        "  title         = {Layer Normalization},\n"
        "  author        = {Jimmy Lei Ba and Jamie Ryan Kiros and Geoffrey E. Hinton},\n"
        "  year          = {2016},\n"
        "  eprint        = {1607.06450},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass  = {stat.ML},\n"
        "  url           = {https://arxiv.org/abs/1607.06450}\n"
        "}\n")
    assert main(["--root", str(project.root), "validate", str(project.bibliography)]) == 1  # only the note's placeholders


@pytest.mark.parametrize(("arxiv_id", "message"), [
    ("1234.56789", "arXiv:1234.56789: arXiv has no paper 1234.56789"),
    ("1111.11111", "arXiv:1111.11111: the arXiv API at {api} answered HTTP 503; try again later, or pass the entry with --bib FILE"),
    ("not-an-id!", "arXiv:not-an-id!: 'not-an-id!' is not an arXiv id (like 1706.03762 or hep-th/9901001)"),
])
def test_arxiv_failures_are_explained_and_write_nothing(project, fake_arxiv, capsys, arxiv_id, message):
    import os
    bib_before = project.bibliography.read_bytes()
    assert new(project, "x2020y", "--arxiv", arxiv_id) == 1
    assert capsys.readouterr().err == message.format(api=os.environ["PAPERNOTES_ARXIV_API"]) + "\n1 error; nothing was written.\n"
    assert project.bibliography.read_bytes() == bib_before


def test_arxiv_unreachable(project, monkeypatch, capsys):
    import socket
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("PAPERNOTES_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    assert new(project, "x2020y", "--arxiv", "1607.06450") == 1
    err = capsys.readouterr().err
    assert err.startswith(f"arXiv:1607.06450: cannot reach the arXiv API at http://127.0.0.1:{port}/api/query (")
    assert err.endswith("); check the network, or export the entry as BibTeX and pass --bib FILE\n1 error; nothing was written.\n")


# --- the whole contributor path: new, write, validate, check ---------------------------------------

def test_a_new_note_with_a_written_check_validates_and_passes(project, tmp_path, capsys):
    for helper in ("harness.py",):
        project.snippets.mkdir(exist_ok=True)
        shutil.copy2(REPO / "runnable_snippets" / helper, project.snippets / helper)
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    assert new(project, "he2015deep", "--bib", str(tmp_path / "he.bib")) == 0
    note = project.notes / "he2015deep.md"
    note.write_text(
        "---\ntags: [optimization]\ntldr: Residual blocks learn F(x) = H(x) - x.\n---\n"
        "## Idea\n\nA block outputs its input plus a residual:\n\n$$\ny = \\mathcal{F}(x) + x\n$$ {#eq:residual}\n",
        encoding="utf-8")
    snippet = project.snippets / "he2015deep.py"
    snippet.write_text(
        'import torch\nfrom harness import check, close, run_checks, seed\n\n\n'
        '@check("he2015deep/residual", tex=r"y = \\mathcal{F}(x) + x")\n'
        'def check_residual():\n'
        '    x = torch.randn(4, 8, generator=seed(0), dtype=torch.float64)\n'
        '    F = torch.nn.Linear(8, 8, dtype=torch.float64)\n'
        '    # y = F(x) + x: a zero residual branch makes the block the identity\n'
        '    torch.nn.init.zeros_(F.weight); torch.nn.init.zeros_(F.bias)\n'
        '    close(F(x) + x, x, "residual block with F = 0")\n\n\n'
        'if __name__ == "__main__":\n    run_checks(__name__)\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["--root", str(project.root), "validate", str(note)]) == 0
    assert main(["--root", str(project.root), "check", "he2015deep", "-j", "1"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_the_check_skeleton_fails_until_written(project, tmp_path):
    import subprocess
    import sys
    project.snippets.mkdir(exist_ok=True)
    for helper in ("harness.py",):
        shutil.copy2(REPO / "runnable_snippets" / helper, project.snippets / helper)
    (tmp_path / "he.bib").write_text(SCHOLAR, encoding="utf-8")
    assert new(project, "he2015deep", "--bib", str(tmp_path / "he.bib")) == 0
    run = subprocess.run([sys.executable, str(project.snippets / "he2015deep.py")], capture_output=True, text=True)
    assert run.returncode == 1
    assert "this check is a skeleton: write the equation and its reference, then compare with close()" in run.stdout + run.stderr
