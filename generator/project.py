"""Where a knowledge base's inputs and outputs live, relative to its root folder."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def notes(self) -> Path:
        return self.root / "notes"

    @property
    def taxonomy(self) -> Path:
        return self.root / "taxonomy.yml"

    @property
    def bibliography(self) -> Path:
        return self.root / "references.bib"

    @property
    def mkdocs_config(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def site(self) -> Path:
        """The published site: a symbolic link to the last good build, swapped atomically."""
        return self.root / "site"

    @property
    def work(self) -> Path:
        """Scratch space for builds in progress (git-ignored)."""
        return self.root / "build"

    @property
    def snippets(self) -> Path:
        return self.root / "runnable_snippets"

    @property
    def check_results(self) -> Path:
        """The last result of every check, which ``papernotes build`` shows on the site."""
        return self.work / "checks" / "results.json"

    @property
    def check_cache(self) -> Path:
        return self.work / "checks" / "cache"

    @property
    def cache(self) -> Path:
        """Content-addressed artefacts reused across builds (rendered math, highlighted code)."""
        return self.work / "cache"

    def display(self, path: Path) -> str:
        """``path`` as messages show it: relative to the root."""
        text, root = str(path), str(self.root)
        if text.startswith(root + os.sep):  # what ``relative_to`` gives, for a fraction of its cost (once per input per build)
            return text[len(root) + len(os.sep):]
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def inputs(self) -> list[Path]:
        """What a rebuild depends on (watched by ``papernotes serve``)."""
        return [self.notes, self.taxonomy, self.bibliography, self.mkdocs_config, self.snippets, self.check_results]
