"""Highlighted code blocks kept across builds: every fenced block of the site (the checks' code shown
on each note page, the Cite boxes, the notes' own listings) goes through pymdownx.superfences' own
highlighter once per distinct block, then comes from ``build/cache``.

The cache is the fence formatter for every language (superfences' ``custom_fences`` entry ``*``):
on a miss it calls the highlighter superfences would have called, with the same arguments, so the
HTML is the same by construction. The key is the block, its fence options and attributes, the
generator's fingerprint and the bytes of ``mkdocs.yml`` (where the highlighter is configured)."""
from __future__ import annotations

import json

from ..content_cache import ContentCache, digest


class HighlightCache:
    def __init__(self, store: ContentCache, version: str) -> None:
        self._store = store
        self._version = version
        self._new: dict[str, str] = {}

    def fence(self, src: str, language: str, class_name: str, options: dict, md, **kwargs) -> str:
        """A superfences ``format`` function."""
        key = digest("highlight", self._version, language, src, json.dumps(options, sort_keys=True, default=str),
                     json.dumps(kwargs, sort_keys=True, default=str))
        cached = self._new.get(key) or self._store.get_many([key]).get(key)
        if cached is None:
            cached = md.preprocessors["fenced_code_block"].highlight(src=src, language=language, options=dict(options), md=md, **kwargs)
            self._new[key] = cached
        return cached

    def fences(self) -> list[dict]:
        """The ``custom_fences`` entry that routes every fence through ``fence``."""
        from pymdownx.superfences import highlight_validator

        return [{"name": "*", "class": "highlight", "format": self.fence, "validator": highlight_validator}]

    def save(self) -> None:
        """Write the blocks highlighted in this build (one transaction)."""
        self._store.put_many(self._new)
        self._new = {}
