"""Pygments' Python lexer with the same tokens, found about four times faster.

Pygments' ``RegexLexer`` tries a state's rules one after another at each position, and the first that
matches makes the token: at the root of Python that is up to 56 ``match`` calls per token, and those
calls were most of a clean build's highlighting (the checks' code shown on every note page). Here:

1. *First characters.* For each rule, a character class holding every character a match of it can
   start with (``first_characters``, from the parsed pattern; any character when it cannot tell,
   e.g. a pattern that can match the empty string). At a position, only the rules whose class holds
   the character there can match, so the others are left out, which changes nothing.
2. *One alternation.* Those rules are joined into one pattern, ``(p0)|(p1)|...``, in their order.
   Python's ``re`` tries an alternation's branches in order at the same position and nothing follows
   it, so the branch that matches is the first rule that matches, with the same text; the group that
   closed last names it. A rule whose action reads the match's groups (``bygroups``, callbacks) is
   matched again on its own, so the action sees the match it always saw.

The joined patterns are made per (state, character) as the text needs them and kept on the class
(about 120 for Python, 0.2 s once per process). A rule that cannot be joined (a backreference, a
named group, flags other than the lexer's) or whose pattern is very long (the identifiers' class of
every Unicode letter, which would be compiled again into each joined pattern) is matched on its own,
in its place in the order. ``site_tests/test_highlight_lexer.py`` compares the tokens with
``PythonLexer``'s on every Python file of the repository and on random text.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from pygments.lexer import RegexLexer
from pygments.lexers import find_lexer_class_by_name
from pygments.lexers.python import PythonLexer
from pygments.token import Error, Whitespace, _TokenType
from pygments.util import ClassNotFound

ALIAS = "papernotes-python"
# a pattern's leading inline flags, e.g. ``(?i)``: global in its pattern, a scoped group once joined
_LEADING_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_INLINE = {"a": re.ASCII, "i": re.IGNORECASE, "L": re.LOCALE, "m": re.MULTILINE, "s": re.DOTALL, "u": re.UNICODE, "x": re.VERBOSE}
_NOT_JOINABLE = re.compile(r"\\[1-9]|\(\?P[<=]|\(\?\(")


def first_characters(pattern: re.Pattern) -> re.Pattern | None:
    """A class matching every character that a match of ``pattern`` can start with; None when that
    is any character (or the pattern can match the empty string, or its syntax is beyond this)."""
    if not pattern.pattern:
        return None
    try:
        from re import _constants, _parser  # the parser ``re.compile`` itself uses (Python >= 3.11)

        parts, nullable = _first(_parser.parse(pattern.pattern, pattern.flags), _constants)
    except Exception:  # noqa: BLE001 - any surprise means "any character", which is always right
        return None
    if parts is None or nullable:
        return None
    return re.compile("[" + "".join(parts) + "]", pattern.flags & (re.IGNORECASE | re.ASCII | re.LOCALE))


def _first(sequence, c) -> tuple[list[str] | None, bool]:
    """(class items for the first character, whether the sequence can match the empty string);
    None for the items: any character. Lookarounds and anchors match no character: skipped."""
    categories = {c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D", c.CATEGORY_SPACE: r"\s",
                  c.CATEGORY_NOT_SPACE: r"\S", c.CATEGORY_WORD: r"\w", c.CATEGORY_NOT_WORD: r"\W"}
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT))
    items: list[str] = []
    for op, argument in sequence:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        if op is c.LITERAL:
            return items + [re.escape(chr(argument))], False
        if op is c.IN:
            for inner, value in argument:
                if inner is c.LITERAL:
                    items.append(re.escape(chr(value)))
                elif inner is c.RANGE:
                    items.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
                elif inner is c.CATEGORY and value in categories:
                    items.append(categories[value])
                else:  # a negated set, another category
                    return None, False
            return items, False
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, inner = argument
            if add_flags or del_flags:
                return None, False
            found, nullable = _first(inner, c)
        elif op is c.BRANCH:
            found, nullable = [], False
            for branch in argument[1]:
                part, empty = _first(branch, c)
                if part is None:
                    return None, False
                found += part
                nullable = nullable or empty
        elif op in repeats:
            low, _high, inner = argument
            found, nullable = _first(inner, c)
            nullable = nullable or low == 0
        else:  # any character, a backreference, an atomic group...
            return None, False
        if found is None:
            return None, False
        items += found
        if not nullable:
            return items, False
    return items, True


class _Candidates:
    """The rules of a state that can match at a character, as ``steps`` tried in order: a step is
    (match, group -> index of the rule in the state) for rules joined into one pattern, or (match,
    index) for one rule matched by its own pattern (one that cannot be joined, or whose pattern is
    so long that compiling it again into every joined pattern would cost more than it saves: the
    identifier rules, whose class is every Unicode letter)."""

    __slots__ = ("steps",)

    def __init__(self, rules: list, indices: list[int], flags: int) -> None:
        self.steps: list[tuple] = []
        pending: list[int] = []
        for index in indices:
            try:
                if len(rules[index][0].__self__.pattern) > _LONG:
                    raise ValueError("long")
                _branch(rules[index][0].__self__, flags)
            except ValueError:
                self._join(rules, pending, flags)
                self.steps.append((rules[index][0], index))
            else:
                pending.append(index)
        self._join(rules, pending, flags)

    def _join(self, rules: list, indices: list[int], flags: int) -> None:
        """Add ``indices`` (rules that join) as one step, and empty the list."""
        if len(indices) == 1:
            self.steps.append((rules[indices[0]][0], indices[0]))
        elif indices:
            branches, rule_of, group = [], {}, 1
            for index in indices:
                pattern = rules[index][0].__self__
                branches.append(_branch(pattern, flags))
                rule_of[group] = index
                group += 1 + pattern.groups
            try:
                self.steps.append((re.compile("|".join(branches), flags).match, rule_of))
            except re.error:  # e.g. two rules naming the same group: each on its own
                self.steps += [(rules[index][0], index) for index in indices]
        indices.clear()


# a pattern longer than this is matched on its own (``_Candidates``)
_LONG = 1500


def _branch(pattern: re.Pattern, flags: int) -> str:
    """``pattern`` as one capturing branch of an alternation compiled with ``flags``."""
    source = pattern.pattern
    if _NOT_JOINABLE.search(source):
        raise ValueError("a backreference or a named group")
    leading = _LEADING_FLAGS.match(source)
    scoped = ""
    if leading:
        source, scoped = source[leading.end():], leading.group(1)
    implied = flags
    for letter in scoped:
        implied |= _INLINE[letter]
    if source and (pattern.flags | re.UNICODE) != (implied | re.UNICODE):  # ``default()`` is '' with no flags
        raise ValueError("flags other than the lexer's")
    return f"((?{scoped}:{source}))" if scoped else f"({source})"


class FirstCharacterLexer(RegexLexer):
    """A ``RegexLexer`` that matches, at each position, only the rules that can start with the
    character there, joined into one pattern (the module's docstring says why the tokens are the
    same). Mix it in before the lexer it speeds up."""

    @classmethod
    def _candidates_at(cls, state: str, character: str) -> _Candidates:
        """The candidates of ``state`` at ``character``, made once per class: by (state, character),
        and by the rules they hold (compiling a joined pattern is the costly part, and the letters
        that start no keyword share theirs)."""
        if "_made" not in cls.__dict__:
            cls._made, cls._by_rules, cls._first_classes = {}, {}, {}
        firsts = cls._first_classes.get(state)
        if firsts is None:
            firsts = cls._first_classes[state] = [first_characters(rule[0].__self__) for rule in cls._tokens[state]]
        indices = tuple(i for i, first in enumerate(firsts) if first is None or (character and first.match(character)))
        candidates = cls._by_rules.get((state, indices))
        if candidates is None:
            candidates = cls._by_rules[state, indices] = _Candidates(cls._tokens[state], list(indices), cls.flags)
        cls._made[state, character] = candidates
        return candidates

    def get_tokens_unprocessed(self, text: str, stack=("root",)) -> Iterator[tuple[int, object, str]]:
        tokendefs = self._tokens
        self._candidates_at("root", "")  # the class's tables exist
        made = self._made
        pos = 0
        statestack = list(stack)
        while True:
            # '' past the end, where only rules that can match the empty string are tried, as in Pygments
            state, character = statestack[-1], text[pos:pos + 1]
            candidates = made.get((state, character)) or self._candidates_at(state, character)
            rule = own = None
            for match, found in candidates.steps:
                m = match(text, pos)
                if m is not None:
                    if type(found) is int:  # one rule's own match
                        rule, own, token_text, token_end = tokendefs[state][found], m, m.group(), m.end()
                    else:
                        group = m.lastindex
                        rule, token_text, token_end = tokendefs[state][found[group]], m.group(group), m.end(group)
                    break
            if rule is None:  # no rule matched: as RegexLexer, a newline goes back to the root, else an error
                if not character:
                    break
                if character == "\n":
                    statestack = ["root"]
                    yield pos, Whitespace, "\n"
                else:
                    yield pos, Error, character
                pos += 1
                continue
            rexmatch, action, new_state = rule
            if action is not None:
                if type(action) is _TokenType:
                    yield pos, action, token_text
                else:
                    yield from action(self, own or rexmatch(text, pos))
            pos = token_end
            if new_state is not None:
                _transition(statestack, new_state)


def _transition(statestack: list[str], new_state) -> None:
    """``RegexLexer.get_tokens_unprocessed``'s state change, in place."""
    if isinstance(new_state, tuple):
        for state in new_state:
            if state == "#pop":
                if len(statestack) > 1:
                    statestack.pop()
            elif state == "#push":
                statestack.append(statestack[-1])
            else:
                statestack.append(state)
    elif isinstance(new_state, int):  # pop, keeping at least one state
        if abs(new_state) >= len(statestack):
            del statestack[1:]
        else:
            del statestack[new_state:]
    elif new_state == "#push":
        statestack.append(statestack[-1])
    else:
        raise AssertionError(f"wrong state def: {new_state!r}")


class FastPythonLexer(FirstCharacterLexer, PythonLexer):
    """Pygments' ``PythonLexer``, tokens and all, under the alias ``papernotes-python`` (a Pygments
    plugin: pyproject's ``pygments.lexers`` entry point). Its name is Python's, so a listing's
    automatic title is the same."""

    name = PythonLexer.name
    aliases = [ALIAS]
    filenames: list[str] = []
    mimetypes: list[str] = []


def pymdownx_languages() -> list[dict]:
    """pymdownx.highlight's ``extend_pygments_lang`` entries that send Python's blocks to
    ``FastPythonLexer``, when Pygments finds it (a plugin of the installed package); else none, and
    Pygments' own lexer does the work."""
    try:  # the class, as pymdownx will find it; not an instance (that compiles its 437 rules)
        find_lexer_class_by_name(ALIAS)
    except ClassNotFound:
        return []
    return [{"name": alias, "lang": ALIAS} for alias in PythonLexer.aliases if alias.startswith("py")]
