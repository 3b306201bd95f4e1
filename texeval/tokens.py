"""Split LaTeX math into tokens, each with its 1-based column.

A token is a number (``3.5``), a letter (``x``: math letters are single symbols, so ``kn`` is ``k n``),
a word (``step\\_num``: letters joined by ``\\_``, and the content of ``\\text{...}``, ``\\mathrm{...}``,
``\\operatorname{...}`` when it is plain words), a command (``\\frac``), or one character of
punctuation (``+ ( { ^ _ ' |`` ...). Spacing commands (``\\, \\; \\! \\quad``) and ``\\displaystyle``
vanish here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import TexEvalError

SPACING = frozenset({r"\,", r"\;", r"\:", r"\!", r"\ ", r"\quad", r"\qquad", r"\displaystyle", r"\textstyle",
                     r"\limits", r"\nolimits", r"\middle", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr",
                     r"\Bigl", r"\Bigr", r"\biggl", r"\biggr", r"\Biggl", r"\Biggr", r"\enspace", r"\thinspace"})
# commands whose braced argument is words, read raw (spaces, ``\,`` and ``\_`` kept as the word's text)
WORD_COMMANDS = frozenset({r"\text", r"\mathrm", r"\operatorname", r"\operatorname*", r"\textrm", r"\mathit",
                           r"\textit", r"\textnormal", r"\mathsf", r"\texttt", r"\mathtt"})
PLAIN_WORDS = re.compile(r"^(?:[A-Za-z0-9 ]|\\_|\\,|\\;|\\ |-)*$")
TOKEN = re.compile(r"""
    (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<word>[A-Za-z][A-Za-z0-9]*(?:\\_[A-Za-z0-9]+)+)
  | (?P<letter>[A-Za-z])
  | (?P<command>\\(?:operatorname\*|[A-Za-z]+|.))
  | (?P<space>\s+)
  | (?P<punct>[-+*/=()\[\]{}^_'|,.!<>:;&~])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # number | word | letter | command | punct | end
    text: str
    column: int


def tokenize(tex: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    position = 0
    while position < len(tex):
        match = TOKEN.match(tex, position)
        if not match:
            raise TexEvalError(repr(tex[position]), position + 1, "texeval does not know this character")
        kind, text = match.lastgroup, match.group()
        if kind == "command" and text in WORD_COMMANDS:
            word = _braced_words(tex, match.end())
            if word is not None:  # \text{...} stays raw (prose or a word); the others are names
                content, end = word
                tokens.append(Token("text" if text == r"\text" else "word", content, position + 1))
                position = end
                continue
        if kind == "word":
            text = text.replace("\\_", "_")
        if kind != "space" and text not in SPACING:
            tokens.append(Token(kind, text, position + 1))
        position = match.end()
    tokens.append(Token("end", "", len(tex) + 1))
    return tuple(tokens)


def _braced_words(tex: str, start: int) -> tuple[str, int] | None:
    """The plain-word content of ``{...}`` at ``start`` (spaces around it skipped) and the end offset."""
    match = re.compile(r"\s*\{([^{}]*)\}").match(tex, start)
    if not match or not PLAIN_WORDS.match(match.group(1)):
        return None
    return match.group(1), match.end()
