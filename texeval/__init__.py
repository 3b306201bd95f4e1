"""texeval: evaluate the LaTeX of an ML paper's equation with PyTorch.

LaTeX -> tokens -> a typed expression tree (``tree.py``) -> a torch value. No sympy, no ``eval``.

    import texeval
    texeval.evaluate(r"\\theta_t = \\theta_{t-1} - \\alpha \\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon}",
                     {"theta_t-1": theta, "alpha": 1e-3, "mhat_t": m, "vhat_t": v, "epsilon": 1e-8})

``evaluate`` returns the rightmost side of the last clause (``clause=`` picks another: clauses are
separated by top-level commas, ``A = a, \\qquad B = b``, and by the line breaks of a formula that is one
``\\begin{aligned}`` block, whose ``&`` are dropped); the left side of a definition is a name, not evaluated. ``sides`` evaluates every side and returns them with the relations between them.

Naming rule (the names a check passes values under):
- Greek letters by name (``\\beta`` -> ``beta``); font commands dropped (``\\mathbf{x}`` -> ``x``,
  ``\\mathcal{D}`` -> ``D``, ``\\mathrm{lr}`` -> ``lr``); words lose their spaces (``\\text{tokens per batch}``
  -> ``tokensperbatch``) and ``\\_`` is ``_`` (``step\\_num`` -> ``step_num``);
- accents appended (``\\hat m_t`` and ``\\hat{m_t}`` -> ``mhat_t``; hat, tilde, bar, dot, vec ...);
- the subscript after ``_`` with braces, spaces and backslashes dropped (``\\theta_{t-1}`` -> ``theta_t-1``,
  ``\\delta_{k,y}`` -> ``delta_k,y``, ``\\eta_{\\max}`` -> ``eta_max``);
- a parenthesised superscript or ``*`` is a label (``W_q^{(i)}`` -> ``W_q^(i)``,
  ``\\theta^*`` -> ``theta^*``, ``\\mathcal{Y}^-`` -> ``Y^-``); primes appended (``z'``). Other superscripts are
  powers, except that letters, a word or a sum of names are a label when a value is given under the labelled
  name (``\\phi^{GMF}`` -> ``phi^GMF``, ``h_{\\tau}^{n-1}`` -> ``h_tau^n-1``); ``^\\top`` and ``^T`` (when no
  ``T`` is given) transpose; ``\\#`` is part of a name (``\\#\\mathrm{impression}_i`` -> ``#impression``).
Lookup: the full name wins; else, when the name without its subscript is given and the subscript is
an index (an integer value, an integer expression like ``t-1``, or an index bound by an enclosing
``\\sum``), the subscript indexes that tensor: ``x_i``, ``W_{ij}``, ``v_{i,f}`` (one index per comma or
per single letter side by side), counted from ``index_base`` (1, as papers count; ``index_base=0``);
``:`` is a whole axis (``E_{x,:}``), and a list is indexed too (``D_i``). A variable bound by a big operator
may be written as a name (``\\mathbf{v}' \\in V``, ``(w_a, w_b) \\in S``, ``\\mathbb{E}_{\\mathcal{B}}``) and also
answers to its ``\\vec{}`` form (``w`` is ``\\vec{w}``).
``e`` and ``\\pi`` are the constants unless a value is given under that name. ``\\sigma(x)``,
``\\mathrm{softmax}(x)``, ``\\operatorname{ReLU}(x)``, ``GELU``, ``sign``, ``diag``, ``tr`` are built in;
a callable passed under the name wins, and any other ``\\operatorname{X}(a, b)`` needs ``X=<callable>``.

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
``\\min_{0 \\le j < i}`` runs over the integers between its bounds. Cases may put a comma before ``&``;
when every case has a condition, the value where none holds is NaN.

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
