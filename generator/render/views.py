"""View models: everything a template prints, decided here (templates only loop and print)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup

from ..checks.verification import BADGES, Verification
from ..content_cache import digest
from ..model import LANGUAGES, KnowledgeBase, Note, Reference
from . import charts, urls
from .note_body import citation_label, rewrite_body, tex_as_code
from .text import html_text_with_math, md_text, md_text_with_math, page_title


@dataclass(frozen=True)
class Link:
    text: str
    url: str
    title: str = ""


@dataclass(frozen=True)
class Authors:
    """A paper's names for a card or a table row: ``short`` is what is shown; when it leaves names
    out (``First, Second, … et al.``), ``full`` is the whole list, one click or a hover away."""
    short: str
    full: str

    @property
    def shortened(self) -> bool:
        return self.short != self.full


@dataclass(frozen=True)
class Summary:
    """A note listed with its TL;DR, which is in the note's language."""
    text: str
    url: str
    tldr: str
    lang: str


@dataclass(frozen=True)
class NoteView:
    key: str
    title: str
    page_title: str
    authors: Authors
    year: str
    venue: str
    links: tuple[Link, ...]
    tags: tuple[Link, ...]
    tldr: str
    citations: str
    bibtex: str
    bibtex_fence: str
    lang: str
    lang_name: str
    body: str
    related: tuple[Link, ...]
    backlinks: tuple[Link, ...]
    checks: tuple["CheckView", ...] = ()
    snippet: str = ""


@dataclass(frozen=True)
class CheckView:
    function: str
    equations: tuple[Link, ...]
    state: str
    status: str
    include: str  # a pymdownx.snippets line range: the code shown is the snippet file itself


@dataclass(frozen=True)
class Row:
    year: int | None  # sorts the table
    year_label: str   # what the cell shows: 2023a
    paper: Link
    authors: Authors
    venue: str
    citations: int | None
    citations_text: str


@dataclass(frozen=True)
class CategoryView:
    slug: str
    title: str
    description: str
    rows: tuple[Row, ...]
    url: str = ""
    page_title: str = ""

    @property
    def filterable(self) -> bool:
        """A filter box above the table once it is longer than a screen."""
        return len(self.rows) > FILTER_FROM


def title_of(kb: KnowledgeBase, key: str) -> str:
    reference = kb.reference(key)
    return reference.title if reference else kb.notes[key].title


def _authors(reference: Reference | None) -> str:
    """Every name, as the note card and the bibliography print them; editors marked ``(ed.)``."""
    if not reference:
        return ""
    names = [a for a in reference.names if a != "others"]
    text = ", ".join(names) + (" et al." if "others" in reference.names else "")
    return f"{text} {reference.editor_mark}" if reference.editor_mark else text


FILTER_FROM = 15  # rows; a longer category table gets a filter box
SHOWN_NAMES = 3  # more names than this shorten to the first two


def authors_of(reference: Reference | None) -> Authors:
    full = _authors(reference)
    names = [a for a in reference.names if a != "others"] if reference else []
    if len(names) <= SHOWN_NAMES:
        return Authors(full, full)
    short = f"{names[0]}, {names[1]}, … et al." + (f" {reference.editor_mark}" if reference.editor_mark else "")
    return Authors(short, full)


def _citations_text(note: Note) -> str:
    c = note.citations
    return f"{c.count:,} citations ({c.source}, as of {c.as_of.isoformat()})" if c else ""


def _md_links(kb: KnowledgeBase, from_docs: str, keys) -> tuple[Link, ...]:
    """Markdown links (mkdocs checks them) to notes, or to bibliography entries when there is no note."""
    links = []
    for key in keys:
        target = urls.note_page(key) if key in kb.notes else urls.BIBLIOGRAPHY
        anchor = "" if key in kb.notes else urls.anchor(key)
        text, title = citation_label(kb, key)
        links.append(Link(md_text(title_of(kb, key)), urls.md_link(from_docs, target, anchor), md_text(text)))
    return tuple(links)


def _status_text(result) -> str:
    if result is None:
        return "not run yet"
    if result.status == "passed":
        error = f", max error {result.max_error:.1e} (tolerance {result.tolerance:.0e})" if result.max_error is not None else ""
        return f"passed on {result.device} in {result.seconds:.2f} s with torch {result.torch}{error}"
    return f"{result.status} on {result.device}: {result.message.splitlines()[0] if result.message else ''}"


def check_views(note: Note, verification: Verification) -> tuple[CheckView, ...]:
    views = []
    for spec in verification.checks_of(note.key):
        result = verification.result(spec)
        equations = tuple(Link(e.split("/", 1)[1], f"#eq-{e.split('/', 1)[1]}") for e in spec.equations)
        state = BADGES[result.status if result else "not-run"][0]
        views.append(CheckView(spec.function, equations, state, _status_text(result),
                               Markup(f'--8<-- "{spec.file}:{spec.first_line}:{spec.last_line}"')))
    return tuple(views)


def note_view(kb: KnowledgeBase, note: Note, verification: Verification) -> NoteView:
    page = urls.note_page(note.key)
    reference = kb.reference(note.key)
    links = []
    if reference and reference.eprint:
        links.append(Link(f"arXiv:{reference.eprint}", reference.arxiv_url))
    if reference and reference.doi:
        links.append(Link(f"DOI:{reference.doi}", reference.doi_url))
    if reference and reference.url and reference.url not in (reference.arxiv_url, reference.doi_url):
        links.append(Link("Paper", reference.url))
    tags = tuple(Link(kb.taxonomy.get(s).title, urls.href(page, urls.category_page(s))) for s in note.categories)
    bibtex = reference.bibtex if reference else ""
    longest_backticks = max((len(run) for run in re.findall("`+", bibtex)), default=0)
    return NoteView(
        key=note.key,
        title=md_text(title_of(kb, note.key)),
        page_title=page_title(title_of(kb, note.key)),
        authors=authors_of(reference),
        year=reference.year_label if reference else "",
        venue=reference.venue if reference else "",
        links=tuple(links),
        tags=tags,
        tldr=html_text_with_math(note.tldr),
        citations=_citations_text(note),
        bibtex=bibtex,
        bibtex_fence="`" * max(3, longest_backticks + 1),
        lang=note.lang,
        lang_name=LANGUAGES[note.lang],
        body=Markup(rewrite_body(kb, note, verification.badge, verification.figure)),  # the author's own Markdown
        related=_md_links(kb, page, note.related),
        backlinks=_md_links(kb, page, kb.backlinks.get(note.key, ())),
        checks=check_views(note, verification),
        snippet=f"runnable_snippets/{note.key}.py",
    )


def shared_note_inputs(kb: KnowledgeBase) -> str:
    """What a note's page may read of the rest of the knowledge base: every bibliography entry (a
    cited or linked key's title, authors, year), which keys have notes and their own titles, and
    the taxonomy (its tags' titles). A digest; with ``note_inputs`` it keys the rendered page."""
    notes = tuple((key, note.title) for key, note in kb.notes.items())
    return digest(repr(sorted(kb.references.items())), repr(notes), repr(kb.taxonomy))


def note_inputs(kb: KnowledgeBase, note: Note, verification: Verification) -> str:
    """All that ``note_view`` reads of its own note and of the checks (their views, the badge of
    each labelled equation, each figure shown), with who links to it. Keep in step with
    ``note_view``: a value it reads that is not here leaves a page stale (``test_page_memo``)."""
    # a note read from a file is made of the file and the taxonomy (a shared input): its digest stands for it
    return digest(note.source or repr(note), repr(kb.backlinks.get(note.key, ())),
                  verification.inputs_of_note(note.key, tuple(f"{note.key}/{f.label}" for f in note.formulas if f.label)))


def index_inputs(kb: KnowledgeBase, verification: Verification) -> str:
    """All that the index pages (``pages.index_contexts``) read, as a digest: the knowledge base but
    the notes' prose and what is found in it (citations, figures, where a formula is: lists show
    none of these, so a prose edit leaves the digest as it was), the checks and their results.
    Keep in step with the index views: a value they read that is not here leaves a list stale
    (``test_page_memo`` changes each field of a note and compares)."""
    notes = (repr((n.key, n.path, n.lang, n.categories, n.tldr, n.citations, n.related, n.added, n.title, n.unchecked,
                   n.not_evaluated, tuple((f.label, f.tex, f.display) for f in n.formulas if f.label)))
             for n in kb.notes.values())
    results = (f"{check}={result.identity}" for check, result in sorted(verification.results.items()))
    return digest(repr(kb.taxonomy), repr(sorted(kb.references.items())), *(spec.text for spec in verification.specs),
                  "results", *results, "notes", *notes)


def category_view(kb: KnowledgeBase, slug: str, from_docs: str, made: dict[tuple[str, str], Row] | None = None) -> CategoryView:
    """``made``: the rows made so far for other categories, by note and link, filled in (a note's row
    is the same in each category it is tagged with, and on each page at the same depth)."""
    category = kb.taxonomy.get(slug)
    made = {} if made is None else made
    rows = []
    for note in kb.notes_tagged(slug):
        href = urls.href(from_docs, urls.note_page(note.key))
        if (note.key, href) not in made:
            made[note.key, href] = _row(kb, note, href)
        rows.append(made[note.key, href])
    rows.sort(key=lambda r: (-(r.year or 0), r.paper.text))
    return CategoryView(slug, category.title, category.description, tuple(rows),
                        urls.href(urls.CATEGORIES, urls.category_page(slug)), page_title(category.title))


def _row(kb: KnowledgeBase, note: Note, href: str) -> Row:
    reference = kb.reference(note.key)
    return Row(
        year=reference.year if reference else None,
        year_label=reference.year_label if reference else "",
        paper=Link(title_of(kb, note.key), href),
        authors=authors_of(reference),
        venue=reference.venue if reference else "",
        citations=note.citations.count if note.citations else None,
        citations_text=(f"{note.citations.count:,} (as of {note.citations.as_of.isoformat()})" if note.citations else "–"),
    )


def timeline(kb: KnowledgeBase) -> list[tuple[str, list[Link]]]:
    by_year: dict[str, list[Link]] = defaultdict(list)
    for note in kb.notes.values():
        reference = kb.reference(note.key)
        year = str(reference.year) if reference and reference.year else "Topics"
        label, _ = citation_label(kb, note.key)
        by_year[year].append(Link(md_text(title_of(kb, note.key)), urls.md_link(urls.TIMELINE, urls.note_page(note.key)),
                                  md_text(label if reference else ", ".join(kb.taxonomy.get(s).title for s in note.categories))))
    ordered = sorted(by_year.items(), key=lambda item: (item[0] == "Topics", -int(item[0]) if item[0].isdigit() else 0))
    return [(year, sorted(links, key=lambda link: link.text)) for year, links in ordered]


def bibliography(kb: KnowledgeBase) -> list[dict]:
    entries = []
    for reference in sorted(kb.references.values(), key=lambda r: (_sort_name(r), r.year or 0, r.key)):
        links = [Link(f"arXiv:{reference.eprint}", reference.arxiv_url)] if reference.eprint else []
        if reference.doi:
            links.append(Link(f"DOI:{reference.doi}", reference.doi_url))
        note = Link("Note", urls.href(urls.BIBLIOGRAPHY, urls.note_page(reference.key))) if reference.key in kb.notes else None
        entries.append({"key": reference.key, "alias": _alias(reference.key), "authors": _authors(reference), "year": reference.year_label or "n.d.",
                        "title": reference.title, "venue": reference.venue, "links": links, "note": note})
    return entries


def _alias(key: str) -> str:
    """A second anchor for a key its fragment must percent-encode (``a%b``, ``a"b``): browsers find
    the id with the fragment as written, or decoded; mkdocs' anchor check only as written."""
    escaped = urls.anchor(key)
    return escaped if escaped != key else ""


def _sort_name(reference: Reference) -> str:
    first = reference.names[0] if reference.names else ""
    return first.split()[-1].lower() if first else ""


def home(kb: KnowledgeBase, verification: Verification, categories: list[CategoryView] | None = None) -> dict:
    """``categories``: every category's view as the categories page lists it, when already made."""
    if categories is None:
        categories = [category_view(kb, c.slug, urls.CATEGORIES) for c in kb.taxonomy.categories]
    languages = sorted({n.lang for n in kb.notes.values()})
    recent = sorted(kb.notes.values(), key=lambda n: (n.added.isoformat() if n.added else "", n.key), reverse=True)[:8]
    return {
        "counts": [(len(kb.notes), "notes"), (len(kb.references), "references"),
                   (sum(1 for c in categories if c.rows), "categories in use"), (len(languages), "languages"),
                   (share(len(verification.coverage.evaluated), len(verification.coverage.equations)),
                    "of the equations evaluated from their own formula")],
        "chart": charts.chart_json(charts.notes_per_year(kb)),
        "categories": [Link(md_text(c.title), urls.md_link(urls.HOME, urls.category_page(c.slug)), str(len(c.rows)))
                       for c in categories if c.rows],
        "recent": [Summary(md_text(title_of(kb, n.key)), urls.md_link(urls.HOME, urls.note_page(n.key)), md_text_with_math(n.tldr), n.lang)
                   for n in recent],
    }


def share(part: int, total: int) -> str:
    return f"{100 * part / total:.0f}%" if total else "n/a"


def verification_page(kb: KnowledgeBase, verification: Verification) -> dict:
    """Every check with its result, and every equation's state."""
    rows = []
    for spec in verification.specs:
        result = verification.result(spec)
        rows.append({
            "check": spec.function, "note": Link(md_text(spec.key), urls.md_link(urls.VERIFICATION, urls.note_page(spec.key), f"check-{spec.function}")),
            "equations": len(spec.equations), "state": BADGES[result.status if result else "not-run"][0],
            "status": result.status if result else "not run", "device": result.device if result else "",
            "seconds": f"{result.seconds:.2f}" if result else "", "torch": result.torch if result else "",
            "date": result.date[:10] if result else "",
        })
    cov = verification.coverage
    checked = [e for e in cov.equations if e.id in cov.checked]
    verified = [e for e in checked if verification.badge(e.id).state == "verified"]

    def equation_link(e) -> Link:
        return Link(md_text(e.id), urls.md_link(urls.VERIFICATION, urls.note_page(e.note), f"eq-{e.label}"))

    total = len(cov.equations)
    return {
        "counts": [(total, "equations with an id"), (len(verified), "verified"),
                   (len(cov.evaluated), "evaluated from the note's own formula"),
                   (len(cov.bound), "checked by code written for the formula"),
                   (len(cov.unchecked), "unchecked, with a reason"), (len(cov.uncovered), "without a check yet")],
        "verified_share": share(len(verified), total),
        "evaluated_share": share(len(cov.evaluated), total),
        "not_evaluated": [(equation_link(e), Markup(tex_as_code(cov.not_evaluated.get(e.id, "no reason given yet"))))
                          for e in cov.bound],
        "rows": rows,
        "unchecked": [(equation_link(e), md_text(cov.unchecked[e.id])) for e in cov.equations if e.id in cov.unchecked],
        "uncovered": [equation_link(e) for e in cov.uncovered],
    }
