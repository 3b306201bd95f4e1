"""Problems found in the inputs, as plain values collected across a whole run.

A stage never prints or exits: it returns ``Diagnostic`` records; the CLI reports them together
as ``path:line: message`` (like pytest and mkdocs) and decides the exit code.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in one input file. ``line`` is 1-based; 0 means "the file as a whole".

    An error is a mistake that stops the build; a warning is a matter of style (a long TL;DR, a
    missing ``added:``): it is printed and passes, except under ``validate --strict``."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" fails the build; "warning" fails it under --strict

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {'warning: ' if self.severity == 'warning' else ''}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def sorted_report(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in reading order: by file, then line; duplicates removed."""
    return sorted(set(diagnostics))
