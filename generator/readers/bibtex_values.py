"""BibTeX field values as BibTeX reads them: ``{...}``, ``"..."``, bare numbers and ``@string``
macros (the standard month macros ``jan`` ... ``dec`` included), joined with ``#``.

bibtexparser hands the reader each value's raw text (the reader runs it with an empty parse
stack); this module turns it into the string BibTeX would use. Its own macro resolution cannot
do ``#`` concatenation, and once it has removed the braces a braced ``{C# in practice}`` can no
longer be told apart from a concatenation, so every value is resolved here, from the raw text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# BibTeX's plain.bst and biber define these; a .bib file may redefine them with @string
MONTHS = {name[:3].lower(): name for name in (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December")}


@dataclass(frozen=True)
class Value:
    """A resolved value; ``undefined`` lists the macros it used that nothing defines (BibTeX warns
    and reads them as empty)."""

    text: str
    undefined: tuple[str, ...] = ()


def resolve(raw: str, macros: Mapping[str, str]) -> Value:
    """The value of a raw field expression, e.g. ``acm # ", " # {2019}`` with ``acm`` defined."""
    parts, undefined = [], []
    for piece in _pieces(raw):
        if piece[:1] in ('{', '"'):
            parts.append(piece[1:-1])
        elif piece.isdigit():
            parts.append(piece)
        else:
            name = piece.lower()  # macro names are case-insensitive in BibTeX
            if name in macros:
                parts.append(macros[name])
            elif name in MONTHS:
                parts.append(MONTHS[name])
            else:
                undefined.append(piece)
    return Value("".join(parts), tuple(undefined))


def _pieces(raw: str) -> list[str]:
    """The ``#``-separated pieces of an expression; a ``#`` inside braces or quotes is text."""
    pieces, current, depth, quoted = [], [], 0, False
    for char in raw.strip():
        if char == "#" and depth == 0 and not quoted:
            pieces.append("".join(current).strip())
            current = []
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        current.append(char)
    pieces.append("".join(current).strip())
    return [p for p in pieces if p]
