"""The typed expression tree the parser builds and the evaluator walks: one frozen dataclass per construct.

Every node carries ``column``, the 1-based column of its first character in the LaTeX, for errors.
Sums and products are n-ary (a flat tuple of operands), so a long formula is a wide tree, not a
deep one: evaluation depth follows the formula's nesting, never its length.
"""
from __future__ import annotations

from dataclasses import dataclass


class Node:
    column: int


@dataclass(frozen=True)
class Number(Node):
    value: int | float
    column: int


@dataclass(frozen=True)
class Subscript:
    """A subscript as a name part (``text``: braces, spaces and backslashes dropped, e.g. ``t-1``) and,
    when it parses as expressions, as indices (``parts``: one per comma-separated or juxtaposed letter)."""
    text: str
    parts: tuple[Node, ...] | None


@dataclass(frozen=True)
class Name(Node):
    """A symbol: ``base`` is the letter or word with accents appended (``mhat``), then the subscript,
    a superscript label (``(i)``, ``*``, ``lasso``) and primes."""
    base: str
    subscript: Subscript | None
    label: str
    primes: int
    column: int
    written: str  # the LaTeX as written, for messages
    label_parts: tuple[Node, ...] | None = None  # the label as indices (``d`` of ``e^d``, ``s`` of ``\theta^{(s)}``)

    @property
    def family(self) -> str:
        """The name without subscript and label: ``e`` for ``e^d_k``, the list a bound label indexes."""
        return self.base + "'" * self.primes

    @property
    def unindexed(self) -> str:
        """The name without its subscript: ``W^(i)`` for ``W_q^{(i)}``."""
        return self.base + (f"^{self.label}" if self.label else "") + "'" * self.primes

    @property
    def full(self) -> str:
        """The name a check passes a value under: ``mhat_t``, ``theta_t-1``, ``W_q^(i)``, ``z'``."""
        sub = f"_{self.subscript.text}" if self.subscript else ""
        return self.base + sub + (f"^{self.label}" if self.label else "") + "'" * self.primes


@dataclass(frozen=True)
class Sum(Node):
    terms: tuple[tuple[str, Node], ...]  # ("+" | "-", term)
    column: int


@dataclass(frozen=True)
class Product(Node):
    """``factors[0]`` then (operator, factor) pairs: ``*`` (``\\times *``, elementwise), ``cdot`` (elementwise, or
    the dot product of two vectors with ``dot=True``), ``/``, ``juxt`` (side by side: scalar product or matrix
    product), ``odot``, ``circ`` (elementwise; ``[a \\circ b]`` concatenates), ``otimes``."""
    factors: tuple[tuple[str, Node], ...]
    column: int


@dataclass(frozen=True)
class Negate(Node):
    operand: Node
    column: int


@dataclass(frozen=True)
class Power(Node):
    base: Node
    exponent: Node
    column: int


@dataclass(frozen=True)
class Labelled(Node):
    """A letter or word superscript on a name (``W^Q``, ``e^d_k``, ``\\tilde H^{l}``): the labelled ``name``
    when the check gives it a value (or a list under its family), else ``power`` (None: no power reading)."""
    name: Name
    power: Node | None
    column: int


@dataclass(frozen=True)
class Transpose(Node):
    """``^\\top`` or ``^\\intercal``; ``maybe_power`` is the ``T`` of ``x^T``, a power when ``T`` has a value."""
    operand: Node
    maybe_power: Name | None
    column: int


@dataclass(frozen=True)
class Index(Node):
    """A subscript on something that is not a name: ``(x)_t``, ``h(x)_t``."""
    target: Node
    parts: tuple[Node, ...]
    column: int


@dataclass(frozen=True)
class Call(Node):
    """``name(args)``: a callable the check passes, a built-in operator, or (one argument, a value
    that is not callable) a product written side by side, like ``p(1 - p)``."""
    function: Name
    args: tuple[Node, ...]
    column: int
    brackets: bool = False  # ``\\operatorname{sg}[x]``, ``E_m[i]``: a callable the check passes (never a built-in), else a product


@dataclass(frozen=True)
class Slice(Node):
    """An index that is a comparison, ``x_{<t}``: the entries whose index is ``relation`` ``bound``
    (``<``, ``<=``, ``>``, ``>=``)."""
    relation: str
    bound: Node
    column: int


@dataclass(frozen=True)
class Run(Node):
    """``x_1, \\ldots, x_{t-1}`` (or ``x_a, x_{a+1}, \\ldots, x_b``) in an argument list or a sequence: the
    entries of ``base`` from index ``first`` to ``last``, one tensor; ``listed`` are the indices written."""
    base: Name
    listed: tuple[Node, ...]
    last: Node
    column: int


@dataclass(frozen=True)
class Placeholder(Node):
    """``\\cdot`` as an argument, ``p(\\cdot \\mid x)``: passed to the callable as ``None``."""
    column: int


@dataclass(frozen=True)
class Sequence(Node):
    """``(x_s, x_{s+1}, \\dots, x_{s+L-1})``: the items (runs expanded) as one 1-D tensor."""
    items: tuple[Node, ...]
    column: int


@dataclass(frozen=True)
class Function(Node):
    """A built-in function written as a command or delimiters: ``exp log sqrt root abs norm floor ceil
    inner binom factorial max min diag tr sign``; ``option`` is a log base, a root degree, a norm's p."""
    name: str
    args: tuple[Node, ...]
    option: Node | str | None
    column: int


@dataclass(frozen=True)
class Binding:
    """The index a big operator runs over, from its subscript (and superscript for ``upper``).

    kind: ``range`` (``i=1`` to ``upper``), ``set`` (``i \\in S``, ``(u,i) \\in D``: ``over`` is the set),
    ``subsets`` (``S \\subseteq F``: every subset of the set ``over``),
    ``except`` (``j \\ne i``, ``w \\notin \\{a, b\\}``: ``over`` is the excluded value or set), ``pair`` (``i<j``: ``relation``),
    ``free`` (``\\sum_i``: the range comes from the sizes of the tensors ``i`` indexes).
    """
    kind: str
    variables: tuple[str, ...]
    lower: Node | None = None
    upper: Node | None = None
    over: Node | None = None
    relation: str = ""
    excluded: tuple[Node, ...] = ()  # ``-c \\le j \\le c, j \\ne 0``: values a range skips


@dataclass(frozen=True)
class SetLiteral(Node):
    """``\\{a, b, c\\}`` below a big operator (``w \\notin \\{\\text{King}, \\text{Man}\\}``): the values excluded."""
    elements: tuple[Node, ...]
    column: int


@dataclass(frozen=True)
class BigOperator(Node):
    """``\\sum \\prod \\max \\min \\arg\\max \\arg\\min`` over a binding."""
    name: str  # sum | prod | max | min | argmax | argmin
    binding: Binding
    body: Node
    column: int


@dataclass(frozen=True)
class Expectation(Node):
    """``\\mathbb{E}_{x \\sim p}[body]``: the mean of ``body`` over the samples of ``variables``."""
    variables: tuple[str, ...]
    distribution: Node | None
    body: Node
    column: int


@dataclass(frozen=True)
class Derivative(Node):
    """``\\nabla_\\theta E``, ``\\nabla f(a)`` (``variable`` None) and ``\\frac{\\partial E}{\\partial x}``: the
    gradient of the scalar ``body`` with respect to the value named ``variable``, by autograd; with ``power``
    (``\\partial \\sigma^2``), with respect to that power of it."""
    variable: Name | None
    body: Node
    column: int
    written: str  # \nabla or \partial, for messages
    power: Node | None = None


@dataclass(frozen=True)
class Integral(Node):
    """``\\int_a^b body \\, d\\alpha``: Gauss-Legendre quadrature of ``body`` over ``variable``."""
    variable: str
    lower: Node
    upper: Node
    body: Node
    column: int


@dataclass(frozen=True)
class Limit(Node):
    """``\\lim_{\\epsilon \\to a} body``: ``body`` at ``a + h`` for shrinking h, Richardson-extrapolated to h = 0."""
    variable: str
    target: Node
    body: Node
    column: int


@dataclass(frozen=True)
class Comparison(Node):
    """A condition: ``left op right`` with op one of ``= \\ne < > \\le \\ge``."""
    left: Node
    op: str
    right: Node
    column: int


@dataclass(frozen=True)
class Indicator(Node):
    condition: Comparison
    column: int


@dataclass(frozen=True)
class Cases(Node):
    branches: tuple[tuple[Node, Comparison | None], ...]  # None: otherwise
    column: int


@dataclass(frozen=True)
class Side:
    """One side of a relation chain, as tokens still to parse (a side is parsed only when it is evaluated)."""
    start: int
    stop: int
    column: int
    text: str


@dataclass(frozen=True)
class Clause:
    """``a = b \\le c``: sides and the relations between them (``relations[k]`` joins sides k and k+1)."""
    sides: tuple[Side, ...]
    relations: tuple[str, ...]


@dataclass(frozen=True)
class Formula:
    """A display equation: clauses separated by top-level commas (``A = a, \\qquad B = b``)."""
    tex: str
    clauses: tuple[Clause, ...]


# --- linear algebra and sample statistics (brackets, matrices, sets) ------------------------------

@dataclass(frozen=True)
class Moment(Node):
    """``E[body]``, ``\\mathbb{E}[body]`` (``kind`` mean) and ``\\mathrm{Var}[body]`` (``kind`` var) without a
    subscript: over the samples the check passes in ``samples=``. ``fallback`` is the plain letter ``E``:
    when a value named ``E`` is given, ``E[...]`` is that value times the bracket, as before."""
    kind: str
    body: Node
    fallback: Name | None
    column: int


@dataclass(frozen=True)
class Concat(Node):
    """``[a, b]``, ``[a; b]``, ``[a \\circ b]``: the parts joined (``separator`` is ``,`` ``;`` or ``circ``)."""
    parts: tuple[Node, ...]
    separator: str
    column: int


@dataclass(frozen=True)
class Matrix(Node):
    """``\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}`` (and pmatrix, matrix): rows of blocks."""
    rows: tuple[tuple[Node, ...], ...]
    column: int


@dataclass(frozen=True)
class Vdots(Node):
    """A ``\\vdots`` row of a matrix: the rows between its neighbours, by the pattern of the first and next rows."""
    column: int


@dataclass(frozen=True)
class Colon(Node):
    """``:`` as an index, ``E_{x,:}``: the whole axis."""
    column: int


@dataclass(frozen=True)
class Union(Node):
    """``\\mathcal{Y} \\cup \\mathcal{Y}^-`` below a big operator: the elements of each set in turn, each once."""
    sets: tuple[Node, ...]
    column: int


@dataclass(frozen=True)
class Exists(Node):
    """``\\exists i \\in V : c``, a condition: some element of the set meets ``condition``."""
    variable: str
    over: Node
    condition: "Comparison | Exists"
    column: int


@dataclass(frozen=True)
class SetBuilder(Node):
    """``\\{ x \\in X : c \\}``: the elements of ``over`` that meet ``condition`` (a list; ``|...|`` counts it)."""
    variable: str
    over: Node
    condition: "Comparison | Exists"
    column: int


@dataclass(frozen=True)
class SetOperation(Node):
    """``S \\cup \\{i\\}``, ``F \\setminus \\{i\\}``, ``A \\cap B`` on finite sets (a number is the set of itself)."""
    op: str  # cup | setminus | cap
    left: Node
    right: Node
    column: int
