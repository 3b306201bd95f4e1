"""texeval: evaluate the LaTeX of an ML paper's equation with PyTorch.

LaTeX -> tokens -> a typed expression tree (``tree.py``) -> a torch value. No sympy, no ``eval``.

    import texeval
    texeval.evaluate(r"\\theta_t = \\theta_{t-1} - \\alpha \\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon}",
                     {"theta_t-1": theta, "alpha": 1e-3, "mhat_t": m, "vhat_t": v, "epsilon": 1e-8})

``evaluate`` returns the rightmost side of the last clause (``clause=`` picks another: clauses are
separated by top-level commas, ``A = a, \\qquad B = b``, and by the line breaks of a formula that is one
``\\begin{aligned}`` block (or align, gathered, split), whose ``&`` are dropped); the left side of a definition is a name, not evaluated. ``sides`` evaluates every side and returns them with the relations between them.

Naming rule (the names a check passes values under):
- Greek letters by name (``\\beta`` -> ``beta``); font commands dropped (``\\mathbf{x}`` -> ``x``,
  ``\\mathcal{D}`` -> ``D``, ``\\mathrm{lr}`` -> ``lr``); words lose their spaces (``\\text{tokens per batch}``
  -> ``tokensperbatch``) and ``\\_`` is ``_`` (``step\\_num`` -> ``step_num``);
- accents appended (``\\hat m_t`` and ``\\hat{m_t}`` -> ``mhat_t``; hat, tilde, bar, dot, vec ...);
- the subscript after ``_`` with braces, spaces and backslashes dropped (``\\theta_{t-1}`` -> ``theta_t-1``,
  ``\\delta_{k,y}`` -> ``delta_k,y``, ``\\eta_{\\max}`` -> ``eta_max``);
- a parenthesised superscript or ``*`` is a label (``W_q^{(i)}`` -> ``W_q^(i)``,
  ``\\theta^*`` -> ``theta^*``, ``\\mathcal{Y}^-`` -> ``Y^-``, ``^+`` -> ``^+``); primes appended (``z'``); ``\\#`` is
  part of a name (``\\#\\mathrm{impression}`` -> ``#impression``). ``^\\top`` and ``^T`` (when no ``T`` is given)
  transpose. Another superscript on a name (letters, a word, a sum of names) is a label when the check names
  it, else a power: ``W_i^Q`` -> ``W_i^Q`` (or ``W^Q`` indexed by ``i``), ``e^d_k`` and ``e_k^d`` -> ``e_k^d``,
  ``\\phi^{GMF}`` -> ``phi^GMF``, ``\\mathrm{rab}^{p,t}`` -> ``rab^p,t``, ``h_{\\tau}^{n-1}`` -> ``h_tau^n-1``,
  ``\\tilde H^{l-1}`` -> ``Htilde^l-1``; ``x^2`` stays a power while no ``x^2`` is given.
  A list under the bare name is indexed by the label: ``e^d_{c_d}`` with ``e=[E_0, E_1, ...]`` is row
  ``c_d`` of ``e[d]``, ``\\theta^{(s)}`` with ``theta=[...]`` is ``theta[s]``.
Lookup: the full name wins; else, when the name without its subscript is given and the subscript is
an index (an integer value, an integer expression like ``t-1``, or an index bound by an enclosing
``\\sum``), the subscript indexes that tensor: ``x_i``, ``W_{ij}``, ``v_{i,f}``, ``m_{u \\leftarrow i}`` (one index
per comma, arrow or single letter side by side), counted from ``index_base`` (1, as papers count;
``index_base=0``); ``:`` is a whole axis (``E_{x,:}``). A list is indexed the same way: ``D_i`` is ``D[i]``,
``L_t(\\theta_{sh}, \\theta_t)`` calls ``L[t]``, ``E_i(x)`` ``E[i]``; ``|B_t|`` is the length of ``B[t]``. A list given under the full name ``L_t`` is indexed by ``t`` when a big
operator binds ``t`` (``\\sum_{t=1}^{T} w_t \\nabla L_t`` beside a total ``L``); a value given for ``t`` leaves it whole.
Indices may carry subscripts (``\\sum_{j_1=1}^{n}`` binds ``j_1``; ``\\sum_{(\\sigma^1, \\sigma^2, \\mu) \\in \\mathcal{D}}``
binds the labels ``sigma^1``, ``sigma^2``) and be indexed themselves (``v_{j_s}``, ``E_{x_i}``). A
variable bound by a big operator may be written as a name (``\\mathbf{v}' \\in V``, ``(w_a, w_b) \\in S``,
``\\mathbb{E}_{\\mathcal{B}}``) and also answers to its ``\\vec{}`` form (``w`` is ``\\vec{w}``).
A name the note defines in words is read through ``where=``, as the LaTeX given, at the place it is read:
``where={"f_2": r"f_{j_2}"}`` ("f_2 is the field of j_2") makes ``w_{j_1, f_2}`` inside ``\\sum_{j_2}`` read ``f_{j_2}``.
``\\sum_{i<j}`` runs over pairs; with a value given for ``j``, over ``i`` below it (``\\sum_{j<k}``, k given).
``e`` and ``\\pi`` are the constants unless a value is given under that name. ``\\sigma(x)``,
``\\mathrm{softmax}(x)``, ``\\operatorname{ReLU}(x)``, ``GELU``, ``sign``, ``diag``, ``tr`` are built in;
a callable passed under the name wins, and any other ``\\operatorname{X}(a, b)`` needs ``X=<callable>``; a name
bound to a callable, as the argument of a callable, is passed as the function (``H(p)``, p: k -> p(k));
``\\operatorname{sg}[x]`` and ``E_m[i]`` call ``sg``, ``E_m`` when given as callables (never a built-in), else
multiply; ``\\hat P[\\sigma^1 \\succ \\sigma^2]`` calls ``Phat(sigma^1, sigma^2)`` (the preferred first; ``\\prec`` swaps).
``\\arg\\max p(x)`` with no index below is the position of the largest entry of the last axis,
counted from ``index_base``.
``\\underbrace{a}_{\\text{note}}`` is ``a``. A callable that returns a tuple of tensors
(``U, V, Q, K = \\operatorname{Split}(x)``) makes the result that tuple.

Models and conditionals: in an argument list ``\\mid``, ``;``, ``\\|`` and ``\\parallel`` separate arguments like
commas, so ``p_\\theta(y_t \\mid c, y_{<t})`` calls ``p_theta(y_t, c, y_<t)``, ``P(u_i \\mid \\ldots; \\Theta)`` passes
``Theta`` last and ``D_{KL}(p \\| q)`` is ``D_KL(p, q)``; a lone ``\\cdot`` is passed as ``None``
(``p(\\cdot \\mid x)``: the whole distribution); numbers reach a callable as tensors. A run ``x_1, \\ldots, x_{t-1}``
(or ``t_{k+1}, t_{k+2}, \\ldots, t_N``) is one argument, entries 1..t-1 of ``x`` (empty at t = 1; a window
``u_{i-k}, \\ldots`` starts no earlier than 1); ``(a, x_s, \\dots, x_e)`` is a 1-D tensor. Superscripts count a run
the same way (``x^1, \\ldots, x^m``: entries 1..m of ``x``, never powers). ``\\sum_{(x, y)}`` naming no set runs over
the rows given as ``indices={"x,y": [(x, y), ...]}``. A subscript ``<t``,
``\\le t``, ``>t``, ``\\ge t`` slices (``y_{<t}``: the entries before t); a sliced vector of positions gathers
(``\\mathbf{x}_{\\mathbf{z}_{<t}}``); a list indexes like a tensor (a slice of numbers is a tensor), ``|y|`` is its
length. ``\\sum_{x'}`` binds a primed index; ``\\sum_{-c \\le j \\le c, j \\ne 0}`` a range with exclusions.
``\\mathrm{softmax}_j(s)`` normalises ``s`` over the values of ``j`` (from ``indices=`` or the tensors ``j`` indexes):
entry ``j`` when ``j`` has a value, else the vector over ``j``. ``\\overrightarrow{\\Theta}`` is ``Thetaright``
(``left`` for the arrow back).

Products: ``\\cdot \\times * /`` and ``\\odot`` are elementwise with broadcasting; juxtaposition is a
product when a side is a scalar, the matrix product between tensors (``W x``, ``x^\\top y``, ``Q K^\\top``,
``x y^\\top`` outer), and elementwise with ``elementwise=True``. Two plain vectors side by side are an
error (dot or elementwise?). ``\\otimes`` is the outer product of vectors, else Kronecker. A matrix to
the power -1 is its inverse, to the power 1/2 or -1/2 the root of a symmetric positive definite matrix
(``D^{-1/2}``); other matrix powers need ``elementwise=True``. ``\\cdot`` between two vectors of one length
is their dot product only with ``dot=True``; ``row_vectors=True`` reads vectors as rows (the paper's
convention: ``x^\\top y`` outer, ``x y^\\top`` a dot). ``\\cos(a, b)`` with two arguments is the cosine
similarity (last axis).

Brackets and matrices: ``[a, b]``, ``[a; b]`` and ``[a \\circ b]`` concatenate: vectors (rows) into one
vector (row); matrices along the first axis (``;`` and ``\\circ``, the rows or the sequence) or side by side
(``,``). ``\\begin{bmatrix}`` / ``pmatrix`` / ``matrix``: rows of blocks (a number 1x1, a vector a column,
``x^\\top`` a row, a literal 0 the zero block its neighbours size); one column is a vector. A ``\\vdots`` row
stands for the rows between its neighbours, by the counter in which the first row (``M_{s_1} + P_1``)
and the row after the dots (``M_{s_n} + P_n``) differ; such a matrix lists rows (a vector entry is a row).

Samples and sets: ``\\mathbb{E}[x]`` and ``E[x]`` (without subscript; ``E`` only when no value is named
``E``) are the mean, ``\\mathrm{Var}[x]`` the population variance (1/n), over ``samples=``: each name in
``samples`` that the bracket uses is bound to one sample (axis 0) at a time, other names keep their value
(``w_i (x_i - \\mathbb{E}[x_i])`` with ``x`` the instance and ``samples={"x": background}``).
``\\sum_{S \\subseteq F}`` runs over every subset (a frozenset; ``|S|`` its size), with ``\\cup \\setminus
\\cap`` on finite sets (``\\{i\\}`` the set of ``i``) and ``\\cup`` of the sets below a sum;
``|\\{x \\in X : c\\}|`` counts the elements that meet ``c``; ``\\exists i \\in V : c`` is a condition;
``\\min_{0 \\le j < i}`` runs over the integers between its bounds (below a max or a min only with a strict
bound: ``\\max_{0 \\le s \\le 1}`` may mean an interval, and is an error). Cases may put a comma before ``&``;
when every case has a condition, the value where none holds is NaN.

Derivatives, by autograd, of a scalar: ``\\nabla f(a)`` and ``\\nabla_\\theta f(a)``, one call of a callable the
check passes, are f's gradient at a (unless ``theta``'s value requires grad: then as below, through the graph) (``\\nabla_\\theta f_t(\\theta_{t-1})``; likewise the paper's shorthand
``\\frac{\\partial S(\\bar x + \\alpha (x - \\bar x))}{\\partial x}``, S's gradient at that point); with several
arguments the one named like the subscript, else ``gradient_argument=k`` (1-based). Any other
``\\nabla_\\theta E`` / ``\\frac{\\partial E}{\\partial \\theta}`` differentiates E as written with respect to the value of
``theta``: through the graph the values carry when that value requires grad (pass ``theta`` with
``requires_grad`` and ``L`` computed from it for ``\\frac{\\partial L}{\\partial \\theta}``), else at a fresh leaf;
``\\partial x_i`` with only ``x`` given is the gradient with respect to ``x``, indexed by ``i``; ``\\partial \\sigma^2``
is with respect to that power of ``sigma``.
``\\int_a^b E \\, d\\alpha`` is Gauss-Legendre quadrature with ``quadrature_points`` (32) nodes, ``alpha`` bound at each.
``\\lim_{h \\to a} E`` (a finite) is E at a + ``limit_step`` 2^-j, j < ``limit_levels`` (1e-2, 6), Richardson-extrapolated:
a one-sided numeric limit for an E smooth in h.

An expectation that names no variable (``\\mathbb{E}(\\sum_t \\ldots)`` over the data) averages over the names given in
``samples=`` (``samples={"x": X, "x^corrupt": X_c}``, samples along axis 0), the body evaluated for each.

Values: tensors (float64 by default, ``dtype=``; left on their device), Python numbers, callables, and
for ``\\sum_{i \\in S}`` lists of ints or tuples, of vectors or of (vector, label) pairs, or a matrix (one
variable runs over its rows). Errors are :class:`TexEvalError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch

from . import parser
from .errors import TexEvalError
from .evaluate import BUILTINS, Evaluator, Options

__all__ = ["evaluate", "sides", "Sides", "Options", "TexEvalError", "BUILTINS", "parse"]


@dataclass(frozen=True)
class Sides:
    """Every side of one clause, evaluated, and the relations between neighbours (``=``, ``<=``, ``approx``, ``propto`` ...)."""
    values: tuple[torch.Tensor, ...]
    relations: tuple[str, ...]
    texts: tuple[str, ...]


def parse(tex: str):
    """The clauses and sides of ``tex`` (cached by the string)."""
    return parser.formula(tex)


def evaluate(tex: str, values: Mapping[str, Any], *, equation: str | None = None, clause: int = -1,
             **options) -> torch.Tensor:
    """The value of the rightmost side of clause ``clause`` of ``tex``, for ``values``. Options: see :class:`Options`."""
    try:
        chosen = _clause(tex, clause)
        last = chosen.sides[-1]
        if chosen.relations and chosen.relations[-1] in ("in", "sim"):
            raise TexEvalError("\\in" if chosen.relations[-1] == "in" else "\\sim", last.column,
                               "the right side is a set or a distribution, not a value")
        node = parser.side(tex, last.start, last.stop)
        return Evaluator(values, Options(**options)).result(node)
    except TexEvalError as error:
        raise error.for_equation(equation) from None


def sides(tex: str, values: Mapping[str, Any], *, equation: str | None = None, clause: int = -1, **options) -> Sides:
    """Every side of clause ``clause`` evaluated (the harness checks the relations between them)."""
    try:
        chosen = _clause(tex, clause)
        evaluator = Evaluator(values, Options(**options))
        results = tuple(evaluator.result(parser.side(tex, s.start, s.stop)) for s in chosen.sides)
        return Sides(results, chosen.relations, tuple(s.text for s in chosen.sides))
    except TexEvalError as error:
        raise error.for_equation(equation) from None


def _clause(tex: str, clause: int):
    clauses = parser.formula(tex).clauses
    if not -len(clauses) <= clause < len(clauses):
        raise TexEvalError(f"clause {clause}", 0, f"the formula has {len(clauses)} clause(s)")
    return clauses[clause]
