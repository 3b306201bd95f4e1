"""Turn a BibTeX entry as exported by Zotero / Better BibTeX / Google Scholar into references.bib's style."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import bibtexparser

from ..diagnostics import Diagnostic
from ..readers.bibliography import DATE_YEAR, YEAR, resolve_entries
from ..readers.bibtex_inheritance import inherit

# Field order of references.bib; fields an export carries that a citation never needs are dropped.
ORDER = ("title", "author", "editor", "journal", "booktitle", "howpublished", "institution", "school",
         "publisher", "volume", "number", "pages", "year", "month", "doi", "eprint", "archiveprefix",
         "primaryclass", "url")
DROPPED = {"abstract", "file", "keywords", "urldate", "annote", "annotation", "mendeley-tags", "language",
           "shorttitle", "copyright", "note", "timestamp", "biburl", "bibsource", "langid", "issn", "isbn",
           "month_numeric", "eprinttype", "eprintclass", "library", "pmid", "address"}
SPELLING = {"archiveprefix": "archivePrefix", "primaryclass": "primaryClass"}
SCHOLAR_ARXIV = re.compile(r"arXiv preprint arXiv:\s*([0-9]{4}\.[0-9]{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/[0-9]{7})", re.I)


@dataclass(frozen=True)
class BibEntry:
    """One normalised entry: ``text`` is what goes into references.bib."""

    key: str
    entry_type: str
    fields: tuple[tuple[str, str], ...]

    def field(self, name: str) -> str:
        return next((v for k, v in self.fields if k.lower() == name), "")

    @property
    def text(self) -> str:
        width = max(len(SPELLING.get(k, k)) for k, _ in self.fields)
        body = ",\n".join(f"  {SPELLING.get(k, k):<{width}} = {{{v}}}" for k, v in self.fields)
        return f"@{self.entry_type}{{{self.key},\n{body}\n}}\n"


def parse_entry(text: str, key: str, source: str) -> tuple[BibEntry | None, list[Diagnostic]]:
    """The entry in ``text`` (the only one, or the one keyed ``key``), re-keyed to ``key`` and normalised."""
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    library = bibtexparser.parse_string(text, parse_stack=[])  # values resolved as references.bib's are
    problems = [Diagnostic(source, b.start_line + 1, "this entry does not parse; check its braces, commas and '=' signs")
                for b in library.failed_blocks]
    if problems:
        return None, problems
    parents = {str(e.fields_dict[name].value).strip("{}\" ") for e in library.entries for name in ("crossref", "xdata")
               if name in e.fields_dict}
    entries = [e for e in library.entries if e.key not in parents] or library.entries  # DBLP exports the proceedings too
    if not entries:
        return None, [Diagnostic(source, 0, "no BibTeX entry found (expected @article{...}, @inproceedings{...}, ...)")]
    if len(entries) > 1:
        matching = [e for e in entries if e.key == key]
        if len(matching) != 1:
            return None, [Diagnostic(source, 0, f"{len(entries)} entries and none keyed '{key}': give a file with one entry, or the key of one of them")]
        entries = matching
    entry = entries[0]
    raw, _ = resolve_entries(library, source)  # an undefined macro reads as empty, as in BibTeX
    fields: dict[str, str] = {}
    for name, value in inherit(entry.key, raw).fields.items():  # a DBLP export's crossref parent
        value = " ".join(value.split())
        if name not in DROPPED | {"crossref", "xdata"} and value:
            fields[name] = value
    scholar = SCHOLAR_ARXIV.fullmatch(fields.get("journal", ""))
    entry_type = entry.entry_type.lower()
    if scholar and "eprint" not in fields:  # Google Scholar's way of citing an arXiv paper
        del fields["journal"]
        fields.update(eprint=scholar.group(1), archiveprefix="arXiv")
        entry_type = "misc" if entry_type == "article" else entry_type
    if fields.get("archiveprefix", "").lower() == "arxiv" and fields.get("eprint") and "url" not in fields:
        fields["url"] = f"https://arxiv.org/abs/{fields['eprint']}"
    line = entry.start_line + 1
    if "year" not in fields and DATE_YEAR.match(fields.get("date", "")):
        fields["year"] = DATE_YEAR.match(fields["date"])["year"]  # biblatex's date, as references.bib reads it
    missing = [name for name in ("title", "year") if name not in fields]
    problems = [Diagnostic(source, line, f"the entry has no '{name}' field; add it") for name in missing]
    if "author" not in fields and "editor" not in fields:
        problems.append(Diagnostic(source, line, "the entry has no 'author' field (nor an 'editor'); add it"))
    if fields.get("year") and not YEAR.match(fields["year"]):
        problems.append(Diagnostic(source, line, f"year '{fields['year']}' is not a four-digit year (a letter may follow, as in 2023a)"))
    if problems:
        return None, problems
    ordered = sorted(fields.items(), key=lambda kv: (ORDER.index(kv[0]) if kv[0] in ORDER else len(ORDER), kv[0]))
    return BibEntry(key, entry_type, tuple(ordered)), []
