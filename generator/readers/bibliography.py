"""Read ``references.bib`` with bibtexparser 2 into ``Reference`` records."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import bibtexparser
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry

from ..diagnostics import Diagnostic
from ..memo import ParseMemo
from ..model import Reference
from .bibtex_inheritance import Raw, inherit
from .bibtex_values import resolve

REQUIRED = ("title", "year")
NAMES = ("author", "editor")
VENUE_FIELDS = ("journal", "booktitle", "howpublished", "publisher", "institution", "school")
YEAR = re.compile(r"^(?P<year>\d{4})(?P<suffix>[a-z]?)$")
DATE_YEAR = re.compile(r"^(?P<year>\d{4})(?:[-/]|$)")


def read_bibliography(path: Path, display_path: str = "references.bib",
                      memo: ParseMemo | None = None) -> tuple[dict[str, Reference], list[Diagnostic]]:
    """All well-formed entries by key, and a diagnostic for every block that is not. ``memo``: where
    the same text parsed before is found instead of parsed again (the values are copied out: the
    memo's own dict and list are shared with later builds)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Diagnostic(display_path, 0, f"cannot read the bibliography: {exc}")]
    references, problems = (memo or ParseMemo()).one(parse_bibliography, text, display_path)
    return dict(references), list(problems)


def parse_bibliography(text: str, display_path: str) -> tuple[dict[str, Reference], list[Diagnostic]]:
    """Every entry as BibTeX and biber read it: ``@string`` macros and ``#`` resolved, ``crossref``
    and ``xdata`` inherited; ``@comment``, ``@preamble`` and ``@xdata`` blocks are not references."""
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # its failures come back as blocks
    decoded = bibtexparser.parse_string(text, parse_stack=[])  # raw values: resolved by bibtex_values
    problems = [_failed_block(block, display_path, decoded) for block in decoded.failed_blocks]
    raw, value_problems = resolve_entries(decoded, display_path)
    problems += value_problems
    references: dict[str, Reference] = {}
    for entry in decoded.entries:
        if entry.entry_type.lower() == "xdata":
            continue
        inherited = inherit(entry.key, raw)
        problems += [Diagnostic(display_path, raw[entry.key].line, f"entry '{entry.key}': {p}", "warning") for p in inherited.problems]
        reference, entry_problems = _reference(entry, inherited.fields, display_path)
        problems += entry_problems
        if reference:
            references[reference.key] = reference
    return references, problems


def resolve_entries(library, path: str) -> tuple[dict[str, Raw], list[Diagnostic]]:
    """Every entry of a library parsed with an empty parse stack, its values resolved (``@string``
    macros in file order, ``#``, month names), before inheritance; a warning per undefined macro."""
    problems: list[Diagnostic] = []
    macros: dict[str, str] = {}
    for string in library.strings:
        value = resolve(string.value, macros)
        problems += _undefined(value, path, string.start_line + 1, f"@string '{string.key}'")
        macros[string.key.lower()] = value.text
    raw: dict[str, Raw] = {}
    for entry in library.entries:
        fields = {}
        for name, field in entry.fields_dict.items():
            value = resolve(str(field.value), macros)
            problems += _undefined(value, path, entry.start_line + 1, f"entry '{entry.key}', field '{name}'")
            fields[name.lower()] = value.text
        raw[entry.key] = Raw(entry.entry_type.lower(), fields, entry.start_line + 1)
    return raw, problems


def _undefined(value, path: str, line: int, where: str) -> list[Diagnostic]:
    return [Diagnostic(path, line, f"{where} uses the macro '{name}', which no @string defines (BibTeX reads it as empty); "
                                   f"define it with @string{{{name} = {{...}}}} or put the text in braces", "warning")
            for name in value.undefined]


def _failed_block(block, path: str, library) -> Diagnostic:
    line = block.start_line + 1
    if isinstance(block, DuplicateBlockKeyBlock):
        first = next((b.start_line + 1 for b in (*library.entries, *library.strings) if b.key == block.key), 0)
        return Diagnostic(path, line, f"duplicate key '{block.key}' (first defined at line {first}); rename or remove one entry")
    if isinstance(block, DuplicateFieldKeyBlock):
        return Diagnostic(path, line, f"entry has a field twice: {str(block.error).split('.')[0].split(':', 1)[-1].strip()}; keep one")
    reason = getattr(block.error, "abort_reason", "") or "syntax error"
    stop = line + block.raw.count("\n")
    return Diagnostic(path, line, f"this entry does not parse: {reason} (at line {stop}); check its braces, commas and '=' signs")


def _reference(entry: Entry, fields: dict[str, str], path: str) -> tuple[Reference | None, list[Diagnostic]]:
    """Any key BibTeX accepts is accepted: pages escape it where it lands in an anchor or a URL."""
    line = entry.start_line + 1
    problems = [Diagnostic(path, line, f"entry '{entry.key}' has no '{name}' field; add it")
                for name in REQUIRED if not fields.get(name) and not (name == "year" and fields.get("date"))]
    warnings = [] if any(fields.get(name) for name in NAMES) else [
        Diagnostic(path, line, f"entry '{entry.key}' has neither 'author' nor 'editor' (pages show no names); add one", "warning")]
    year, suffix = None, ""
    if fields.get("year"):
        year_text = _plain(fields["year"])
        found = YEAR.match(year_text)
        if found:
            year, suffix = int(found["year"]), found["suffix"]
        else:
            problems.append(Diagnostic(path, line, f"entry '{entry.key}': year '{year_text}' is not a four-digit year "
                                                   "(a letter may follow, as in 2023a)"))
    elif fields.get("date"):
        found = DATE_YEAR.match(fields["date"].strip())
        if found:
            year = int(found["year"])
        else:
            problems.append(Diagnostic(path, line, f"entry '{entry.key}': date '{fields['date']}' does not start with a year (YYYY-MM-DD)"))
    if problems:
        return None, problems + warnings
    return Reference(
        key=entry.key,
        entry_type=entry.entry_type.lower(),
        title=_plain(fields["title"]),
        authors=_names(fields.get("author", "")),
        editors=_names(fields.get("editor", "")) if not fields.get("author") else (),
        year=year,
        year_suffix=suffix,
        venue=_venue(fields),
        eprint=_plain(fields.get("eprint", "")),
        doi=_plain(fields.get("doi", "")),
        url=_plain(fields.get("url", "")),
        bibtex=entry.raw.strip(),
        line=line,
    ), warnings


def _names(text: str) -> tuple[str, ...]:
    return tuple(_display_name(parse_single_name_into_parts(name, strict=False)) if name.strip() != "others" else "others"
                 for name in split_multiple_persons_names(text) if name.strip())


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
