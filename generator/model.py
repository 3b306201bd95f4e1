"""The knowledge base's records: frozen dataclasses, created once by the readers, never mutated."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

LANGUAGES = {"en": "English", "zh": "中文", "ru": "Русский"}


@dataclass(frozen=True)
class Category:
    """A taxonomy category: ``slug`` is what notes write in ``tags`` (or one of ``aliases``)."""

    slug: str
    title: str
    description: str
    aliases: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]

    def resolve(self, tag: str) -> Category | None:
        """The category a tag names, by slug or alias (case-insensitive); None if unknown."""
        wanted = tag.strip().lower()
        for category in self.categories:
            if wanted == category.slug or wanted in category.aliases:
                return category
        return None

    def names(self) -> list[str]:
        """Every spelling a note may use: slugs and aliases."""
        return [n for c in self.categories for n in (c.slug, *c.aliases)]

    def get(self, slug: str) -> Category:
        return next(c for c in self.categories if c.slug == slug)


@dataclass(frozen=True)
class Reference:
    """One ``references.bib`` entry, decoded for display; ``bibtex`` is the entry's own text.

    ``editors`` is set only for an entry without authors (an edited book); ``year_suffix`` is the
    letter of a disambiguated year (``2023a``): ``year`` is the number, ``year_label`` what is shown."""

    key: str
    entry_type: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    venue: str
    editors: tuple[str, ...] = ()
    year_suffix: str = ""
    eprint: str = ""
    doi: str = ""
    url: str = ""
    bibtex: str = ""
    line: int = 0

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.eprint}" if self.eprint else ""

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def year_label(self) -> str:
        return f"{self.year}{self.year_suffix}" if self.year else ""

    @property
    def names(self) -> tuple[str, ...]:
        """Who the entry is by: its authors, or its editors when it has none."""
        return self.authors or self.editors

    @property
    def editor_mark(self) -> str:
        """``(ed.)`` / ``(eds.)`` after the names of an edited entry, else ``""``."""
        if self.authors or not self.editors:
            return ""
        return "(ed.)" if len([n for n in self.editors if n != "others"]) == 1 and "others" not in self.editors else "(eds.)"

    def short_authors(self) -> str:
        """``Vaswani et al.``, ``Kingma and Ba``, ``Rendle`` or ``Doe (ed.)``: surnames for link text."""
        names = self.names
        surnames = [a.split()[-1] if a else "" for a in names if a != "others"]
        mark = f" {self.editor_mark}" if self.editor_mark else ""
        if not surnames:
            return "Anonymous"
        if len(surnames) == 1 and "others" not in names:
            return surnames[0] + mark
        if len(surnames) == 2 and "others" not in names:
            return f"{surnames[0]} and {surnames[1]}{mark}"
        return f"{surnames[0]} et al.{mark}"


@dataclass(frozen=True)
class Citation:
    """One ``[@key]`` (or ``[@a; @b]``) in a note body: ``start``/``end`` are offsets in the body."""

    keys: tuple[str, ...]
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Formula:
    """A formula in a note body. ``label`` is the ``{#eq:label}`` after a display formula, if any."""

    tex: str
    display: bool
    line: int
    label: str = ""
    start: int = 0
    end: int = 0
    indent: str = ""


@dataclass(frozen=True)
class FigureRef:
    """A ``{#fig:label}`` line: where a chart produced by one of the note's checks is drawn."""

    label: str
    line: int
    start: int
    end: int
    indent: str = ""


@dataclass(frozen=True)
class CitationCount:
    count: int
    as_of: dt.date
    source: str


@dataclass(frozen=True)
class Note:
    """A note as the site shows it; produced from a validated ``NoteSource``."""

    key: str
    path: str
    lang: str
    categories: tuple[str, ...]  # category slugs, aliases resolved, in the order written
    tldr: str
    body: str
    citations: CitationCount | None = None
    related: tuple[str, ...] = ()
    added: dt.date | None = None
    cites: tuple[Citation, ...] = ()
    formulas: tuple[Formula, ...] = ()
    figures: tuple[FigureRef, ...] = ()
    title: str = ""  # only topic notes (no BibTeX entry) carry their own title
    unchecked: tuple[tuple[str, str], ...] = ()  # (equation label, why no check can verify it)
    not_evaluated: tuple[tuple[str, str], ...] = ()  # (equation label, why its check cannot evaluate the LaTeX)
    # the digest of the note's file (``NoteSource.digest``): with the taxonomy, all a note is made of,
    # so it stands for the whole note where a digest of it is wanted ("" when not read from a file)
    source: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the renderer needs, cross-referenced once."""

    notes: dict[str, Note]
    references: dict[str, Reference]
    taxonomy: Taxonomy
    backlinks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def notes_tagged(self, slug: str) -> list[Note]:
        return [n for n in self.notes.values() if slug in n.categories]

    def reference(self, key: str) -> Reference | None:
        return self.references.get(key)
