"""Write a new note's three files: the entry appended to references.bib, the note, the check skeleton.

All or nothing: every problem is found before anything is written; existing files are never
overwritten; references.bib is replaced atomically, last, and the new files are removed if that fails.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic
from ..project import Project
from ..readers.bibliography import parse_bibliography
from ..validate import KEY
from .entry import BibEntry

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Scaffold:
    """What ``papernotes new`` will write."""

    note: Path
    snippet: Path
    bibliography: Path
    bibliography_text: str
    note_text: str
    snippet_text: str


def plan(project: Project, entry: BibEntry, today: dt.date) -> tuple[Scaffold | None, list[Diagnostic]]:
    key = entry.key
    note, snippet, bib = project.notes / f"{key}.md", project.snippets / f"{key}.py", project.bibliography
    problems = []
    if not KEY.match(key):
        problems.append(Diagnostic(key, 0, "a note key is lowercase letters, digits, '-' and '_': surname, year and first title word, e.g. vaswani2017attention"))
    for path in (note, snippet):
        if path.exists() or path.is_symlink():
            problems.append(Diagnostic(project.display(path), 0, "already exists; papernotes new never overwrites (pick another key or edit that file)"))
    old_text = bib.read_text(encoding="utf-8") if bib.exists() else ""
    references, bib_problems = parse_bibliography(old_text, project.display(bib))
    if bib_problems:
        problems.append(Diagnostic(project.display(bib), 0, "has errors of its own; run papernotes validate and fix them first"))
    folded = {k.lower(): k for k in references}
    if key.lower() in folded:
        problems.append(Diagnostic(project.display(bib), references[folded[key.lower()]].line,
                                   f"already has an entry '{folded[key.lower()]}'; papernotes new never adds a second one"))
    for ref in references.values():
        if ref.key.lower() == key.lower():
            continue
        if entry.field("eprint") and ref.eprint == entry.field("eprint") or entry.field("doi") and ref.doi.lower() == entry.field("doi").lower():
            problems.append(Diagnostic(project.display(bib), ref.line, f"already has this paper as '{ref.key}'; write the note as notes/{ref.key}.md instead"))
    if problems:
        return None, problems
    new_text = old_text.rstrip("\n") + ("\n\n" if old_text.strip() else "") + entry.text
    _, check_problems = parse_bibliography(new_text, project.display(bib))
    if check_problems:
        return None, [Diagnostic(p.path, p.line, f"the new entry would not parse: {p.message}") for p in check_problems]
    note_text = (TEMPLATES / "note.md").read_text(encoding="utf-8").format(today=today.isoformat())
    snippet_text = (TEMPLATES / "snippet.py").read_text(encoding="utf-8").format(key=key)
    return Scaffold(note, snippet, bib, new_text, note_text, snippet_text), []


def write(scaffold: Scaffold) -> None:
    """Create the note and snippet (exclusively), then swap in the new references.bib."""
    created: list[Path] = []
    try:
        for path, text in ((scaffold.snippet, scaffold.snippet_text), (scaffold.note, scaffold.note_text)):
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as out:
                created.append(path)
                out.write(text)
        _replace(scaffold.bibliography, scaffold.bibliography_text)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
