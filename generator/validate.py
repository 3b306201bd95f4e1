"""Validate note sources against the front-matter schema, the taxonomy and the bibliography.

Every check runs on every note; nothing stops at the first problem. The result is a list of
``Diagnostic``; ``to_note`` then turns a source that passed into a ``Note``. Style rules (a TL;DR
over the suggested length, no ``added:`` date) are warnings: they pass, except under ``--strict``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

from .content_cache import digest
from .diagnostics import Diagnostic, did_you_mean
from .memo import ParseMemo
from .model import LANGUAGES, CitationCount, Note, Reference, Taxonomy
from .readers.notes import NoteSource

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
BIBLIOGRAPHIC = ("title", "author", "authors", "year", "venue", "journal", "booktitle", "arxiv",
                 "eprint", "doi", "url", "publisher")
MAX_TLDR = 400
PLACEHOLDER = "TODO(papernotes)"  # what the note template of ``papernotes new`` marks unwritten parts with


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    help: str


SCHEMA = (
    Field("tags", True, "a list of category slugs from taxonomy.yml, e.g. tags: [optimization]"),
    Field("tldr", True, "one or two sentences saying what the paper shows"),
    Field("lang", False, "the note's language: " + ", ".join(LANGUAGES)),
    Field("citations", False, "{count: N, as_of: YYYY-MM-DD, source: where the count comes from}"),
    Field("related", False, "a list of keys of related notes or references.bib entries"),
    Field("added", False, "the date the note was added, YYYY-MM-DD"),
    Field("kind", False, "'paper' (default) or 'topic' for a note about a topic rather than one paper"),
    Field("title", False, "a topic note's title (paper notes take theirs from references.bib)"),
    Field("unchecked", False, "equations no check can verify, with the reason: {label: why}"),
    Field("not_evaluated", False, "checked equations whose check cannot evaluate the LaTeX itself, with the reason: {label: why}"),
)
FIELDS = {f.name: f for f in SCHEMA}


@dataclass(frozen=True)
class Context:
    """What a note is validated against."""

    taxonomy: Taxonomy
    references: dict[str, Reference]
    note_keys: frozenset[str]

    def exists(self, key: str) -> bool:
        return key in self.references or key in self.note_keys

    def known_keys(self) -> set[str]:
        return set(self.references) | set(self.note_keys)


def validate_notes(sources: list[NoteSource], taxonomy: Taxonomy, references: dict[str, Reference],
                   only: frozenset[str] | None = None, memo: ParseMemo | None = None) -> list[Diagnostic]:
    """Validate every note (or the notes keyed in ``only``) against all of them. ``memo``: where a
    note's problems are found when neither the note nor what it is validated against (the taxonomy,
    the keys of the bibliography and of the notes) changed: validating 3,000 unchanged notes was a
    tenth of an edit's build."""
    context = Context(taxonomy, references, frozenset(s.key for s in sources))
    problems = _duplicate_keys(sources)
    selected = [s for s in sources if s.front is not None and (only is None or s.key in only)]
    # a source made in code has no digest to be found by: validated every time
    found = {s.path: validate_note(s, context) for s in selected if memo is None or not s.digest}
    if memo is not None:
        frame = digest(repr(taxonomy), "\0".join(sorted(references)), "\0".join(sorted(context.note_keys)))
        by_path = {s.path: s for s in selected}
        found.update(memo.values("note problems", {s.path: digest(frame, s.digest) for s in selected if s.digest},
                                 lambda path: validate_note(by_path[path], context)))
    for source in selected:
        problems += found[source.path]
    return problems


def validate_note(source: NoteSource, context: Context) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    meta, at = source.front.values, source.front.line_of

    def report(path: str, message: str, severity: str = "error") -> None:
        problems.append(Diagnostic(source.path, at(path), message, severity))

    if not KEY.match(source.key):
        report("", f"'{source.key}' is not a valid note key: use lowercase letters, digits, '-' and '_' (a BibTeX key like vaswani2017attention)")
    for name in meta:
        _check_field_name(str(name), report)
    for field in SCHEMA:
        if field.required and meta.get(field.name) in (None, "", []):
            problems.append(Diagnostic(source.path, 1 if field.name not in meta else at(field.name),
                                       f"missing required field '{field.name}': {field.help}"))
    for name, check in CHECKS.items():
        if meta.get(name) not in (None, "", []):
            check(meta[name], name, report, context)
    if "added" not in meta:
        problems.append(Diagnostic(source.path, 1, "no 'added' date: add added: YYYY-MM-DD, the day the note was written "
                                   "(the home page's 'Recently added' list is ordered by it)", "warning"))
    _check_kind(source, meta, report, context)
    labels = {f.label for f in source.scan.formulas if f.label}
    for name in ("unchecked", "not_evaluated"):
        for label in meta.get(name) if isinstance(meta.get(name), dict) else ():
            if label not in labels:
                report(f"{name}.{label}", f"{name} names '{label}', but the note has no equation {{#eq:{label}}}{did_you_mean(str(label), labels)}")
    if isinstance(meta.get("unchecked"), dict) and isinstance(meta.get("not_evaluated"), dict):
        for label in set(meta["unchecked"]) & set(meta["not_evaluated"]):
            report(f"not_evaluated.{label}", f"'{label}' is listed as unchecked and as not_evaluated: an unchecked equation has no check to evaluate it; keep one")
    for offset, line in enumerate(source.front.body.splitlines()):
        if PLACEHOLDER in line:
            problems.append(Diagnostic(source.path, source.front.body_line + offset,
                                       "placeholder from 'papernotes new' still here: replace it with your text"))
    for citation in source.scan.citations:
        for key in citation.keys:
            if not context.exists(key):
                problems.append(Diagnostic(source.path, citation.line,
                                           f"[@{key}] cites a key found neither in references.bib nor in notes/; add a BibTeX entry for it{did_you_mean(key, context.known_keys())}"))
    return problems


def _check_field_name(name: str, report) -> None:
    if name in FIELDS:
        return
    if name in BIBLIOGRAPHIC:
        report(name, f"'{name}' belongs in references.bib, not in the front matter; remove it here (the note's BibTeX entry has the same key as its file name)")
    else:
        report(name, f"unknown field '{name}'{did_you_mean(name, FIELDS)}; fields are: {', '.join(FIELDS)}")


def _check_tags(value: Any, name: str, report, context: Context) -> None:
    tags = value if isinstance(value, list) else [value]
    for index, tag in enumerate(tags):
        path = f"{name}[{index}]" if isinstance(value, list) else name
        if not isinstance(tag, str):
            report(path, f"tag {tag!r} must be a category slug (text)")
        elif context.taxonomy.resolve(tag) is None:
            report(path, f"unknown tag '{tag}'{did_you_mean(tag.lower(), context.taxonomy.names())}; use a slug or alias from taxonomy.yml")


def _check_tldr(value: Any, name: str, report, context: Context) -> None:
    if not isinstance(value, str):
        report(name, "tldr must be text: one or two sentences")
    elif len(value) > MAX_TLDR:
        report(name, f"tldr is {len(value)} characters, over the suggested {MAX_TLDR}; say it in one or two sentences "
                     "and move the rest into the note", "warning")


def _check_lang(value: Any, name: str, report, context: Context) -> None:
    if not isinstance(value, str) or value not in LANGUAGES:
        report(name, f"unknown lang '{value}'{did_you_mean(str(value), LANGUAGES)}; use one of: {', '.join(LANGUAGES)}")


def _check_citations(value: Any, name: str, report, context: Context) -> None:
    if not isinstance(value, dict):
        report(name, "citations must be a mapping: {count: N, as_of: YYYY-MM-DD, source: ...}")
        return
    for part in ("count", "as_of", "source"):
        if value.get(part) in (None, ""):
            report(name, f"citations needs '{part}': {{count: N, as_of: YYYY-MM-DD, source: ...}}")
    if value.get("count") is not None and (not isinstance(value["count"], int) or isinstance(value["count"], bool) or value["count"] < 0):
        report(f"{name}.count", f"citations.count must be a whole number, not {value['count']!r}")
    if value.get("as_of") is not None and not isinstance(value["as_of"], dt.date):
        report(f"{name}.as_of", f"citations.as_of must be a date YYYY-MM-DD, not {value['as_of']!r}")
    for extra in set(value) - {"count", "as_of", "source"}:
        report(f"{name}.{extra}", f"unknown citations field '{extra}'; use count, as_of and source")


def _check_related(value: Any, name: str, report, context: Context) -> None:
    if not isinstance(value, list):
        report(name, "related must be a list of keys, e.g. related: [vaswani2017attention]")
        return
    for index, key in enumerate(value):
        if not isinstance(key, str) or not context.exists(key):
            report(f"{name}[{index}]", f"related key '{key}' is neither a note nor a references.bib entry{did_you_mean(str(key), context.known_keys())}")


def _check_added(value: Any, name: str, report, context: Context) -> None:
    if not isinstance(value, dt.date):
        report(name, f"added must be a date YYYY-MM-DD, not {value!r}")


def _check_reasons(why: str) -> Callable:
    """A ``{label: reason}`` field: every label with a reason that says ``why``."""
    def check_reasons(value: Any, name: str, report, context: Context) -> None:
        if not isinstance(value, dict):
            report(name, f"{name} must map equation labels to reasons: {{label: {why}}}")
            return
        for label, reason in value.items():
            if not isinstance(reason, str) or not reason.strip():
                report(f"{name}.{label}", f"{name} equation '{label}' needs a reason ({why})")
    return check_reasons


CHECKS: dict[str, Callable] = {
    "tags": _check_tags, "tldr": _check_tldr, "lang": _check_lang, "citations": _check_citations,
    "related": _check_related, "added": _check_added,
    "unchecked": _check_reasons("why no check can verify it"),
    "not_evaluated": _check_reasons("why its check cannot evaluate the formula itself"),
}


def _check_kind(source: NoteSource, meta: dict, report, context: Context) -> None:
    kind = meta.get("kind", "paper")
    if kind not in ("paper", "topic"):
        report("kind", f"kind must be 'paper' or 'topic', not {kind!r}")
    elif kind == "paper":
        if source.key not in context.references:
            report("", f"no entry '{source.key}' in references.bib: add the paper's BibTeX entry under this key (or set kind: topic for a topic note){did_you_mean(source.key, context.references)}")
        if "title" in meta:
            report("title", "a paper note takes its title from references.bib; remove 'title' (only kind: topic notes have one)")
    elif not isinstance(meta.get("title"), str) or not meta.get("title"):
        report("kind", "a topic note needs a 'title'")


def _duplicate_keys(sources: list[NoteSource]) -> list[Diagnostic]:
    seen: dict[str, NoteSource] = {}
    problems = []
    for source in sources:
        folded = source.key.lower()
        if folded in seen:
            problems.append(Diagnostic(source.path, 1, f"duplicate key: {seen[folded].path} has the same key up to case; keys are URLs and must be unique"))
        seen.setdefault(folded, source)
    return problems


def to_note(source: NoteSource, taxonomy: Taxonomy) -> Note:
    """The ``Note`` for a source that passed validation."""
    meta = source.front.values
    tags = meta["tags"] if isinstance(meta["tags"], list) else [meta["tags"]]
    categories = tuple(dict.fromkeys(taxonomy.resolve(t).slug for t in tags))
    counts = meta.get("citations")
    return Note(
        key=source.key,
        path=source.path,
        lang=meta.get("lang", "en"),
        categories=categories,
        tldr=" ".join(str(meta["tldr"]).split()),
        body=source.front.body,
        citations=CitationCount(counts["count"], counts["as_of"], str(counts["source"])) if counts else None,
        related=tuple(meta.get("related") or ()),
        added=meta.get("added"),
        cites=source.scan.citations,
        formulas=source.scan.formulas,
        figures=source.scan.figures,
        title=str(meta.get("title", "")),
        unchecked=tuple((str(k), str(v)) for k, v in (meta.get("unchecked") or {}).items()),
        not_evaluated=tuple((str(k), str(v)) for k, v in (meta.get("not_evaluated") or {}).items()),
        source=source.digest,
    )
