"""Read ``references.bib`` with bibtexparser 2 into ``Reference`` records."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import bibtexparser
from bibtexparser import middlewares as mw
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry, ParsingFailedBlock

from ..diagnostics import Diagnostic
from ..model import Reference

REQUIRED = ("title", "author", "year")
VENUE_FIELDS = ("journal", "booktitle", "howpublished", "publisher", "institution", "school")
KEY = re.compile(r"^[A-Za-z0-9_:\-\.]+$")


def read_bibliography(path: Path, display_path: str = "references.bib") -> tuple[dict[str, Reference], list[Diagnostic]]:
    """All well-formed entries by key, and a diagnostic for every block that is not."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Diagnostic(display_path, 0, f"cannot read the bibliography: {exc}")]
    return parse_bibliography(text, display_path)


def parse_bibliography(text: str, display_path: str) -> tuple[dict[str, Reference], list[Diagnostic]]:
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # its failures come back as blocks
    decoded = bibtexparser.parse_string(text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()])
    problems = [_failed_block(block, display_path, decoded) for block in decoded.failed_blocks]
    references: dict[str, Reference] = {}
    for entry in decoded.entries:
        reference, entry_problems = _reference(entry, display_path)
        problems += entry_problems
        if reference:
            references[reference.key] = reference
    return references, problems


def _failed_block(block, path: str, library) -> Diagnostic:
    line = block.start_line + 1
    if isinstance(block, DuplicateBlockKeyBlock):
        first = next((e.start_line + 1 for e in library.entries if e.key == block.key), 0)
        return Diagnostic(path, line, f"duplicate key '{block.key}' (first defined at line {first}); rename or remove one entry")
    if isinstance(block, DuplicateFieldKeyBlock):
        return Diagnostic(path, line, f"entry has a field twice: {str(block.error).split('.')[0].split(':', 1)[-1].strip()}; keep one")
    reason = getattr(block.error, "abort_reason", "") or "syntax error"
    stop = line + block.raw.count("\n")
    return Diagnostic(path, line, f"this entry does not parse: {reason} (at line {stop}); check its braces, commas and '=' signs")


def _reference(entry: Entry, path: str) -> tuple[Reference | None, list[Diagnostic]]:
    line = entry.start_line + 1
    if not KEY.match(entry.key):
        return None, [Diagnostic(path, line, f"key '{entry.key}' may only contain letters, digits and _:-.")]
    fields = {k.lower(): f.value for k, f in entry.fields_dict.items()}
    problems = [Diagnostic(path, line, f"entry '{entry.key}' has no '{name}' field; add it") for name in REQUIRED if not fields.get(name)]
    year = None
    if fields.get("year"):
        year_text = str(fields["year"]).strip()
        if re.fullmatch(r"\d{4}", year_text):
            year = int(year_text)
        else:
            problems.append(Diagnostic(path, line, f"entry '{entry.key}': year '{year_text}' is not a four-digit year"))
    if problems:
        return None, problems
    return Reference(
        key=entry.key,
        entry_type=entry.entry_type.lower(),
        title=_plain(fields["title"]),
        authors=tuple(_display_name(n) for n in fields["author"]),
        year=year,
        venue=_venue(fields),
        eprint=_plain(fields.get("eprint", "")),
        doi=_plain(fields.get("doi", "")),
        url=_plain(fields.get("url", "")),
        bibtex=entry.raw.strip(),
        line=line,
    ), []


def _venue(fields: dict) -> str:
    for name in VENUE_FIELDS:
        if fields.get(name):
            return _plain(fields[name])
    if fields.get("eprint"):
        return f"arXiv preprint arXiv:{_plain(fields['eprint'])}"
    return ""


def _display_name(name) -> str:
    if isinstance(name, str):
        return _plain(name)
    return _plain(" ".join([*name.first, *name.von, *name.last, *name.jr]))


def _plain(value) -> str:
    """BibTeX text for display: LaTeX accents and escapes decoded, protecting braces dropped.

    pylatexenc only runs on values that contain a backslash: it is by far the slowest step.
    """
    text = str(value)
    if "\\" in text:
        text = _latex_to_text(text)
    text = text.replace("{", "").replace("}", "").replace("--", "–")
    return " ".join(text.split())


def _latex_to_text(text: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True).latex_to_text(text)
