"""LaTeX tokens -> the expression tree (``tree.py``), by recursive descent.

Precedence, loosest first: relations (split off before parsing, see :func:`formula`), ``+ -``,
products (``\\cdot \\times * / \\odot \\otimes`` and juxtaposition), unary minus, postfix (``^ _ ' !``),
atoms. A function without parentheses (``\\log x_i``) and a big operator (``\\sum_i a_i b_i``) take
the product that follows, up to the next ``+``, ``-`` or relation. Nesting deeper than
:data:`MAX_DEPTH` is an error, never a RecursionError.
"""
from __future__ import annotations

import functools

from . import tree
from .errors import TexEvalError
from .tokens import Token, tokenize
from .vocabulary import (ACCENTS, BIG_OPERATORS, CONDITIONS, FONTS, FUNCTIONS, GREEK, OPENERS, RELATIONS)

MAX_DEPTH = 48
OPENING = {"(", "[", "{", r"\{", r"\left", r"\langle", r"\lfloor", r"\lceil", r"\lvert", r"\lVert", r"\begin"}
CLOSING = {")", "]", "}", r"\}", r"\right", r"\rangle", r"\rfloor", r"\rceil", r"\rvert", r"\rVert", r"\end"}
PRODUCT_OPERATORS = {r"\cdot": "cdot", r"\times": "*", "*": "*", "/": "/", r"\odot": "odot", r"\otimes": "otimes",
                     r"\circ": "circ"}
TRANSPOSES = {r"\top", r"\intercal", r"\mathsf{T}", r"\mathrm{T}"}
LABELS = {"*": "*", r"\star": "*", r"\ast": "*", r"\dagger": "dagger", "-": "-", "+": "+"}
SLICES = frozenset({"<", "<=", ">", ">="})
ELLIPSES = (r"\ldots", r"\dots", r"\cdots", r"\dotsc")
ARGUMENT_SEPARATORS = frozenset({",", r"\mid", ";", r"\|", r"\parallel", r"\Vert"})
PREFERENCES = (r"\succ", r"\prec")  # only between the two arguments of a bracket call: P[a \succ b]
SET_OPERATORS = {r"\cup": "cup", r"\setminus": "setminus", r"\cap": "cap"}
MATRICES = frozenset({"bmatrix", "pmatrix", "matrix", "Bmatrix"})
MOMENT_NAMES = {"Var": "var", "E": "mean"}  # \mathrm{Var}[x], E[x]: over the check's samples=
ALIGNED = frozenset({"aligned", "align", "align*", "gathered", "split"})


@functools.lru_cache(maxsize=4096)
def formula(tex: str) -> tree.Formula:
    """Split ``tex`` into clauses (top-level commas) and sides (top-level relations); sides stay unparsed."""
    tokens = display_tokens(tex)
    clauses, sides, relations = [], [], []
    start, depth, k = 0, 0, 0
    body = list(tokens[:-1])
    while body and body[-1].kind == "punct" and body[-1].text in ".,":  # sentence punctuation after a display
        body.pop()
    stop_all = len(body)

    def close_side(stop: int, at: Token) -> None:
        if stop == start:
            raise TexEvalError(at.text or "the formula", at.column, "a side of this relation is empty")
        sides.append(tree.Side(start, stop, tokens[start].column, tex[tokens[start].column - 1:tokens[stop].column - 1].strip()))

    while k < stop_all:
        token = body[k]
        if token.text in (r"\left", r"\right"):
            depth += 1 if token.text == r"\left" else -1
            k += 2
            continue
        if token.kind in ("punct", "command") and token.text in OPENING:
            depth += 1
        elif token.kind in ("punct", "command") and token.text in CLOSING:
            depth -= 1
        elif depth == 0 and token.kind in ("punct", "command"):
            relation = RELATIONS.get(token.text)
            width = 1
            if token.text == ":" and k + 1 < stop_all and body[k + 1].text == "=":
                relation, width = "=", 2
            if relation:
                close_side(k, token)
                relations.append(relation)
                start = k + width
                k += width
                continue
            if token.text == ",":
                close_side(k, token)
                clauses.append(tree.Clause(tuple(sides), tuple(relations)))
                sides, relations, start = [], [], k + 1
        k += 1
    close_side(stop_all, tokens[-1])
    clauses.append(tree.Clause(tuple(sides), tuple(relations)))
    return tree.Formula(tex, tuple(clauses))


@functools.lru_cache(maxsize=4096)
def side(tex: str, start: int, stop: int) -> tree.Node:
    """The expression tree of tokens ``start:stop`` of ``tex`` (one side of a relation)."""
    tokens = display_tokens(tex)
    parser = Parser(tokens[start:stop] + (tree_end(tokens, stop),))
    node = parser.expression()
    parser.expect_end()
    return node


@functools.lru_cache(maxsize=4096)
def display_tokens(tex: str) -> tuple[Token, ...]:
    """The tokens of ``tex``; in a display that is one ``\\begin{aligned}`` block (or align, gathered, split),
    each row is a clause (a row break ``\\\\`` reads as a top-level comma) and the alignment marks ``&`` are
    dropped. Sentence punctuation may follow ``\\end{aligned}``."""
    tokens = tokenize(tex)
    opening = _environment_name(tokens, 0)
    if opening is None or opening[0] not in ALIGNED:
        return tokens
    ends = [k for k, t in enumerate(tokens) if t.text == r"\end"]
    closing = _environment_name(tokens, ends[-1]) if ends else None
    if closing is None or closing[0] != opening[0]:
        return tokens
    if any(t.kind != "end" and not (t.kind == "punct" and t.text in ".,") for t in tokens[ends[-1] + closing[1]:]):
        return tokens
    rows: list[Token] = []
    depth = 0
    body = tokens[opening[1]:ends[-1]]
    for k, token in enumerate(body):
        if token.kind in ("punct", "command") and token.text in OPENING:
            depth += 1
        elif token.kind in ("punct", "command") and token.text in CLOSING:
            depth -= 1
        if depth == 0 and token.text == "&" and token.kind == "punct":
            continue
        if depth == 0 and token.text == "\\\\":
            if k + 1 < len(body) and rows and rows[-1].text != ",":  # a break after the last row ends nothing
                rows.append(Token("punct", ",", token.column))
            continue
        rows.append(token)
    return tuple(rows) + (tokens[-1],)


def _environment_name(tokens: tuple[Token, ...], at: int) -> tuple[str, int] | None:
    """``\\begin{name}`` or ``\\end{name}`` starting at token ``at``: (name, its number of tokens)."""
    if at < 0 or tokens[at].text not in (r"\begin", r"\end") or at + 1 >= len(tokens) or tokens[at + 1].text != "{":
        return None
    end = next((k for k in range(at + 2, len(tokens)) if tokens[k].text == "}"), None)
    if end is None:
        return None
    return "".join(t.text for t in tokens[at + 2:end]), end - at + 1


def tree_end(tokens: tuple[Token, ...], stop: int) -> Token:
    return Token("end", "", tokens[stop].column)


class Parser:
    """Recursive descent over one side's tokens. ``bars`` counts open ``|...|`` so a ``|`` closes one."""

    def __init__(self, tokens: tuple[Token, ...]):
        self.tokens = tokens
        self.at = 0
        self.depth = 0
        self.bars = 0
        self.arguments_at: list[int] = []  # ``bars`` when each open argument list began

    # --- token access --------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def is_(self, *texts: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind in ("punct", "command") and token.text in texts

    def expect(self, text: str, what: str) -> Token:
        token = self.peek()
        if not self.is_(text):
            raise self.error(token, f"expected {text} {what}")
        return self.next()

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind != "end":
            raise self.error(token, "texeval cannot read the formula from here on")

    def error(self, token: Token, reason: str) -> TexEvalError:
        return TexEvalError(token.text or "the end of the formula", token.column, reason)

    def nested(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(token, f"the formula is nested more than {MAX_DEPTH} levels deep")

    # --- precedence levels ---------------------------------------------------------------------

    def expression(self) -> tree.Node:
        """``arithmetic ((\\cup|\\setminus|\\cap) arithmetic)*``: set operations bind loosest."""
        node = self.arithmetic()
        while self.is_(*SET_OPERATORS):
            token = self.next()
            node = tree.SetOperation(SET_OPERATORS[token.text], node, self.arithmetic(), token.column)
        return node

    def arithmetic(self) -> tree.Node:
        """``[sign] term ((+|-) term)*``."""
        first = self.peek()
        self.nested(first)
        terms: list[tuple[str, tree.Node]] = []
        sign = "+"
        if self.is_("+", "-"):
            sign = self.next().text
        terms.append((sign, self.product()))
        while self.is_("+", "-", r"\pm", r"\mp"):
            token = self.next()
            if token.text in (r"\pm", r"\mp"):
                raise self.error(token, "a ± formula has two values; write the two cases as two equations")
            terms.append((token.text, self.product()))
        self.depth -= 1
        if len(terms) == 1 and terms[0][0] == "+":
            return terms[0][1]
        if len(terms) == 1:
            return tree.Negate(terms[0][1], first.column)
        return tree.Sum(tuple(terms), first.column)

    def product(self) -> tree.Node:
        first = self.peek()
        factors: list[tuple[str, tree.Node]] = [("", self.signed())]
        while True:
            token = self.peek()
            if token.kind in ("punct", "command") and token.text in PRODUCT_OPERATORS:
                self.next()
                factors.append((PRODUCT_OPERATORS[token.text], self.signed()))
            elif self.starts_factor():
                factors.append(("juxt", self.postfix()))
            else:
                break
        return factors[0][1] if len(factors) == 1 else tree.Product(tuple(factors), first.column)

    def juxtaposed(self) -> tree.Node:
        """The argument of ``\\log x`` or the body of ``\\sum_i``: factors up to the next + - or relation."""
        return self.product()

    def signed(self) -> tree.Node:
        token = self.peek()
        if self.is_("-"):
            self.next()
            self.nested(token)
            operand = self.signed()
            self.depth -= 1
            return tree.Negate(operand, token.column)
        return self.postfix()

    def starts_factor(self) -> bool:
        token = self.peek()
        if token.kind in ("number", "letter", "word"):
            return True
        if token.kind == "text":
            return bool(token.text.strip())
        if token.kind == "punct":
            return token.text in ("(", "[", "{") or (token.text == "|" and not self.bars)
        if token.kind == "command":
            if token.text == r"\right" or token.text in PRODUCT_OPERATORS or token.text in CLOSING or token.text in SET_OPERATORS:
                return False
            if token.text in (r"\|", r"\Vert") and (self.bars or self.arguments_at):
                return False
            if token.text in (r"\parallel", r";") or token.text in ELLIPSES or token.text in PREFERENCES:
                return False
            return token.text not in RELATIONS and token.text not in (r"\pm", r"\mp", r"\\", r"\mid")
        return False

    # --- postfix: ^ _ ' ! ----------------------------------------------------------------------

    def postfix(self) -> tree.Node:
        token = self.peek()
        self.nested(token)
        node = self.atom()
        while True:
            if self.is_("^"):
                node = self.superscript(node)
            elif self.is_("_"):
                sub_token = self.next()
                if isinstance(node, tree.Name) and node.subscript is None:
                    node = self.with_subscript(node, sub_token)
                elif isinstance(node, tree.Labelled) and node.name.subscript is None:
                    node = self.subscript_after_label(node, sub_token)
                else:
                    node = tree.Index(node, self.index_parts(self.script_tokens(sub_token)), sub_token.column)
            elif self.is_("'") and isinstance(node, tree.Name):
                self.next()
                node = tree.Name(node.base, node.subscript, node.label, node.primes + 1, node.column, node.written + "'",
                                 node.label_parts)
            elif self.is_("!"):
                bang = self.next()
                node = tree.Function("factorial", (node,), None, bang.column)
            elif self.moment_ahead(node):
                node = self.moment(node)
            elif isinstance(node, tree.Name) and self.is_("(") or isinstance(node, tree.Name) and self.is_(r"\left") and self.is_("(", ahead=1):
                node = tree.Call(node, self.arguments(), node.column)
            elif isinstance(node, tree.Name) and (self.is_("[") or self.is_(r"\left") and self.is_("[", ahead=1)):
                node = tree.Call(node, self.bracketed(), node.column, brackets=True)
            else:
                break
        self.depth -= 1
        return node

    def moment_ahead(self, node: tree.Node) -> bool:
        """``Var[`` or ``E[`` (also with ``\\left[``): a mean or variance over the check's samples."""
        return (isinstance(node, tree.Name) and node.base in MOMENT_NAMES and node.subscript is None and not node.label
                and not node.primes and (self.is_("[") or self.is_(r"\left") and self.is_("[", ahead=1)))

    def moment(self, name: tree.Name) -> tree.Node:
        body = self.bracketed_body("a mean or variance" if name.base == "Var" else "an expectation")
        return tree.Moment(MOMENT_NAMES[name.base], body, name if name.base == "E" else None, name.column)

    def bracketed_body(self, what: str) -> tree.Node:
        """The ``[...]`` (or ``(...)``, ``\\left[...\\right]``) after an expectation or a variance."""
        left = self.is_(r"\left")
        if left:
            self.next()
        opening = self.peek()
        closing = {"[": "]", "(": ")"}.get(opening.text)
        if closing is None:
            raise self.error(opening, f"{what} needs its body in [...] or (...)")
        self.next()
        body = self.expression()
        if self.is_("|", r"\mid", r"\middle"):
            raise self.error(self.peek(), "a conditional expectation: pass only the samples that meet the condition "
                                          "and write \\mathbb{E}[...] of them")
        if left:
            self.expect(r"\right", f"to close {what}")
        self.expect(closing, f"to close the {what.split()[-1]}'s {opening.text} at column {opening.column}")
        return body

    def superscript(self, node: tree.Node) -> tree.Node:
        caret = self.next()
        tokens = self.script_tokens(caret)
        texts = [t.text for t in tokens]
        if texts in ([r"\top"], [r"\intercal"], [r"\mathsf", "{", "T", "}"]) or (len(tokens) == 1 and tokens[0].kind == "word" and tokens[0].text == "T"):
            return tree.Transpose(node, None, caret.column)
        if texts == ["T"]:
            return tree.Transpose(node, tree.Name("T", None, "", 0, tokens[0].column, "T"), caret.column)
        if isinstance(node, tree.Name):
            label = self.label_of(tokens)
            if label is not None:
                return tree.Name(node.base, node.subscript, _join_label(node.label, label), node.primes, node.column,
                                 node.written + "^{" + " ".join(texts) + "}", self.label_parts(tokens[1:-1] if label.startswith("(") else ()))
            if texts in ([r"\prime"], ["'"]):
                return tree.Name(node.base, node.subscript, node.label, node.primes + 1, node.column, node.written + "'")
            return self.labelled(node, tokens, caret)
        return tree.Power(node, self.exponent(tokens, caret), caret.column)

    def exponent(self, tokens: tuple[Token, ...], caret: Token) -> tree.Node:
        exponent = Parser(tokens + (Token("end", "", caret.column),))
        exponent.depth = self.depth
        value = exponent.expression()
        exponent.expect_end()
        return value

    def labelled(self, node: tree.Name, tokens: tuple[Token, ...], caret: Token) -> tree.Labelled:
        """``W^Q``, ``e^d``, ``\\mathrm{rab}^{p,t}``: a label when the check names it, else a power (when the
        superscript parses as an exponent; ``p,t`` does not)."""
        try:
            power: tree.Node | None = tree.Power(node, self.exponent(tokens, caret), caret.column)
        except TexEvalError:
            power = None
        parts = self.label_parts(tokens)
        if parts is not None and not all(isinstance(part, tree.Name) for part in parts):
            parts = None  # only a letter indexes a list (e^d); x_t^2 stays a square even when x is a list
        name = tree.Name(node.base, node.subscript, _join_label(node.label, script_text(tokens)), node.primes,
                         node.column, node.written + "^{" + written_script(tokens) + "}", parts)
        return tree.Labelled(name, power, caret.column)

    def label_parts(self, tokens: tuple[Token, ...]) -> tuple[tree.Node, ...] | None:
        """The label as indices into a list the check passes (``d`` of ``e^d``), or None when it is no index."""
        if not tokens:
            return None
        try:
            return self.index_parts(tokens)
        except TexEvalError:
            return None

    def subscript_after_label(self, node: tree.Labelled, underscore: Token) -> tree.Labelled:
        """``e^d_k``, ``x^{corrupt}_t``: the subscript joins the labelled name; the power reading stays ``(e^d)_k``."""
        tokens = self.script_tokens(underscore)
        try:
            power = None if node.power is None else tree.Index(node.power, self.index_parts(tokens), underscore.column)
        except TexEvalError:
            power = None
        return tree.Labelled(self.named_subscript(node.name, tokens), power, node.column)

    def label_of(self, tokens: tuple[Token, ...]) -> str | None:
        """A superscript that names rather than raises: ``(i)``, ``*``, a word like ``\\mathrm{lasso}``."""
        if len(tokens) >= 3 and tokens[0].text == "(" and tokens[-1].text == ")" and \
                all(t.text not in ("(", ")") for t in tokens[1:-1]):
            return "(" + script_text(tokens[1:-1]) + ")"
        if len(tokens) == 1 and tokens[0].text in LABELS:
            return LABELS[tokens[0].text]
        return None

    def script_tokens(self, marker: Token) -> tuple[Token, ...]:
        """The tokens of a sub/superscript: a braced group or one token (``x_12`` is ``x_1 2``)."""
        token = self.peek()
        if self.is_("{"):
            return self.group_tokens()
        if token.kind == "end" or (token.kind == "punct" and token.text not in ("*", "'", "-", "+")):
            raise self.error(marker, f"{marker.text} needs a script after it")
        self.next()
        if token.kind == "number" and len(token.text) > 1:
            rest = Token("number", token.text[1:], token.column + 1)
            self.tokens = self.tokens[:self.at] + (rest,) + self.tokens[self.at:]
            return (Token("number", token.text[0], token.column),)
        if token.kind == "command" and token.text.lstrip("\\") in FONTS and self.is_("{"):
            return (token,) + self.group_tokens()
        return (token,)

    def group_tokens(self) -> tuple[Token, ...]:
        """The tokens inside the ``{...}`` here, braces matched; the braces consumed."""
        opening = self.expect("{", "")
        start, depth = self.at, 1
        while depth:
            token = self.next()
            if token.kind == "end":
                raise self.error(opening, "this { is never closed")
            depth += token.text == "{" and token.kind == "punct"
            depth -= token.text == "}" and token.kind == "punct"
        return self.tokens[start:self.at - 1]

    def with_subscript(self, name: tree.Name, underscore: Token) -> tree.Name:
        return self.named_subscript(name, self.script_tokens(underscore))

    def named_subscript(self, name: tree.Name, tokens: tuple[Token, ...]) -> tree.Name:
        written = name.written + "_{" + " ".join(t.text for t in tokens) + "}"
        try:
            parts = self.index_parts(tokens)
        except TexEvalError:
            parts = None  # a subscript that only names (\eta_{\max}, P_{3 \times 3})
        return tree.Name(name.base, tree.Subscript(script_text(tokens), parts), name.label, name.primes, name.column, written,
                         name.label_parts)

    def index_parts(self, tokens: tuple[Token, ...]) -> tuple[tree.Node, ...]:
        """Indices of a subscript: comma-separated expressions; ``ij`` (single letters side by side) is two."""
        parts: list[tree.Node] = []
        for piece in _split_commas(tokens):
            if not piece:
                raise TexEvalError("_", tokens[0].column if tokens else 0, "an empty index")
            if len(piece) == 1 and piece[0].text == ":":  # E_{x,:}: the whole axis
                parts.append(tree.Colon(piece[0].column))
                continue
            relation = RELATIONS.get(piece[0].text) if piece[0].kind in ("punct", "command") else None
            if relation in SLICES and len(piece) > 1:  # x_{<t}: the entries before t
                bound = Parser(piece[1:] + (Token("end", "", piece[-1].column + 1),))
                bound.depth = self.depth
                parts.append(tree.Slice(relation, bound.expression(), piece[0].column))
                bound.expect_end()
                continue
            sub = Parser(piece + (Token("end", "", piece[-1].column + 1),))
            sub.depth = self.depth
            node = sub.expression()
            sub.expect_end()
            if isinstance(node, tree.Product) and all(op in ("", "juxt") and isinstance(f, tree.Name) and len(f.base) == 1
                                                      and f.subscript is None for op, f in node.factors):
                parts.extend(f for _, f in node.factors)
            else:
                parts.append(node)
        return tuple(parts)

    def bracketed(self) -> tuple[tree.Node, ...]:
        """``[x]`` or ``\\left[ x \\right]`` after a name: ``\\operatorname{sg}[r_d]``, ``E_m[\\mathrm{idx}_m(v)]``;
        ``[a \\succ b]`` (a preferred to b) is the two arguments ``(a, b)``, ``[a \\prec b]`` is ``(b, a)``."""
        left = self.is_(r"\left")
        if left:
            self.next()
        opening = self.expect("[", "to open the argument")
        first = self.bracket_content(opening)  # W_1 [e; v]: a concatenation when W_1 is no callable
        inner = (first,)
        if self.is_(*PREFERENCES):
            preference = self.next()
            inner = (first, self.expression())[::1 if preference.text == r"\succ" else -1]
        if left:
            self.expect(r"\right", f"to close the \\left[ at column {opening.column}")
        self.expect("]", f"to close the [ at column {opening.column}")
        return inner

    def arguments(self) -> tuple[tree.Node, ...]:
        """``(a, b, ...)`` or ``\\left( ... \\right)``; ``\\mid``, ``;`` and ``\\|`` (``\\parallel``) separate
        arguments like commas (``p(x_t \\mid x_1, \\ldots, x_{t-1}; \\theta)``, ``D(p \\| q)``)."""
        left = self.is_(r"\left")
        if left:
            self.next()
        opening = self.expect("(", "to open the arguments")
        args = self.items(ARGUMENT_SEPARATORS)
        if left:
            self.expect(r"\right", f"to close the \\left( at column {opening.column}")
        self.expect(")", f"to close the ( at column {opening.column}")
        return args

    def items(self, separators: frozenset[str], first: tree.Node | None = None) -> tuple[tree.Node, ...]:
        """Expressions separated by ``separators`` (after ``first`` when it was parsed already); ``\\cdot``
        alone is a placeholder and ``a_i, \\ldots, a_j`` one run of entries (see :func:`_runs`)."""
        self.arguments_at.append(self.bars)
        raw: list[tree.Node | Token | str] = []
        if first is not None:
            raw += [first, self.next().text]
        while True:
            token = self.peek()
            following = self.peek(1)
            if self.is_(*ELLIPSES):
                raw.append(self.next())
            elif self.is_(r"\cdot") and (following.text in separators or following.text in (")", r"\right")):
                self.next()
                raw.append(tree.Placeholder(token.column))
            else:
                raw.append(self.expression())
            if not self.is_(*separators):
                break
            raw.append(self.next().text)
        self.arguments_at.pop()
        return _runs(raw)

    # --- atoms ---------------------------------------------------------------------------------

    def atom(self) -> tree.Node:
        token = self.peek()
        if token.kind == "number":
            self.next()
            return tree.Number(float(token.text) if "." in token.text else int(token.text), token.column)
        if token.kind in ("letter", "word", "text"):
            self.next()
            word = word_name(token.text)
            if not word:
                raise self.error(token, "this text is prose, not part of a formula texeval can evaluate")
            return tree.Name(word, None, "", 0, token.column, token.text)
        if token.kind == "punct":
            return self.punct_atom(token)
        if token.kind == "command":
            return self.command_atom(token)
        raise self.error(token, "the formula ends where a value was expected")

    def punct_atom(self, token: Token) -> tree.Node:
        if token.text == "[":
            self.next()
            inner = self.bracket_content(token)
            self.expect("]", f"to close the [ at column {token.column}")
            return inner
        if token.text == "(":
            self.next()
            inner = self.expression()
            if self.is_(","):
                inner = tree.Sequence(self.items(frozenset({","}), inner), token.column)
            self.expect(")", f"to close the ( at column {token.column}")
            return inner
        if token.text == "{":
            self.next()
            inner = self.expression()
            self.expect("}", f"to close the {{ at column {token.column}")
            return inner
        if token.text == "|":
            return self.delimited(token, "|", "abs", bars=True)
        raise self.error(token, "a value was expected here")

    def bracket_content(self, opening: Token) -> tree.Node:
        """Inside ``[...]``: a grouping, or a concatenation ``[a, b]``, ``[a; b]``, ``[a \\circ b]``."""
        inner = self.expression()
        if self.is_(",", ";"):
            separator = self.peek().text
            parts = [inner]
            while self.is_(separator):
                self.next()
                parts.append(self.expression())
            if self.is_(",", ";"):
                raise self.error(self.peek(), "a concatenation mixes , and ; between its parts")
            return tree.Concat(tuple(parts), separator, opening.column)
        if isinstance(inner, tree.Product) and all(op == "circ" for op, _ in inner.factors[1:]):
            return tree.Concat(tuple(f for _, f in inner.factors), "circ", opening.column)
        return inner

    def delimited(self, token: Token, closing: str, function: str, bars: bool = False) -> tree.Node:
        """``|x|``, ``\\|x\\|``, ``\\lfloor x \\rfloor`` ..., with the ``\\right`` form when ``\\left`` opened it."""
        self.next()
        self.bars += bars
        inner = self.expression()
        args: tuple[tree.Node, ...] = (inner,)
        if function == "inner":
            self.expect(",", "between the two vectors of \\langle a, b \\rangle")
            args = (inner, self.expression())
        self.bars -= bars
        if self.is_(r"\right"):
            self.next()
        closer = self.peek()
        if not self.is_(closing, *( (r"\|", r"\Vert", r"\rVert") if closing in (r"\|", r"\rVert") else ()),
                        *((r"\rvert", "|") if closing in ("|", r"\rvert") else ())):
            raise self.error(closer, f"expected {closing} to close the {token.text} at column {token.column}")
        self.next()
        option: tree.Node | str | None = None
        if function == "norm" and self.is_("_"):
            underscore = self.next()
            option = norm_order(self.script_tokens(underscore), underscore)
        return tree.Function(function, args, option, token.column)

    def command_atom(self, token: Token) -> tree.Node:
        name = token.text[1:]
        if token.text == r"\left":
            return self.left_right(token)
        if name in GREEK:
            self.next()
            return tree.Name(name, None, "", 0, token.column, token.text)
        if name in ACCENTS:
            return self.accented(token)
        if name in FONTS:
            return self.font(token)
        if name in FUNCTIONS:
            return self.function(token)
        if name in BIG_OPERATORS or token.text in (r"\arg", r"\argmax", r"\argmin"):
            return self.big_operator(token)
        if name in ("frac", "dfrac", "tfrac", "cfrac") and self.is_("{", ahead=1) and self.is_(r"\partial", ahead=2):
            return self.partial_derivative(token)
        if name == "nabla":
            return self.nabla(token)
        if name == "int":
            return self.integral(token)
        if name == "lim":
            return self.limit(token)
        if name == "partial":
            raise self.error(token, "a partial derivative is written \\frac{\\partial E}{\\partial x}")
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            self.next()
            numerator = self.braced(token)
            return tree.Product((("", numerator), ("/", self.braced(token))), token.column)
        if name in ("binom", "dbinom", "tbinom"):
            self.next()
            return tree.Function("binom", (self.braced(token), self.braced(token)), None, token.column)
        if name == "sqrt":
            return self.root(token)
        if name in ("|", "Vert", "lVert"):
            return self.delimited(token, r"\|" if name != "lVert" else r"\rVert", "norm", bars=True)
        if name in ("lvert", "vert"):
            return self.delimited(token, r"\rvert" if name == "lvert" else r"\vert", "abs", bars=True)
        if name == "lfloor":
            return self.delimited(token, r"\rfloor", "floor")
        if name == "lceil":
            return self.delimited(token, r"\rceil", "ceil")
        if name == "langle":
            return self.delimited(token, r"\rangle", "inner")
        if name == "{":
            self.next()
            if self.set_builder_ahead():
                return self.set_builder(token, left=False)
            inner = self.expression()
            self.expect(r"\}", f"to close the \\{{ at column {token.column}")
            return inner
        if name == "begin":
            return self.environment(token)
        if name == "#" and self.peek(1).kind in ("letter", "word"):
            self.next()
            word = self.next()
            return tree.Name("#" + word_name(word.text), None, "", 0, token.column, "\\#" + word.text)
        if name in ("underbrace", "overbrace"):
            return self.braced_with_note(token)
        if name in ("Pr",):
            raise self.error(token, "a probability needs an event space texeval cannot infer; write the check's "
                                    "estimate as a mean of an indicator, \\mathbb{E}[\\mathbb{1}[...]]")
        if name in ("infty",):
            raise self.error(token, "infinity is not a value texeval evaluates (a limit or an unbounded sum)")
        raise self.error(token, "texeval does not know this command")

    # --- derivatives and integrals (evaluated by autograd and quadrature) ----------------------

    def nabla(self, token: Token) -> tree.Node:
        """``\\nabla_\\theta E`` (E: the factor that follows) or ``\\nabla f(a)`` (a call: f's gradient at a)."""
        self.next()
        variable = None
        if self.is_("_"):
            underscore = self.next()
            variable = self.derivative_variable(self.script_tokens(underscore), underscore)
        if not self.starts_factor():
            raise self.error(token, "\\nabla needs what it differentiates after it")
        return tree.Derivative(variable, self.postfix(), token.column, token.text)

    def partial_derivative(self, token: Token) -> tree.Node:
        """``\\frac{\\partial E}{\\partial x}``: the derivative of E with respect to the value named x."""
        self.next()
        self.next()  # {
        partial = self.next()
        if self.is_("}"):
            raise self.error(partial, "write the derivative of E as \\frac{\\partial E}{\\partial x}, E in the numerator")
        body = self.expression()
        self.expect("}", f"to close the numerator of {token.text}")
        self.expect("{", f"to open the denominator of {token.text}")
        self.expect(r"\partial", "in the denominator of a partial derivative")
        start = self.at
        depth = 0
        while depth or not self.is_("}"):
            if self.peek().kind == "end":
                raise self.error(token, "this denominator is never closed")
            depth += self.is_("{")
            depth -= self.is_("}")
            self.next()
        variable = self.derivative_variable(self.tokens[start:self.at], partial, powers=True)
        self.next()
        if isinstance(variable, tree.Power):
            return tree.Derivative(variable.base, body, token.column, r"\partial", variable.exponent)
        return tree.Derivative(variable, body, token.column, r"\partial")

    def derivative_variable(self, tokens: tuple[Token, ...], at: Token, powers: bool = False) -> tree.Name | tree.Power:
        """The name a derivative is taken with respect to; with ``powers``, also a number power of it (``\\sigma^2``)."""
        sub = Parser(tokens + (Token("end", "", at.column),))
        sub.depth = self.depth
        node = sub.postfix() if tokens else None
        if node is not None:
            sub.expect_end()
        if powers and isinstance(node, tree.Labelled) and node.power is not None:
            node = node.power  # \partial \sigma^2: with respect to that power, not a label
        if powers and isinstance(node, tree.Power) and isinstance(node.base, tree.Name) and isinstance(node.exponent, tree.Number):
            return node
        if not isinstance(node, tree.Name):
            raise self.error(at, "a derivative is taken with respect to a name, like \\theta or x_i")
        return node

    def limit(self, token: Token) -> tree.Node:
        """``\\lim_{\\epsilon \\to a} E``: E, the product that follows, as the variable approaches a finite a."""
        self.next()
        if not self.is_("_"):
            raise self.error(token, "\\lim needs its variable and target below it, like \\lim_{\\epsilon \\to 0}")
        underscore = self.next()
        below = self.script_tokens(underscore)
        arrow = next((k for k, t in enumerate(below) if t.text in (r"\to", r"\rightarrow")), None)
        if arrow is None or arrow == 0:
            raise self.error(token, "\\lim needs its variable and target below it, like \\lim_{\\epsilon \\to 0}")
        (variable,) = _variables(below[:arrow], underscore)[:1]
        if any(t.text == r"\infty" for t in below[arrow + 1:]):
            raise self.error(token, "texeval takes a limit at a finite point, not at infinity")
        sub = Parser(below[arrow + 1:] + (Token("end", "", underscore.column),))
        sub.depth = self.depth
        target = sub.expression()
        sub.expect_end()
        if not self.starts_factor():
            raise self.error(token, "\\lim needs what it takes the limit of after it")
        return tree.Limit(variable, target, self.juxtaposed(), token.column)

    def integral(self, token: Token) -> tree.Node:
        """``\\int_a^b body \\, d\\alpha``: the body runs to the first ``d`` (or ``\\mathrm{d}``) followed by a letter."""
        self.next()
        limits = {}
        for marker in ("_", "^"):
            if not self.is_(marker):
                raise self.error(token, "texeval evaluates a definite integral: write its limits, like \\int_0^1")
            script = self.next()
            sub = Parser(self.script_tokens(script) + (Token("end", "", script.column),))
            sub.depth = self.depth
            limits[marker] = sub.expression()
            sub.expect_end()
        start, depth, k = self.at, 0, self.at
        while True:
            current = self.tokens[k]
            if current.kind == "end":
                raise self.error(token, "an integral needs its differential after the integrand, like d\\alpha")
            following = self.tokens[k + 1]
            if depth == 0 and current.kind in ("letter", "word") and current.text == "d" and (
                    following.kind == "letter" or following.kind == "command" and following.text[1:] in GREEK):
                break
            depth += current.kind in ("punct", "command") and current.text in OPENING
            depth -= current.kind in ("punct", "command") and current.text in CLOSING
            k += 1
        if k == start:
            raise self.error(token, "the integral has no integrand")
        sub = Parser(self.tokens[start:k] + (Token("end", "", self.tokens[k].column),))
        sub.depth = self.depth
        body = sub.expression()
        sub.expect_end()
        self.at = k + 2
        return tree.Integral(self.tokens[k + 1].text.lstrip("\\"), limits["_"], limits["^"], body, token.column)

    def left_right(self, token: Token) -> tree.Node:
        """``\\left( ... \\right)`` and friends: the same constructs as without ``\\left``."""
        self.next()  # \left
        delimiter = self.peek()
        text = delimiter.text
        if text == r"\{":
            self.next()
            if self.set_builder_ahead():
                return self.set_builder(token, left=True)
            inner = self.expression()
            self.expect(r"\right", f"to close the \\left{text} at column {token.column}")
            self.expect(OPENERS[text], f"after \\right to close the \\left{text} at column {token.column}")
            return inner
        if text in ("(", "[", r"\{"):
            self.next()
            if text == "[":
                inner = self.bracket_content(delimiter)
            else:
                inner = self.expression()
                if text == "(" and self.is_(","):
                    inner = tree.Sequence(self.items(frozenset({","}), inner), token.column)
            self.expect(r"\right", f"to close the \\left{text} at column {token.column}")
            self.expect(OPENERS[text], f"after \\right to close the \\left{text} at column {token.column}")
            return inner
        if text == "|":
            return self.delimited(delimiter, "|", "abs", bars=True)
        if text in (r"\|", r"\Vert", r"\lVert"):
            return self.delimited(delimiter, r"\|" if text != r"\lVert" else r"\rVert", "norm", bars=True)
        if text in (r"\lvert", r"\vert"):
            return self.delimited(delimiter, r"\rvert" if text == r"\lvert" else r"\vert", "abs", bars=True)
        if text == r"\lfloor":
            return self.delimited(delimiter, r"\rfloor", "floor")
        if text == r"\lceil":
            return self.delimited(delimiter, r"\rceil", "ceil")
        if text == r"\langle":
            return self.delimited(delimiter, r"\rangle", "inner")
        raise self.error(delimiter, "texeval does not know this \\left delimiter")

    def braced_with_note(self, token: Token) -> tree.Node:
        """``\\underbrace{body}_{\\text{note}}`` (``\\overbrace{body}^{...}``): the body; the note is a label."""
        self.next()
        body = self.braced(token)
        if self.is_("_" if token.text == r"\underbrace" else "^"):
            self.script_tokens(self.next())
        return body

    def braced(self, owner: Token) -> tree.Node:
        """A ``{...}`` argument (or a single token, as TeX allows: ``\\frac12``)."""
        if not self.is_("{"):
            tokens = self.script_tokens(owner)
            sub = Parser(tokens + (Token("end", "", owner.column),))
            sub.depth = self.depth
            node = sub.expression()
            sub.expect_end()
            return node
        opening = self.next()
        inner = self.expression()
        self.expect("}", f"to close the {{ at column {opening.column} of {owner.text}")
        return inner

    def root(self, token: Token) -> tree.Node:
        self.next()
        degree = None
        if self.is_("["):
            self.next()
            degree = self.expression()
            self.expect("]", f"to close the degree of {token.text}")
        return tree.Function("root", (self.braced(token),), degree, token.column)

    def accented(self, token: Token) -> tree.Node:
        self.next()
        inner = self.braced(token)
        if not isinstance(inner, tree.Name):
            raise self.error(token, "an accent over something that is not a name")
        accent = ACCENTS[token.text[1:]]
        return tree.Name(inner.base + accent, inner.subscript, inner.label, inner.primes, token.column,
                         token.text + "{" + inner.written + "}", inner.label_parts)

    def font(self, token: Token) -> tree.Node:
        """``\\mathbf{x}`` is ``x``; ``\\mathbb{E}`` an expectation; ``\\mathbb{1}`` an indicator."""
        self.next()
        name = token.text[1:]
        tokens = self.group_tokens() if self.is_("{") else (self.next(),)
        texts = [t.text for t in tokens]
        if name in ("mathbb", "mathbf", "bm", "boldsymbol") and texts in (["1"], ["I"]):
            if name == "mathbb" and texts == ["I"] or texts == ["1"]:
                return self.indicator(token)
        if name == "mathbb" and texts == ["E"]:
            return self.expectation(token)
        if name == "mathbb" and texts and texts[0] in ("R", "N", "Z", "C", "Q"):
            raise self.error(token, "a number set is not a value; state the shape in the note's prose")
        if all(t.kind == "letter" for t in tokens) and tokens:
            return tree.Name("".join(texts), None, "", 0, token.column, token.text + "{" + "".join(texts) + "}")
        sub = Parser(tokens + (Token("end", "", token.column),))
        sub.depth = self.depth
        node = sub.expression()
        sub.expect_end()
        if isinstance(node, (tree.Name, tree.Number)):
            return node
        raise self.error(token, "a font command around more than a name")

    def function(self, token: Token) -> tree.Node:
        """``\\exp x``, ``\\log(x)``, ``\\log_2 V``, ``\\sin^2 x`` (the power applies to the result)."""
        self.next()
        name = token.text[1:]
        base = None
        power = None
        if self.is_("_"):
            underscore = self.next()
            sub = Parser(self.script_tokens(underscore) + (Token("end", "", underscore.column),))
            base = sub.expression()
            sub.expect_end()
            if name not in ("log", "lg"):
                raise self.error(underscore, f"a subscript on \\{name} has no meaning texeval knows")
        if self.is_("^"):
            caret = self.next()
            sub = Parser(self.script_tokens(caret) + (Token("end", "", caret.column),))
            power = sub.expression()
            sub.expect_end()
            if isinstance(power, tree.Negate):
                raise self.error(caret, f"\\{name}^{{-1}} could be an inverse function or a reciprocal; write which")
        if self.is_("(") or (self.is_(r"\left") and self.is_("(", ahead=1)):
            args = self.arguments()
            if name == "cos" and len(args) == 2 and power is None:
                return tree.Function("cosine", args, None, token.column)
            if len(args) != 1:
                raise self.error(token, f"\\{name} takes one argument, got {len(args)}")
            argument = args[0]
            node: tree.Node = tree.Function(name, (argument,), base, token.column)
            # \exp(x)^2 squares the result: the postfix loop of the caller applies it
        else:
            if not self.starts_factor():
                raise self.error(token, f"\\{name} needs an argument")
            node = tree.Function(name, (self.juxtaposed(),), base, token.column)
        return tree.Power(node, power, token.column) if power is not None else node

    def big_operator(self, token: Token) -> tree.Node:
        self.next()
        name = token.text[1:]
        if name == "arg":
            following = self.peek()
            if not self.is_(r"\max", r"\min"):
                raise self.error(token, "\\arg must be followed by \\max or \\min")
            self.next()
            name = "arg" + following.text[1:]
        operator = BIG_OPERATORS[name]
        if name in ("max", "min") and not self.is_("_"):
            if self.is_("(") or (self.is_(r"\left") and self.is_("(", ahead=1)):
                return tree.Function(name, self.arguments(), None, token.column)
            raise self.error(token, f"\\{name} needs arguments in parentheses or an index below it")
        if name in ("argmax", "argmin") and not self.is_("_"):
            if not self.starts_factor():
                raise self.error(token, f"\\{name} needs an argument")
            return tree.Function(name, (self.juxtaposed(),), None, token.column)
        if not self.is_("_"):
            raise self.error(token, f"\\{name} needs an index below it, like \\{name}_{{i=1}}^{{n}}")
        underscore = self.next()
        below = self.script_tokens(underscore)
        upper = None
        if self.is_("^"):
            caret = self.next()
            sub = Parser(self.script_tokens(caret) + (Token("end", "", caret.column),))
            sub.depth = self.depth
            upper = sub.expression()
            sub.expect_end()
        binding = self.binding(below, underscore, upper, discrete=operator in ("sum", "prod"))
        if self.is_("-"):  # \sum_i -\ln p_i: the body is the negated product, as a reader takes it
            minus = self.next()
            if not self.starts_factor():
                raise self.error(token, f"\\{name} needs a body after its limits")
            return tree.BigOperator(operator, binding, tree.Negate(self.juxtaposed(), minus.column), token.column)
        if not self.starts_factor():
            raise self.error(token, f"\\{name} needs a body after its limits")
        return tree.BigOperator(operator, binding, self.juxtaposed(), token.column)

    def binding(self, tokens: tuple[Token, ...], at: Token, upper: tree.Node | None, discrete: bool = False) -> tree.Binding:
        """``i=1``, ``i \\in S``, ``(u,i) \\in D``, ``j \\ne i``, ``w \\notin \\{a, b\\}``, ``i<j``, ``i``, ``i, j``,
        ``S \\subseteq F``, ``y \\in Y \\cup Y^-`` or (below a sum or a product, whose index is an integer; below a max
        or min only with a strict bound, ``0 \\le j < i``: else it may run over an interval) ``a \\le j \\le b, j \\ne k``."""
        excluded = next((k for k, t in enumerate(tokens) if t.kind == "command" and t.text == r"\notin"), None)
        if excluded is not None:
            return self.binding_outside(tokens, excluded, at, upper)
        chained = self.chained_range(tokens, at, upper, discrete)
        if chained is not None:
            return chained
        split = next((k for k, t in enumerate(tokens) if t.kind in ("punct", "command") and t.text in RELATIONS), None)
        subset = next((k for k, t in enumerate(tokens) if t.text == r"\subseteq"), None)
        if subset is not None and upper is None and subset + 1 < len(tokens):
            sub = Parser(tokens[subset + 1:] + (Token("end", "", tokens[-1].column + 1),))
            sub.depth = self.depth
            over = sub.expression()
            sub.expect_end()
            return tree.Binding("subsets", _variables(tokens[:subset], at), over=over)
        left = tokens if split is None else tokens[:split]
        variables = _variables(left, at)
        if split is None:
            if upper is not None:
                raise TexEvalError(at.text, at.column, "an upper limit needs a lower one: write i=1 below")
            return tree.Binding("free", variables)
        relation = RELATIONS[tokens[split].text]
        rest = tokens[split + 1:]
        if relation in ("<", "<=", ">", ">=") and len(rest) == 1 and rest[0].kind == "letter" and upper is None:
            return tree.Binding("pair", variables + (rest[0].text,), relation=relation)
        if relation == "in" and upper is None and any(t.text == r"\cup" for t in rest):
            return tree.Binding("set", variables, over=self.union(rest))
        sub = Parser(rest + (Token("end", "", tokens[-1].column + 1),))
        sub.depth = self.depth
        value = sub.expression()
        sub.expect_end()
        if relation == "=" and len(variables) == 1:
            if upper is None:
                raise TexEvalError(at.text, at.column, "a lower limit needs an upper one above the operator")
            return tree.Binding("range", variables, lower=value, upper=upper)
        if relation == "in" and upper is None:
            return tree.Binding("set", variables, over=value)
        if relation == "!=" and len(variables) == 1 and upper is None:
            return tree.Binding("except", variables, over=value)
        raise TexEvalError(tokens[split].text, tokens[split].column, "texeval does not know this kind of index range")

    def binding_outside(self, tokens: tuple[Token, ...], split: int, at: Token, upper: tree.Node | None) -> tree.Binding:
        """``w \\notin \\{\\text{King}, \\text{Man}\\}`` or ``w \\notin S``: every w of the free range but those."""
        variables = _variables(tokens[:split], at)
        rest = tokens[split + 1:]
        if len(variables) != 1 or upper is not None or not rest:
            raise TexEvalError(tokens[split].text, tokens[split].column, "texeval does not know this kind of index range")
        if rest[0].text == r"\{" and rest[-1].text == r"\}":
            pieces = _split_commas(rest[1:-1])
            if not all(pieces):
                raise TexEvalError(rest[0].text, rest[0].column, "an empty element in this set")
            elements = tuple(self.sub_expression(piece) for piece in pieces)
            return tree.Binding("except", variables, over=tree.SetLiteral(elements, rest[0].column))
        return tree.Binding("except", variables, over=self.sub_expression(rest))

    def sub_expression(self, tokens: tuple[Token, ...]) -> tree.Node:
        sub = Parser(tokens + (Token("end", "", tokens[-1].column + 1),))
        sub.depth = self.depth
        node = sub.expression()
        sub.expect_end()
        return node

    def chained_range(self, tokens: tuple[Token, ...], at: Token, upper: tree.Node | None,
                      discrete: bool) -> tree.Binding | None:
        """``-c \\le j \\le c, j \\ne 0``, ``0 \\le j < i``: the integers between two bounds (``<`` excludes a bound),
        then values it skips; None when the first comma-separated piece is not ``bound rel variable rel bound``,
        or, below a max or min (which may run over a real interval), when neither bound is strict."""
        pieces = _split_commas(tokens)
        first = pieces[0]
        where = [k for k, t in enumerate(first) if t.kind in ("punct", "command") and RELATIONS.get(t.text) in ("<", "<=")]
        if len(where) != 2 or upper is not None:
            return None
        if not discrete and all(RELATIONS[first[k].text] == "<=" for k in where):
            return None
        left, right = where
        variables = _variables(first[left + 1:right], at)
        if len(variables) != 1:
            raise TexEvalError(first[left].text, first[left].column, "a range between two bounds needs one index variable")
        bounds = []
        for lower, piece, relation in ((True, first[:left], first[left].text), (False, first[right + 1:], first[right].text)):
            if not piece:
                raise TexEvalError(relation, first[left if lower else right].column, "a range between two bounds needs both bounds")
            sub = Parser(piece + (Token("end", "", piece[-1].column + 1),))
            sub.depth = self.depth
            bound = sub.expression()
            sub.expect_end()
            if RELATIONS[relation] == "<":  # a strict bound is one step inside
                step = tree.Number(1, piece[0].column)
                bound = tree.Sum((("+", bound), ("+" if lower else "-", step)), piece[0].column)
            bounds.append(bound)
        excluded = []
        for piece in pieces[1:]:
            if len(piece) < 3 or piece[1].text not in (r"\ne", r"\neq") or _variables(piece[:1], at) != variables:
                raise TexEvalError(piece[0].text if piece else ",", piece[0].column if piece else at.column,
                                   f"after a range only exclusions like {variables[0]} \\ne 0 may follow")
            sub = Parser(piece[2:] + (Token("end", "", piece[-1].column + 1),))
            sub.depth = self.depth
            excluded.append(sub.expression())
            sub.expect_end()
        return tree.Binding("range", variables, lower=bounds[0], upper=bounds[1], excluded=tuple(excluded))

    def union(self, tokens: tuple[Token, ...]) -> tree.Node:
        """``\\mathcal{Y} \\cup \\mathcal{Y}^-``: the elements of each set, in turn, each once."""
        pieces, start = [], 0
        for k, token in enumerate(tokens + (Token("end", "", tokens[-1].column + 1),)):
            if token.kind == "end" or token.text == r"\cup":
                if k == start:
                    raise TexEvalError(r"\cup", token.column, "a union needs a set on each side")
                sub = Parser(tokens[start:k] + (Token("end", "", token.column),))
                sub.depth = self.depth
                pieces.append(sub.expression())
                sub.expect_end()
                start = k + 1
        return tree.Union(tuple(pieces), tokens[0].column)

    def indicator(self, token: Token) -> tree.Node:
        """``\\mathbb{1}[c]``, ``\\mathbf{1}\\{c\\}``, ``\\mathbb{I}(c)``, ``\\mathbb{1}_{c}``: 1 where c holds, else 0."""
        if self.is_("_"):
            underscore = self.next()
            tokens = self.script_tokens(underscore)
            if len(tokens) > 2 and tokens[0].text == "[" and tokens[-1].text == "]":  # \mathbb{1}_{[c]}
                tokens = tokens[1:-1]
            return tree.Indicator(self.condition_of(tokens, underscore), token.column)
        left = self.is_(r"\left")
        if left:
            self.next()
        opening = self.peek()
        closing = {"[": "]", "(": ")", r"\{": r"\}"}.get(opening.text)
        if closing is None:
            raise self.error(opening, "an indicator needs its condition in [...], (...) or \\{...\\}")
        self.next()
        condition = self.condition()
        if left:
            self.expect(r"\right", "to close the indicator's condition")
        self.expect(closing, f"to close the indicator's condition at column {opening.column}")
        return tree.Indicator(condition, token.column)

    def condition(self) -> tree.Comparison | tree.Exists:
        if self.is_(r"\exists"):
            exists = self.next()
            variable, over = self.member()
            self.expect_such_that(exists)
            return tree.Exists(variable, over, self.condition(), exists.column)
        left = self.expression()
        token = self.peek()
        relation = RELATIONS.get(token.text) if token.kind in ("punct", "command") else None
        if relation not in CONDITIONS:
            raise self.error(token, "expected a comparison (= \\ne < > \\le \\ge) in this condition")
        self.next()
        right = self.expression()
        following = self.peek()
        if following.kind in ("punct", "command") and RELATIONS.get(following.text) in CONDITIONS:
            raise self.error(following, "a chained condition (a < b < c): write it as two conditions")
        return tree.Comparison(left, relation, right, token.column)

    def member(self) -> tuple[str, tree.Node]:
        """``x \\in X``: the variable's name and the set."""
        variable = self.postfix()
        if not isinstance(variable, tree.Name):
            raise self.error(self.peek(), "expected a variable before \\in")
        self.expect(r"\in", "after the variable")
        return variable.full, self.expression()

    def expect_such_that(self, owner: Token) -> None:
        if not self.is_(":", r"\mid", "|"):
            raise self.error(self.peek(), f"expected : or \\mid after the set of {owner.text}")
        self.next()

    def set_builder_ahead(self) -> bool:
        """After ``\\{``: ``x \\in X : condition`` (a set by a condition), up to the matching ``\\}``."""
        depth, seen_in = 0, False
        for token in self.tokens[self.at:]:
            if token.kind == "end" or depth == 0 and token.text in (r"\}", r"\right"):
                return False
            depth += token.text in ("(", "[", "{", r"\{", r"\left")
            depth -= token.text in (")", "]", "}", r"\}", r"\right")
            if depth == 0 and token.text == r"\in":
                seen_in = True
            elif depth == 0 and seen_in and token.text in (":", r"\mid"):
                return True
        return False

    def set_builder(self, opening: Token, left: bool) -> tree.Node:
        """``\\{ x \\in X : c \\}``: the elements of X for which c holds (``|...|`` counts them)."""
        variable, over = self.member()
        self.expect_such_that(opening)
        condition = self.condition()
        if left:
            self.expect(r"\right", f"to close the \\left\\{{ at column {opening.column}")
        self.expect(r"\}", f"to close the \\{{ at column {opening.column}")
        return tree.SetBuilder(variable, over, condition, opening.column)

    def condition_of(self, tokens: tuple[Token, ...], at: Token) -> tree.Comparison:
        sub = Parser(tokens + (Token("end", "", at.column),))
        sub.depth = self.depth
        condition = sub.condition()
        sub.expect_end()
        return condition

    def expectation(self, token: Token) -> tree.Node:
        variables: tuple[str, ...] = ()
        distribution = None
        if self.is_("_"):
            underscore = self.next()
            tokens = self.script_tokens(underscore)
            split = next((k for k, t in enumerate(tokens) if t.text == r"\sim"), None)
            variables = _variables(tokens if split is None else tokens[:split], underscore)
            if split is not None:
                sub = Parser(tokens[split + 1:] + (Token("end", "", underscore.column),))
                distribution = sub.expression()
                sub.expect_end()
        body = self.bracketed_body("an expectation")
        if not variables:
            return tree.Moment("mean", body, None, token.column)
        return tree.Expectation(variables, distribution, body, token.column)

    def environment(self, token: Token) -> tree.Node:
        self.next()
        kind = script_text(self.group_tokens())
        if kind in MATRICES:
            return self.matrix(token, kind)
        if kind != "cases":
            raise self.error(token, f"texeval knows the cases and bmatrix/pmatrix environments, not {kind}")
        branches: list[tuple[tree.Node, tree.Comparison | None]] = []
        while True:
            value = self.expression()
            if self.is_(",") and self.is_("&", ahead=1):  # y_i, & \text{if } ...: punctuation
                self.next()
            self.expect("&", "between a case's value and its condition")
            branches.append((value, self.case_condition()))
            if self.is_(r"\\"):
                self.next()
                if self.is_(r"\end"):
                    break
                continue
            break
        self.expect(r"\end", "to close \\begin{cases}")
        self.group_tokens()
        if any(c is None for _, c in branches[:-1]):
            raise self.error(token, "only the last case may be \\text{otherwise}")
        return tree.Cases(tuple(branches), token.column)

    def matrix(self, token: Token, kind: str) -> tree.Node:
        """Rows separated by ``\\\\``, entries by ``&``; an entry is a number, a vector or a block."""
        rows: list[tuple[tree.Node, ...]] = []
        while True:
            if self.is_(r"\vdots") and self.is_(r"\\", r"\end", ahead=1):
                rows.append((tree.Vdots(self.next().column),))
                if self.is_(r"\\"):
                    self.next()
                continue
            if self.is_(r"\vdots", r"\cdots", r"\ddots", r"\ldots", r"\dots"):
                raise self.error(self.peek(), "an elided entry: texeval reads \\vdots only as a whole row")
            row = [self.expression()]
            while self.is_("&"):
                self.next()
                row.append(self.expression())
            rows.append(tuple(row))
            if self.is_(r"\\"):
                self.next()
                if self.is_(r"\end"):
                    break
                continue
            break
        self.expect(r"\end", f"to close \\begin{{{kind}}}")
        self.group_tokens()
        if len({len(r) for r in rows if not isinstance(r[0], tree.Vdots)}) != 1:
            raise self.error(token, f"the rows of this {kind} have different numbers of entries")
        return tree.Matrix(tuple(rows), token.column)

    def case_condition(self) -> tree.Comparison | None:
        """``\\text{if } x > 0``, ``x > 0``, ``\\text{otherwise}``; a trailing , or . is punctuation."""
        token = self.peek()
        if token.kind == "text" and token.text.strip().rstrip(",.") in ("otherwise", "else", "if otherwise"):
            self.next()
            if self.is_(",", "."):
                self.next()
            return None
        if token.kind == "text" and token.text.strip() in ("if", "when", "for", ""):
            self.next()
        condition = self.condition()
        if self.is_(",", "."):
            self.next()
        return condition


def word_name(text: str) -> str:
    """A word's name: spaces and thin spaces dropped, ``\\_`` as ``_`` (``tokens per batch`` -> ``tokensperbatch``)."""
    for space in ("\\,", "\\;", "\\ ", " "):
        text = text.replace(space, "")
    return text.replace("\\_", "_")


def script_text(tokens: tuple[Token, ...]) -> str:
    """A sub/superscript as a name part: braces, spaces and backslashes dropped, font commands dropped."""
    out = []
    for token in tokens:
        if token.kind in ("word", "text"):
            out.append(word_name(token.text))
        elif token.kind == "command" and token.text[1:] in FONTS:
            continue
        elif token.kind == "punct" and token.text in "{}":
            continue
        else:
            out.append(token.text.lstrip("\\"))
    return "".join(out)


def written_script(tokens: tuple[Token, ...]) -> str:
    """A script's tokens as LaTeX for messages: ``corrupt``, ``p,t``, ``\\tau x`` (a space only after a control word)."""
    out, previous = "", None
    for token in tokens:
        text = r"\text{" + token.text + "}" if token.kind == "text" else token.text
        after_word = previous is not None and previous.kind == "command" and previous.text[1:].isalpha()
        out += (" " if after_word and text[:1].isalpha() else "") + text
        previous = token
    return out


def norm_order(tokens: tuple[Token, ...], at: Token) -> tree.Node | str:
    texts = [t.text for t in tokens]
    if texts == [r"\infty"]:
        return "inf"
    if texts in (["F"], [r"\mathrm", "{", "F", "}"]) or (len(tokens) == 1 and tokens[0].kind == "word" and tokens[0].text == "F"):
        return "fro"
    sub = Parser(tokens + (Token("end", "", at.column),))
    node = sub.expression()
    sub.expect_end()
    return node


def _runs(raw: list) -> tuple[tree.Node, ...]:
    """Items and separators (strings) -> items, each ``a_i, [a_{i+1},] \\ldots, a_j`` merged into one
    :class:`tree.Run`: the names before the ellipsis (back to the first separator that is not a comma or
    the first other name) and the one after it share a base and have one index each."""
    out: list[tree.Node] = []
    k = 0
    while k < len(raw):
        item = raw[k]
        if isinstance(item, str):
            k += 1
            continue
        if not isinstance(item, Token):
            out.append(item)
            k += 1
            continue
        last = raw[k + 2] if k + 2 < len(raw) and raw[k + 1] == "," else None
        if _superscripted(last):  # x^1, \ldots, x^m: tokens counted in superscripts, read like x_1, \ldots, x_m
            listed = []
            while out and _superscripted(out[-1]) and out[-1].name.family == last.name.family and \
                    raw[k - 1 - 2 * len(listed)] == ",":
                listed.insert(0, out.pop())
            if not listed:
                raise TexEvalError(item.text, item.column, f"a run needs {last.name.family} with an index before it, "
                                   f"like {last.name.family}^1, \\ldots, {last.name.written}")
            base = listed[0].name
            out.append(tree.Run(tree.Name(base.base, None, "", base.primes, base.column, base.written),
                                tuple(n.power.exponent for n in listed), last.power.exponent, base.column))
            k += 3
            continue
        if not _indexed_name(last):
            raise TexEvalError(item.text, item.column, "a run needs an indexed name after it, like x_1, \\ldots, x_{t-1}")
        listed: list[tree.Name] = []
        back = k - 1
        while back >= 1 and raw[back] == "," and _indexed_name(raw[back - 1]) and \
                raw[back - 1].unindexed == last.unindexed and out and out[-1] is raw[back - 1]:
            listed.insert(0, out.pop())
            back -= 2
        if not listed:
            raise TexEvalError(item.text, item.column, f"a run needs {last.unindexed} with an index before it, "
                               f"like {last.unindexed}_1, \\ldots, {last.written}")
        out.append(tree.Run(listed[0], tuple(n.subscript.parts[0] for n in listed), last.subscript.parts[0],
                            listed[0].column))
        k += 3
    return tuple(out)


def _superscripted(node) -> bool:
    """``x^1`` or ``x^m`` (a name with a number or letter superscript and no subscript): an entry of a run of superscripts."""
    return isinstance(node, tree.Labelled) and node.name.subscript is None and isinstance(node.power, tree.Power) \
        and isinstance(node.power.base, tree.Name) and isinstance(node.power.exponent, (tree.Name, tree.Number))


def _indexed_name(node) -> bool:
    return isinstance(node, tree.Name) and node.subscript is not None and node.subscript.parts is not None \
        and len(node.subscript.parts) == 1


def _join_label(old: str, new: str) -> str:
    return new if not old else old + new


def _split_commas(tokens: tuple[Token, ...]) -> list[tuple[Token, ...]]:
    pieces, start, depth = [], 0, 0
    for k, token in enumerate(tokens):
        depth += token.text in ("(", "[", "{")
        depth -= token.text in (")", "]", "}")
        if token.text in (",", r"\leftarrow", r"\gets", r"\to", r"\rightarrow") and depth == 0:
            pieces.append(tokens[start:k])
            start = k + 1
    pieces.append(tokens[start:])
    return pieces


def _variables(tokens: tuple[Token, ...], at: Token) -> tuple[str, ...]:
    """The index variables of ``i``, ``i, j``, ``(u, i)``: single letters, words or Greek names; one written as a
    name (``j_1``, ``x'``, ``\\mathbf{v}'``, ``(w_a, w_b)``, ``\\mathcal{B}``) is bound under its full name (``j_1``:
    the name ``x_{j_1}`` reads it)."""
    if any(t.text in ("_", "^", "'") or (t.kind == "command" and (t.text[1:] in FONTS or t.text[1:] in ACCENTS))
           for t in tokens):
        return _named_variables(tokens, at)
    names = []
    for token in tokens:
        if token.kind == "letter" or (token.kind == "command" and token.text[1:] in GREEK):
            names.append(token.text.lstrip("\\"))
        elif token.kind == "punct" and token.text in "{}":
            continue
        elif token.kind == "word":
            names.append(word_name(token.text))
        elif not (token.kind == "punct" and token.text in "(),"):
            raise TexEvalError(token.text, token.column, "an index below a big operator must be a letter, like i or (u, i)")
    if not names:
        raise TexEvalError(at.text, at.column, "a big operator needs an index variable below it")
    return tuple(names)


def _named_variables(tokens: tuple[Token, ...], at: Token) -> tuple[str, ...]:
    """Variables written as names, ``\\mathbf{v}'``, ``(\\mathbf{x}, y)``, ``(w_a, w_b)``, ``\\mathcal{B}``: their full names."""
    if len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")":
        tokens = tokens[1:-1]
    names = []
    for piece in _split_commas(tokens):
        if not piece:
            raise TexEvalError(at.text, at.column, "a big operator needs an index variable below it")
        sub = Parser(piece + (Token("end", "", piece[-1].column + 1),))
        node = sub.postfix()
        if isinstance(node, tree.Labelled):  # (\sigma^1, \sigma^2, \mu): bound under the labelled name
            node = node.name
        if not isinstance(node, tree.Name) or sub.peek().kind != "end":
            raise TexEvalError(piece[0].text, piece[0].column, "an index below a big operator must be a letter, like i or (u, i)")
        names.append(node.full)
    return tuple(names)
