"""Enrich: turn validated sources into the cross-referenced ``KnowledgeBase``."""
from __future__ import annotations

from collections import defaultdict

from .model import KnowledgeBase, Reference, Taxonomy
from .readers.notes import NoteSource
from .validate import to_note


def assemble(sources: list[NoteSource], taxonomy: Taxonomy, references: dict[str, Reference]) -> KnowledgeBase:
    """The knowledge base of validated ``sources``, with backlinks (who cites or relates to whom)."""
    notes = {s.key: to_note(s, taxonomy) for s in sources}
    linked_from: dict[str, list[str]] = defaultdict(list)
    for note in notes.values():
        targets = [k for c in note.cites for k in c.keys] + list(note.related)
        for target in dict.fromkeys(targets):
            if target != note.key:
                linked_from[target].append(note.key)
    backlinks = {key: tuple(sorted(set(keys))) for key, keys in linked_from.items()}
    return KnowledgeBase(notes=dict(sorted(notes.items())), references=references,
                         taxonomy=taxonomy, backlinks=backlinks)
