"""The expression tree -> a PyTorch value, for the values a check passes.

Values are looked up by the naming rule (see the package docstring): the longest name given wins
(``m_t``), else a given base name indexed by its subscript (``x_i`` with ``x`` given and ``i`` an
integer or a bound index; ``index_base`` 1 by default). Python numbers stay Python numbers until
they meet a tensor; results come back as tensors of ``dtype`` on the values' device.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import torch

from . import parser, tree
from .errors import TexEvalError

BUILTINS: dict[str, Callable] = {
    "softmax": lambda x: torch.softmax(x, dim=-1), "ReLU": torch.relu, "relu": torch.relu,
    "GELU": torch.nn.functional.gelu, "sigmoid": torch.sigmoid, "sigma": torch.sigmoid, "tanh": torch.tanh,
    "sign": torch.sign, "sgn": torch.sign, "diag": torch.diag, "tr": torch.trace, "trace": torch.trace,
}


@dataclass(frozen=True)
class Options:
    dtype: torch.dtype = torch.float64
    elementwise: bool = False  # juxtaposition of two tensors multiplies elementwise (formulas over samples)
    index_base: int = 1  # the first index papers count from
    indices: Mapping[str, Any] = field(default_factory=dict)  # index variable -> the values it runs over
    max_terms: int = 10 ** 6  # terms a big operator may add up, over the whole evaluation
    max_elements: int = 10 ** 8  # elements one intermediate tensor may have
    samples: Mapping[str, Any] = field(default_factory=dict)  # name -> its samples (axis 0), for E[.], Var[.] and E(...)
    dot: bool = False  # \cdot between two vectors of one length is their dot product
    row_vectors: bool = False  # vectors are rows (the paper's convention): x^\top y is outer, x y^\top a dot
    gradient_argument: int | None = None  # \nabla l(x, w) with several arguments: which one (1-based) it is taken for
    quadrature_points: int = 32  # Gauss-Legendre nodes of a definite integral \int_a^b
    limit_step: float = 1e-2  # \lim_{x \to a}: the body at a + limit_step 2^-j, j < limit_levels, extrapolated
    limit_levels: int = 6
    where: Mapping[str, str] = field(default_factory=dict)  # name -> the LaTeX the note's prose defines it by (f_1 -> f_{j_1})


@dataclass(frozen=True)
class Row:
    """A transposed vector (``x^\\top``): a row, so ``x^\\top y`` is a dot and ``x y^\\top`` an outer product."""
    vector: torch.Tensor


class Evaluator:
    """Walks one tree for one set of values; ``bound`` holds the indices of enclosing big operators."""

    def __init__(self, values: Mapping[str, Any], options: Options, terms: list[int] | None = None,
                 bound: frozenset = frozenset()):
        self.values = values
        self.options = options
        self.terms = terms if terms is not None else [0]
        self.bound = bound  # the index variables enclosing big operators bind (not the values the check gives)
        self.device = next((v.device for v in values.values() if torch.is_tensor(v)), torch.device("cpu"))

    def with_bound(self, extra: Mapping[str, Any]) -> "Evaluator":
        return Evaluator({**self.values, **extra}, self.options, self.terms, self.bound | frozenset(extra))

    def result(self, node: tree.Node) -> torch.Tensor | tuple[torch.Tensor, ...]:
        value = unrow(self.value(node))
        if isinstance(value, (frozenset, list)):
            raise TexEvalError(_written(node), node.column, "the formula's value is a set, not a number or a tensor")
        if isinstance(value, tuple) and value and all(torch.is_tensor(v) for v in value):
            return tuple(self.one_result(v) for v in value)  # U, V, Q, K = Split(...): a callable's several outputs
        return self.one_result(value)

    def one_result(self, value) -> torch.Tensor:
        if torch.is_tensor(value):
            convert = value.dtype != self.options.dtype and (value.is_floating_point() or value.dtype == torch.bool)
            return value.to(self.options.dtype) if convert else value
        return torch.as_tensor(value, dtype=self.options.dtype, device=self.device)

    # --- dispatch --------------------------------------------------------------------------------

    def value(self, node: tree.Node):
        method = getattr(self, "_" + type(node).__name__.lower())
        try:
            return method(node)
        except TexEvalError:
            raise
        except (RuntimeError, TypeError, IndexError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise TexEvalError(_written(node), node.column, f"{type(exc).__name__}: {exc}") from exc

    def _number(self, node: tree.Number):
        return node.value

    def _name(self, node: tree.Name):
        found = self.lookup(node)
        if callable(found) and not torch.is_tensor(found):
            raise TexEvalError(node.written, node.column, f"{node.full} is a function here; apply it, like {node.full}(x)")
        return found

    def lookup(self, node: tree.Name, callables: bool = False):
        values = self.values
        if node.full in values:
            if isinstance(values[node.full], (list, tuple)) and self.indexed_by_bound(node):
                return self.subscripted(values[node.full], node)  # L_t=[...] under \sum_t, beside a total L
            return self.convert(values[node.full])
        if node.full in self.options.where:
            return self.defined(node)
        if node.subscript is not None and node.unindexed in values:
            return self.subscripted(self.convert(values[node.unindexed]), node)
        if self.labels_a_list(node):
            member = self.index(values[node.family], node.label_parts, node)
            return member if node.subscript is None else self.subscripted(member, node)
        if node.subscript is None and not node.label and not node.primes:
            if node.base == "e":
                return math.e
            if node.base == "pi":
                return math.pi
            if callables and node.base in BUILTINS:
                return BUILTINS[node.base]
        raise TexEvalError(node.written, node.column, f"no value for {node.full}; pass {node.full}=... "
                           f"(names given: {', '.join(sorted(map(str, values))) or 'none'})")

    def indexed_by_bound(self, node: tree.Name) -> bool:
        """``L_t`` whose subscript is one index a big operator binds (``\\sum_{t=1}^{T} w_t \\nabla L_t``)."""
        parts = node.subscript.parts if node.subscript is not None else None
        return parts is not None and len(parts) == 1 and isinstance(parts[0], tree.Name) \
            and parts[0].full in self.bound

    def defined(self, node: tree.Name):
        """A name the note defines in words, read through ``where={name: LaTeX}`` at the place it is read (the
        indices bound there apply: ``f_1`` -> ``f_{j_1}`` inside ``\\sum_{j_1}``); the definition may not use itself."""
        text = self.options.where[node.full]
        rest = replace(self.options, where={k: v for k, v in self.options.where.items() if k != node.full})
        try:
            clauses = parser.formula(text).clauses
            if len(clauses) != 1 or len(clauses[0].sides) != 1:
                raise TexEvalError(text, 0, "a definition in where= is one expression, with no relation or comma")
            span = clauses[0].sides[0]
            return Evaluator(self.values, rest, self.terms, self.bound).value(parser.side(text, span.start, span.stop))
        except TexEvalError as error:
            raise TexEvalError(node.written, node.column, f"{node.full}, defined as {text}: cannot evaluate "
                               f"{error.construct}: {error.reason}") from None

    def subscripted(self, base, node: tree.Name):
        if node.subscript.parts is None:
            raise TexEvalError(node.written, node.column, f"no value named {node.full}; {node.unindexed} is given "
                               f"but its subscript {node.subscript.text} is not an index")
        return self.index(base, node.subscript.parts, node)

    def labels_a_list(self, node: tree.Name) -> bool:
        """``e^d`` or ``\\theta^{(s)}`` with a list given under ``e``/``theta``: the label indexes it."""
        return node.label_parts is not None and isinstance(self.values.get(node.family), (list, tuple))

    def named(self, node: tree.Name) -> bool:
        """Whether the check gives ``node`` a value (itself, its unindexed name, or a list its label indexes)."""
        return node.full in self.values or node.full in self.options.where or (node.subscript is not None and node.unindexed in self.values) \
            or self.labels_a_list(node)

    def _labelled(self, node: tree.Labelled):
        if node.power is None or self.named(node.name):
            return self.value(node.name)
        try:
            return self.value(node.power)
        except TexEvalError as error:
            if not error.reason.startswith("no value for"):
                raise
            raise TexEvalError(node.name.written, node.name.column, f"no value for {node.name.full} (a label), nor for "
                               f"{error.construct} (as a power); pass {node.name.full}=...") from None

    def convert(self, value):
        if torch.is_tensor(value):
            if value.dtype.is_floating_point or value.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
                return value.to(self.options.dtype) if value.dtype != self.options.dtype else value
            return value
        if isinstance(value, bool):
            return int(value)
        return value

    def index(self, base, parts: tuple[tree.Node, ...], node: tree.Node):
        if isinstance(base, (list, tuple)) and len(parts) == 1:  # a sequence, a family or sets (D_i) passed as a list
            return self.index_list(base, parts[0], node)
        if isinstance(base, (list, tuple)) and parts:
            return self.member(base, parts, node)
        if not torch.is_tensor(base):
            raise TexEvalError(_written(node), node.column, "only a tensor can be indexed by a subscript")
        if base.dim() < len(parts):
            raise TexEvalError(_written(node), node.column, f"{len(parts)} indices into a tensor of shape {tuple(base.shape)}")
        if any(isinstance(p, tree.Slice) or _picks(p) for p in parts):  # (a Colon is slice(0, size) there too)
            return base[tuple(self.selection(p, base.shape[axis], node) for axis, p in enumerate(parts))]
        positions = []
        for part in parts:
            if isinstance(part, tree.Colon):
                positions.append(slice(None))
                continue
            position = self.value(part)
            positions.append(_as_index(position, part) - self.options.index_base)
        for axis, position in enumerate(positions):
            if isinstance(position, slice):
                continue
            if not -base.shape[axis] <= position < base.shape[axis] or position < 0:
                raise TexEvalError(_written(node), node.column, f"index {position + self.options.index_base} is out of range "
                                   f"for axis {axis} of size {base.shape[axis]} (index_base={self.options.index_base})")
        return base[tuple(positions)]

    def member(self, items: list | tuple, parts: tuple[tree.Node, ...], node: tree.Node):
        """``L_t``, ``E_i(x)``, ``e^d``: the member of a list (of tensors or callables) the first index picks."""
        position = _as_index(self.value(parts[0]), parts[0]) - self.options.index_base
        if not 0 <= position < len(items):
            raise TexEvalError(_written(node), node.column, f"index {position + self.options.index_base} is out of range "
                               f"for a list of {len(items)} (index_base={self.options.index_base})")
        item = self.convert(items[position])
        return self.index(item, parts[1:], node) if parts[1:] else item

    def selection(self, part: tree.Node, size: int, node: tree.Node):
        """One axis of an index with a slice in it: ``<t`` a slice, ``z_{<t}`` (positions) a gather, else one entry."""
        base = self.options.index_base
        if isinstance(part, tree.Colon):  # E_{x,:}: the whole axis
            return slice(0, size)
        if isinstance(part, tree.Slice):
            bound = _as_index(self.value(part.bound), part.bound) - base
            start, stop = {"<": (0, bound), "<=": (0, bound + 1), ">": (bound + 1, size), ">=": (bound, size)}[part.relation]
            if not 0 <= start <= stop <= size:
                raise TexEvalError(_written(node), node.column, f"the entries {part.relation} "
                                   f"{bound + base} reach outside an axis of size {size} (index_base={base})")
            return slice(start, stop)
        value = self.value(part)
        if _picks(part):
            positions = self.tensor(value)
            if positions.dim() != 1 or not bool((positions == positions.round()).all()):
                raise TexEvalError(_written(part), part.column, "positions that index a tensor must be a vector of integers")
            positions = positions.long() - base
            if positions.numel() and not bool(((positions >= 0) & (positions < size)).all()):
                raise TexEvalError(_written(node), node.column, f"a position is out of range for an axis of size {size} "
                                   f"(index_base={base})")
            return positions
        position = _as_index(value, part) - base
        if not 0 <= position < size:
            raise TexEvalError(_written(node), node.column, f"index {position + base} is out of range for an axis of "
                               f"size {size} (index_base={base})")
        return position

    def index_list(self, base: list | tuple, part: tree.Node, node: tree.Node):
        """An entry of a list, or (a slice, a gather) a list of entries: a tensor when they are numbers."""
        chosen = self.selection(part, len(base), node)
        if isinstance(chosen, int):
            return self.convert(base[chosen])
        entries = [base[k] for k in chosen.tolist()] if torch.is_tensor(chosen) else list(base[chosen])
        if all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in entries):
            return torch.tensor(entries, dtype=self.options.dtype, device=self.device)
        return entries

    def _run(self, node: tree.Run):
        """``x_a, [x_{a+1},] \\ldots, x_b``: entries a..b of x (none when b = a - 1, as in ``x_1, \\ldots, x_{t-1}``
        at t = 1; from the first entry when a is before it); the indices written before the ellipsis count up by one."""
        base = self.lookup(tree.Name(node.base.base, None, node.base.label, node.base.primes, node.column,
                                     node.base.unindexed), callables=False)
        first, *rest = [_as_index(self.value(p), p) for p in node.listed]
        last = _as_index(self.value(node.last), node.last)
        if rest != list(range(first + 1, first + 1 + len(rest))) or last < first - 1:
            raise TexEvalError(node.base.written, node.column, f"the indices of this run do not count up by one "
                               f"({', '.join(map(str, [first, *rest]))}, ..., {last})")
        if not isinstance(base, (list, tuple)) and not (torch.is_tensor(base) and base.dim() >= 1):
            raise TexEvalError(node.base.written, node.column, f"a run takes entries of {node.base.unindexed}, which is "
                               f"not a tensor or a list")
        size = len(base) if isinstance(base, (list, tuple)) else base.shape[0]
        start, stop = first - self.options.index_base, last - self.options.index_base + 1
        if stop > size or stop < 0:
            raise TexEvalError(node.base.written, node.column, f"the run {first}..{last} is out of range for "
                               f"{node.base.unindexed} of length {size} (index_base={self.options.index_base})")
        return base[max(start, 0):max(stop, start, 0)]  # a window u_{i-k}, ..., u_{i-1} starts at the text's start

    def _placeholder(self, node: tree.Placeholder):
        return None

    def _sequence(self, node: tree.Sequence):
        """``(a, b, x_c, \\ldots, x_d)``: one 1-D tensor, runs expanded in place."""
        pieces = []
        for item in node.items:
            value = self.tensor(unrow(self.value(item)))
            if value.dim() > 1 or (value.dim() == 1 and not isinstance(item, tree.Run)):
                raise TexEvalError(_written(item), item.column, "a sequence's items must be numbers (or runs of them)")
            pieces.append(value.reshape(-1))
        return torch.cat(pieces)

    # --- arithmetic ------------------------------------------------------------------------------

    def _sum(self, node: tree.Sum):
        total = None
        for sign, term in node.terms:
            value = unrow(self.value(term))
            value = -value if sign == "-" else value
            total = value if total is None else self.elementwise(total, value, lambda a, b: a + b, term)
        return total

    def _negate(self, node: tree.Negate):
        value = self.value(node.operand)
        return Row(-value.vector) if isinstance(value, Row) else -value

    def _product(self, node: tree.Product):
        result = self.value(node.factors[0][1])
        for op, factor in node.factors[1:]:
            right = self.value(factor)
            if op == "juxt":
                result = self.juxtapose(result, right, factor)
            elif op == "cdot" and self.options.dot and _vectors(result, right):
                result = unrow(result) @ unrow(right)
            elif op in ("*", "cdot", "odot", "circ"):
                result = self.elementwise(unrow(result), unrow(right), lambda a, b: a * b, factor)
            elif op == "/":
                result = self.elementwise(unrow(result), unrow(right), _divide, factor)
            elif op == "otimes":
                a, b = unrow(result), unrow(right)
                self.guard(a.numel() * b.numel(), factor)
                result = torch.outer(a, b) if a.dim() == 1 and b.dim() == 1 else torch.kron(a, b)
        return result

    def juxtapose(self, left, right, node: tree.Node):
        if _scalar(left) or _scalar(right) or self.options.elementwise:
            if isinstance(left, Row) and _scalar(right):
                return Row(left.vector * right)
            if isinstance(right, Row) and _scalar(left):
                return Row(left * right.vector)
            return self.elementwise(unrow(left), unrow(right), lambda a, b: a * b, node)
        if self.options.row_vectors and isinstance(left, Row) != isinstance(right, Row) and _vectors(left, right):
            a, b = unrow(left), unrow(right)
            if isinstance(left, Row):  # a column times a row
                self.guard(a.numel() * b.numel(), node)
                return torch.outer(a, b)
            return a @ b
        if isinstance(left, Row):
            product = left.vector @ unrow(right) if not isinstance(right, Row) else None
            if product is None:
                raise TexEvalError(_written(node), node.column, "a row vector next to a row vector")
            return Row(product) if torch.is_tensor(right) and right.dim() >= 2 else product
        if isinstance(right, Row):
            if left.dim() == 1:
                self.guard(left.numel() * right.vector.numel(), node)
                return torch.outer(left, right.vector)
            raise TexEvalError(_written(node), node.column, "a matrix next to a row vector")
        if left.dim() == 1 and right.dim() == 1:
            raise TexEvalError(_written(node), node.column, "two vectors side by side: write x^\\top y for a dot product, "
                               "x \\odot y (or pass elementwise=True) for an elementwise one")
        return left @ right

    def elementwise(self, a, b, op, node: tree.Node):
        if torch.is_tensor(a) and torch.is_tensor(b):
            self.guard(math.prod(torch.broadcast_shapes(a.shape, b.shape)), node)
        return op(a, b)

    def guard(self, elements: int, node: tree.Node) -> None:
        if elements > self.options.max_elements:
            raise TexEvalError(_written(node), node.column, f"the result would have {elements:,} elements, more than "
                               f"max_elements={self.options.max_elements:,}")

    def _power(self, node: tree.Power):
        base, exponent = unrow(self.value(node.base)), unrow(self.value(node.exponent))
        if torch.is_tensor(base) and base.dim() >= 2 and not self.options.elementwise:
            if _scalar(exponent) and float(exponent) == -1:
                return torch.linalg.inv(base)
            if _scalar(exponent) and float(exponent) in (0.5, -0.5):
                return self.symmetric_root(base, float(exponent), node)
            raise TexEvalError(_written(node), node.column, "a power of a matrix: matrix power or elementwise? pass "
                               "elementwise=True for elementwise")
        if not torch.is_tensor(base) and not torch.is_tensor(exponent):
            if isinstance(base, int) and isinstance(exponent, int) and 0 <= exponent <= 64:
                return base ** exponent
            try:
                return float(base) ** float(exponent)
            except OverflowError:
                raise TexEvalError(_written(node), node.column, "the power is too large for a float64") from None
        return torch.pow(base, exponent) if torch.is_tensor(base) else torch.pow(torch.as_tensor(base, dtype=self.options.dtype, device=exponent.device), exponent)

    def symmetric_root(self, base: torch.Tensor, exponent: float, node: tree.Node) -> torch.Tensor:
        """``D^{1/2}``, ``D^{-1/2}`` of a symmetric positive (semi)definite matrix, by its eigendecomposition."""
        if base.dim() != 2 or base.shape[0] != base.shape[1] or not torch.allclose(base, base.T):
            raise TexEvalError(_written(node), node.column, "a matrix to the power 1/2 or -1/2 must be square and symmetric")
        eigenvalues, vectors = torch.linalg.eigh(base)
        scale = eigenvalues.abs().max().clamp(min=1)
        if exponent < 0 and bool((eigenvalues <= 1e-12 * scale).any()) or bool((eigenvalues < -1e-12 * scale).any()):
            raise TexEvalError(_written(node), node.column, "the matrix is not positive definite, so this power is undefined")
        return (vectors * eigenvalues.clamp(min=0) ** exponent) @ vectors.T

    def _transpose(self, node: tree.Transpose):
        if node.maybe_power is not None and "T" in self.values:
            return self._power(tree.Power(node.operand, node.maybe_power, node.column))
        value = self.value(node.operand)
        if isinstance(value, Row):
            return value.vector
        if not torch.is_tensor(value) or value.dim() == 0:
            return value
        return Row(value) if value.dim() == 1 else value.transpose(-2, -1)

    def _index(self, node: tree.Index):
        return self.index(unrow(self.value(node.target)), node.parts, node)

    # --- functions -------------------------------------------------------------------------------

    def _call(self, node: tree.Call):
        name = node.function
        if name.base == "softmax" and name.subscript is not None and name.full not in self.values \
                and name.unindexed not in self.values:
            return self.softmax_over(node)
        function = self.lookup(node.function, callables=not node.brackets)
        if callable(function) and not torch.is_tensor(function):
            return function(*[self.call_argument(a) for a in node.args])
        args = [unrow(self.value(a)) for a in node.args]
        if len(args) == 1:
            return self.juxtapose(function, args[0], node)
        raise TexEvalError(node.function.written, node.column, f"{node.function.full}(...) with {len(args)} arguments "
                           f"needs a callable: pass {node.function.full}=<function>")

    def call_argument(self, node: tree.Node):
        """An argument of a callable: a name bound to a callable is passed as that function (``H(p)``, p a distribution); a placeholder ``\\cdot`` is None, a list or a set (frozenset) stays as it is."""
        if isinstance(node, tree.Name):
            found = self.lookup(node)
            if callable(found) and not torch.is_tensor(found):
                return found
        value = unrow(self.value(node))
        return value if value is None or isinstance(value, (list, frozenset)) else self.tensor(value)

    def softmax_over(self, node: tree.Call):
        """``\\mathrm{softmax}_j(s)``: ``s`` for every ``j`` in its range, normalised over ``j``; entry ``j`` when ``j``
        has a value, else the whole vector over ``j``."""
        subscript = node.function.subscript
        if len(node.args) != 1 or subscript.parts is None or len(subscript.parts) != 1 or \
                not isinstance(subscript.parts[0], tree.Name) or subscript.parts[0].subscript is not None:
            raise TexEvalError(node.function.written, node.column, "softmax_j takes one argument and one index letter")
        variable = subscript.parts[0].full
        carrier = tree.BigOperator("sum", tree.Binding("free", (variable,)), node.args[0], node.column)
        try:
            domain = self.domain(variable, carrier)
        except TexEvalError as error:
            raise TexEvalError(node.function.written, node.column, error.reason) from None
        self.terms[0] += len(domain)
        scores = torch.stack([self.tensor(unrow(self.with_bound({variable: k}).value(node.args[0]))) for k in domain])
        weights = torch.softmax(scores, dim=0)
        if variable not in self.values:
            return weights
        return weights[domain.index(_as_index(self.value(subscript.parts[0]), subscript.parts[0]))]

    def tensor(self, value):
        return value if torch.is_tensor(value) else torch.as_tensor(value, dtype=self.options.dtype, device=self.device)

    def _function(self, node: tree.Function):
        name = node.name
        args = [unrow(self.value(a)) for a in node.args]
        if name in ("max", "min"):
            if len(args) == 1:
                x = self.tensor(args[0])
                return x.amax(-1) if name == "max" else x.amin(-1)
            result = self.tensor(args[0])
            for other in args[1:]:
                other = self.tensor(other)
                result = torch.maximum(result, other) if name == "max" else torch.minimum(result, other)
            return result
        if name == "cosine":
            a, b = self.tensor(args[0]), self.tensor(args[1])
            return torch.nn.functional.cosine_similarity(a, b, dim=-1, eps=0.0)
        if name in ("argmax", "argmin"):  # \arg\max p(x): the position of the largest entry, from index_base
            x = self.tensor(args[0])
            return (x.argmax(-1) if name == "argmax" else x.argmin(-1)) + self.options.index_base
        if name == "inner":
            return (self.tensor(args[0]) * self.tensor(args[1])).sum(-1)
        if name == "binom":
            n, k = args
            if isinstance(n, int) and isinstance(k, int):
                return math.comb(n, k)
            n, k = self.tensor(n), self.tensor(k)
            return torch.exp(torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1))
        (x,) = args
        if name == "factorial":
            if isinstance(x, int):
                if x > 170:
                    raise TexEvalError(_written(node), node.column, f"{x}! is too large for a float64")
                return math.factorial(x)
            return torch.exp(torch.lgamma(self.tensor(x) + 1))
        if name == "abs":
            return len(x) if isinstance(x, (list, tuple, set, frozenset)) else abs(x)
        if name == "norm":
            return self.norm(self.tensor(x), node)
        if name == "root":
            degree = 2 if node.option is None else self.value(node.option)
            return self.tensor(x) ** (1 / self.tensor(degree)) if torch.is_tensor(x) or torch.is_tensor(degree) else x ** (1 / degree)
        if name in ("log", "lg") and node.option is not None:
            return torch.log(self.tensor(x)) / math.log(float(self.value(node.option))) if name == "log" else torch.log10(self.tensor(x))
        simple = {"exp": torch.exp, "log": torch.log, "ln": torch.log, "lg": torch.log10, "sin": torch.sin, "cos": torch.cos,
                  "tan": torch.tan, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh, "arcsin": torch.asin,
                  "arccos": torch.acos, "arctan": torch.atan, "det": torch.linalg.det, "sgn": torch.sign,
                  "floor": torch.floor, "ceil": torch.ceil}
        if name in ("floor", "ceil") and not torch.is_tensor(x):
            return math.floor(x) if name == "floor" else math.ceil(x)
        return simple[name](self.tensor(x))

    def norm(self, x: torch.Tensor, node: tree.Function):
        option = node.option
        if option == "fro":
            return torch.linalg.matrix_norm(x, "fro")
        order = float("inf") if option == "inf" else (2 if option is None else float(self.value(option)))
        return torch.linalg.vector_norm(x, ord=order, dim=-1)

    # --- big operators, expectations, conditions -------------------------------------------------

    def _bigoperator(self, node: tree.BigOperator):
        assignments = self.assignments(node.binding, node)
        if not assignments:
            if node.name == "sum":
                return 0
            if node.name == "prod":
                return 1
            raise TexEvalError(f"\\{node.name}", node.column, "the index runs over nothing")
        self.terms[0] += len(assignments)
        if self.terms[0] > self.options.max_terms:
            raise TexEvalError(f"\\{node.name}", node.column, f"more than max_terms={self.options.max_terms:,} terms")
        results = [unrow(self.with_bound(_with_vec_aliases(a, self.values)).value(node.body)) for a in assignments]
        if node.name == "sum":
            total = results[0]
            for r in results[1:]:
                total = total + r
            return total
        if node.name == "prod":
            total = results[0]
            for r in results[1:]:
                total = total * r
            return total
        stacked = torch.stack([self.tensor(r) for r in results])
        if node.name in ("max", "min"):
            return stacked.amax(0) if node.name == "max" else stacked.amin(0)
        if len(node.binding.variables) != 1:
            raise TexEvalError(f"\\{node.name}", node.column, "an arg max over several indices")
        positions = stacked.argmax(0) if node.name == "argmax" else stacked.argmin(0)
        choices = torch.tensor([a[node.binding.variables[0]] for a in assignments], device=positions.device)
        return choices[positions]

    def assignments(self, binding: tree.Binding, node: tree.Node) -> list[dict]:
        variables = binding.variables
        if binding.kind == "range":
            lower = _as_index(self.value(binding.lower), binding.lower)
            upper = _as_index(self.value(binding.upper), binding.upper)
            self.check_count(upper - lower + 1, node)
            skipped = {_as_index(self.value(e), e) for e in binding.excluded}
            return [{variables[0]: k} for k in range(lower, upper + 1) if k not in skipped]
        if binding.kind == "set":
            rows = self.set_rows(binding.over, len(variables))
            self.check_count(len(rows), node)
            if len(variables) == 1:
                return [{variables[0]: _plain(r)} for r in rows]
            return [dict(zip(variables, map(_plain, r), strict=True)) for r in rows]
        if binding.kind == "subsets":
            elements = sorted(self.finite_set(self.value(binding.over), binding.over))
            self.check_count(2 ** len(elements), node)
            return [{variables[0]: frozenset(chosen)} for size in range(len(elements) + 1)
                    for chosen in itertools.combinations(elements, size)]
        if binding.kind == "pair" and variables[1] in self.values:  # \sum_{j<k} with k given: j over its range, below k
            below = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}[binding.relation]
            bound = _as_index(self.convert(self.values[variables[1]]), node)
            return [{variables[0]: a} for a in self.domain(variables[0], node) if below(a, bound)]
        joint = ",".join(variables)
        if binding.kind == "free" and len(variables) > 1 and joint in self.options.indices:  # \sum_{(x, y)}: the pairs given
            rows = list(self.options.indices[joint])
            self.check_count(len(rows), node)
            return [dict(zip(variables, map(_plain, r), strict=True)) for r in rows]
        domains = [self.domain(v, node) for v in variables]
        if binding.kind == "free":
            count = math.prod(len(d) for d in domains)
            self.check_count(count, node)
            out = [{}]
            for v, d in zip(variables, domains):
                out = [{**o, v: k} for o in out for k in d]
            return out
        if binding.kind == "except":
            excluded = self.excluded(binding.over)
            return [{variables[0]: k} for k in domains[0] if k not in excluded]
        compare = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}[binding.relation]
        self.check_count(len(domains[0]) * len(domains[1]), node)
        return [{variables[0]: a, variables[1]: b} for a in domains[0] for b in domains[1] if compare(a, b)]

    def set_rows(self, over: tree.Node, width: int) -> list:
        """The elements of a set below a big operator: a list, or a tensor's rows (vectors for one variable of a
        matrix, else numbers); a union takes each set's elements in turn, each once."""
        if isinstance(over, tree.Union):
            rows, seen = [], set()
            for row in (row for part in over.sets for row in self.set_rows(part, width)):
                key = tuple(row) if isinstance(row, list) else row
                if torch.is_tensor(key):  # vectors: kept as given
                    rows.append(row)
                elif key not in seen:
                    rows.append(row)
                    seen.add(key)
            return rows
        value = self.value(over) if not isinstance(over, tree.Name) or over.full not in self.values else self.values[over.full]
        if torch.is_tensor(value) and width == 1 and value.dim() >= 2:
            return [self.convert(row) for row in value]
        return value.tolist() if torch.is_tensor(value) else list(value)

    def excluded(self, over: tree.Node) -> set[int]:
        """The indices ``j \\ne i`` or ``w \\notin \\{a, b\\}`` leaves out."""
        if isinstance(over, tree.SetLiteral):
            return {_as_index(self.value(e), e) for e in over.elements}
        value = self.value(over)
        if isinstance(value, (list, tuple, set, frozenset)):
            return {_as_index(v, over) for v in value}
        return {_as_index(value, over)}

    def check_count(self, count: int, node: tree.Node) -> None:
        if count > self.options.max_terms:
            raise TexEvalError(_written(node), node.column, f"{count:,} terms, more than max_terms={self.options.max_terms:,}")

    def domain(self, variable: str, node: tree.BigOperator) -> list[int]:
        """The values index ``variable`` runs over: ``indices=`` when given, else the size of the axis it indexes."""
        if variable in self.options.indices:
            return list(self.options.indices[variable])
        sizes = set()
        for name in _names(node.body):
            if name.subscript and name.subscript.parts and name.full not in self.values and name.unindexed in self.values:
                base = self.values[name.unindexed]
                for axis, part in enumerate(name.subscript.parts):
                    if isinstance(part, tree.Name) and part.full == variable and torch.is_tensor(base) and axis < base.dim():
                        sizes.add(base.shape[axis])
                    if axis == 0 and isinstance(part, tree.Name) and part.full == variable and isinstance(base, (list, tuple)):
                        sizes.add(len(base))
            elif name.full not in self.values and self.labels_a_list(name) and isinstance(name.label_parts[0], tree.Name) \
                    and name.label_parts[0].full == variable:
                sizes.add(len(self.values[name.family]))
        if len(sizes) != 1:
            reason = "no tensor it indexes is given" if not sizes else f"the tensors it indexes disagree on its size ({sorted(sizes)})"
            raise TexEvalError(_written(node), node.column, f"cannot tell the range of {variable}: {reason}; "
                               f"pass indices={{'{variable}': range(...)}}")
        size = sizes.pop()
        base = self.options.index_base
        return list(range(base, base + size))

    def _moment(self, node: tree.Moment):
        """``E[body]``, ``\\mathbb{E}[body]``, ``\\mathrm{Var}[body]``: the body for each sample of the names in
        ``samples=`` that it uses (bound one sample at a time), then the mean or the population variance (1/n)."""
        if node.fallback is not None and node.fallback.full in self.values:
            return self.juxtapose(self.value(node.fallback), self.value(node.body), node)
        written = "\\mathrm{Var}" if node.kind == "var" else "E" if node.fallback is not None else "\\mathbb{E}"
        written_names = {n.full for n in _names(node.body)} | {n.unindexed for n in _names(node.body) if n.subscript}
        used = [name for name in self.options.samples if name in written_names]
        if not used:
            raise TexEvalError(written, node.column, "write which samples the mean runs over, like \\mathbb{E}_{x}[...], "
                               "or pass them: samples={'x': <tensor, samples along axis 0>}")
        samples = {name: self.convert(self.options.samples[name]) for name in used}
        count = len(next(iter(samples.values())))
        if any(len(s) != count for s in samples.values()):
            raise TexEvalError(written, node.column, f"the samples of {', '.join(used)} differ in number")
        stacked = self.sample_values(node.body, samples)
        if stacked is None:
            self.check_count(count, node)
            self.terms[0] += count
            stacked = torch.stack([self.tensor(unrow(self.with_bound({n: s[k] for n, s in samples.items()}).value(node.body)))
                                   for k in range(count)])
        return stacked.mean(0) if node.kind == "mean" else stacked.var(0, unbiased=False)

    def sample_values(self, body: tree.Node, samples: dict):
        """The body's value for every sample at once when it is a sample name (``x``, ``w_l`` of samples ``w``
        indexed along the other axes) or its power by a number; else ``None`` (evaluated one sample at a time)."""
        if isinstance(body, tree.Labelled) and body.power is not None and not self.named(body.name):
            body = body.power  # x_l^2 with no x_l^2 given: the power
        name, exponent = body, None
        if isinstance(body, tree.Power) and isinstance(body.exponent, tree.Number):
            name, exponent = body.base, body.exponent.value
        if not isinstance(name, tree.Name):
            return None
        if name.full in samples:
            values = self.tensor(samples[name.full])
        elif name.subscript is not None and name.subscript.parts and name.unindexed in samples:
            values = self.index(self.tensor(samples[name.unindexed]).movedim(0, -1), name.subscript.parts, name).movedim(-1, 0)
        else:
            return None
        return values if exponent is None else values ** exponent

    def _concat(self, node: tree.Concat):
        """``[a, b]``, ``[a; b]``: vectors (or rows) joined into one; matrices stacked (``;`` and ``\\circ``: along
        the first axis, the rows or the sequence; ``,``: side by side, along the last axis)."""
        values = [self.value(p) for p in node.parts]
        if all(isinstance(v, Row) for v in values):
            return Row(torch.cat([v.vector for v in values]))
        tensors = [self.tensor(unrow(v)) for v in values]
        tensors = [t.reshape(1) if t.dim() == 0 else t for t in tensors]
        if all(t.dim() == 1 for t in tensors):
            return torch.cat(tensors)
        if len({t.dim() for t in tensors}) != 1:
            raise TexEvalError("[", node.column, f"cannot join parts of shapes {[tuple(t.shape) for t in tensors]}")
        return torch.cat(tensors, dim=-1 if node.separator == "," else 0)

    def _matrix(self, node: tree.Matrix):
        """A matrix of blocks: a number is 1x1, a vector a column, ``x^\\top`` a row, a matrix itself, and a literal
        0 the zero block its row and column call for. One column of numbers or vectors is a vector. With a
        ``\\vdots`` row the matrix lists its rows: a vector entry is a row."""
        rows = self.elided_rows(node)
        listed = any(isinstance(r[0], tree.Vdots) for r in node.rows)
        zero = [[isinstance(e, tree.Number) and e.value == 0 for e in row] for row in rows]
        blocks = [[None if z and len(rows) * len(row) > 1 else _block(self.value(e), self.tensor, as_row=listed)
                   for e, z in zip(row, zeros)] for row, zeros in zip(rows, zero)]
        heights = [{b.shape[0] for b in row if b is not None} for row in blocks]
        widths = [{row[c].shape[1] for row in blocks if row[c] is not None} for c in range(len(blocks[0]))]
        if any(len(h) != 1 for h in heights) or any(len(w) != 1 for w in widths):
            raise TexEvalError("\\begin{bmatrix}", node.column, "the blocks of this matrix do not line up in rows and columns")
        like = next(b for row in blocks for b in row if b is not None)
        rows = [torch.cat([b if b is not None else like.new_zeros(next(iter(h)), next(iter(w)))
                           for b, w in zip(row, widths)], dim=1) for row, h in zip(blocks, heights)]
        result = torch.cat(rows, dim=0)
        return result[:, 0] if result.shape[1] == 1 else result

    def _setoperation(self, node: tree.SetOperation):
        left = self.finite_set(self.value(node.left), node.left)
        right = self.finite_set(self.value(node.right), node.right)
        return {"cup": left | right, "setminus": left - right, "cap": left & right}[node.op]

    def finite_set(self, value, node: tree.Node) -> frozenset:
        """A set's elements: a set, a list or 1-D tensor of numbers, or one number (``\\{i\\}``)."""
        if torch.is_tensor(value) and value.dim() <= 1:
            value = value.tolist()
        if isinstance(value, (int, float)):
            return frozenset({_plain(value)})
        if isinstance(value, (set, frozenset, list, tuple)):
            return frozenset(_plain(v) for v in value)
        raise TexEvalError(_written(node), node.column, "a set operation needs a finite set of numbers")

    def elided_rows(self, node: tree.Matrix) -> list:
        """The rows with a ``\\vdots`` row filled in. The first row and the row after the dots must differ only
        where the first has a number a and the other an expression n (``M_{s_1} + P_1`` ... ``M_{s_n} + P_n``); the
        rows before the dots must count up from a; the dots stand for the pattern at every integer up to n − 1."""
        marks = [k for k, row in enumerate(node.rows) if isinstance(row[0], tree.Vdots)]
        if not marks:
            return list(node.rows)
        k = marks[0]
        if len(marks) > 1 or k == 0 or k == len(node.rows) - 1:
            raise TexEvalError("\\vdots", node.rows[k][0].column, "one \\vdots row, between written rows")
        before, pattern = node.rows[:k], node.rows[k + 1]
        try:
            differences = _differences(before[0], pattern, ())
            starts = {d[1].value for d in differences}
            ends = {d[2] for d in differences}
            if len(starts) != 1 or len(ends) != 1:
                raise ValueError("the first row and the one after the dots must differ by one counter")
            for offset, row in enumerate(before):
                if {d[1].value for d in _differences(row, pattern, ())} != {next(iter(starts)) + offset}:
                    raise ValueError("the rows before the dots do not count up by one")
        except ValueError as exc:
            raise TexEvalError("\\vdots", node.rows[k][0].column, f"cannot tell which rows it stands for: {exc}") from None
        first, stop = next(iter(starts)), _as_index(self.value(next(iter(ends))), node)
        if stop < first + len(before):
            raise TexEvalError("\\vdots", node.rows[k][0].column, f"the counter ends at {stop}, before the rows "
                               f"written above the dots")
        counter = tree.Name("\\vdots", None, "", 0, node.column, "\\vdots")
        template = _substitute(pattern, {d[0] for d in differences}, counter)
        filled = []
        for value in range(first + len(before), stop):
            evaluator = self.with_bound({"\\vdots": value})
            filled.append(tuple(Filled(evaluator.value(e), e.column) for e in template))
        return list(before) + filled + list(node.rows[k + 1:])

    def _filled(self, node):
        return node.value

    def _colon(self, node: tree.Colon):
        raise TexEvalError(":", node.column, "a colon is an index (the whole axis), not a value")

    def _union(self, node: tree.Union):
        raise TexEvalError("\\cup", node.column, "a union is a set to sum over, not a value")

    def _expectation(self, node: tree.Expectation):
        variables = node.variables or tuple(self.options.samples)
        if not variables:
            raise TexEvalError("\\mathbb{E}", node.column, "write which samples the mean runs over, like \\mathbb{E}_{x}[...]")
        samples = []
        for v in variables:
            if v in self.options.samples and not node.variables:
                samples.append(self.convert(self.options.samples[v]))
                continue
            if v not in self.values:
                raise TexEvalError("\\mathbb{E}", node.column, f"pass the samples of {v} as {v}=<tensor, samples along axis 0>")
            samples.append(self.convert(self.values[v]))
        count = len(samples[0])
        if any(len(s) != count for s in samples):
            raise TexEvalError("\\mathbb{E}", node.column, "the samples of the variables differ in number")
        self.check_count(count, node)
        self.terms[0] += count
        results = [self.tensor(unrow(self.with_bound({v: s[k] for v, s in zip(variables, samples)}).value(node.body)))
                   for k in range(count)]
        return torch.stack(results).mean(0)

    # --- derivatives (autograd) and integrals (quadrature) ----------------------------------------

    def _derivative(self, node: tree.Derivative):
        """E as written through the graph the values carry, when the variable's value requires grad; else, for one call
        f(a) of a passed function, f's gradient at a; else E as written, differentiated at a fresh leaf."""
        body, variable = node.body, node.variable
        key = None if variable is None else variable.full if variable.full in self.values else variable.unindexed
        point = self.tensor(self.convert(self.values[key])) if key in self.values else None
        tracked = point is not None and point.requires_grad
        if isinstance(body, tree.Call) and node.power is None and not tracked:
            function = self.lookup(body.function, callables=True)
            if callable(function) and not torch.is_tensor(function):
                return self.gradient_at_call(function, body, node)
        if variable is None:
            raise TexEvalError(node.written, node.column, "\\nabla without a subscript is the gradient of a function at "
                               "its argument, like \\nabla f(x): pass f as a callable, or write \\nabla_x E")
        if point is None:
            raise TexEvalError(variable.written, variable.column, f"no value for {variable.full} to differentiate at; "
                               f"pass {variable.full}=...")
        with torch.enable_grad():
            if point.requires_grad:
                gradient = self.differentiate(self.value(body), point, node, create_graph=True)
            else:
                leaf = point.detach().to(self.options.dtype).requires_grad_(True)
                out = Evaluator({**self.values, key: leaf}, self.options, self.terms, self.bound).value(body)
                gradient = self.differentiate(out, leaf, node, create_graph=False)
        if node.power is not None:  # d/d(v^n) = (d/dv) / (n v^(n-1))
            n = self.value(node.power)
            gradient = gradient / (n * point ** (n - 1))
        if key != variable.full:
            if variable.subscript is None or variable.subscript.parts is None:
                raise TexEvalError(variable.written, variable.column, f"{variable.full} is not given and its subscript is not an index")
            return self.index(gradient, variable.subscript.parts, variable)
        return gradient

    def gradient_at_call(self, function: Callable, call: tree.Call, node: tree.Derivative):
        args = [self.tensor(unrow(self.value(a))) for a in call.args]
        position = self.gradient_position(call, node)
        point = args[position]
        with torch.enable_grad():
            nested = point.requires_grad
            leaf = point.clone() if nested else point.detach().to(self.options.dtype).requires_grad_(True)
            args[position] = leaf
            return self.differentiate(function(*args), leaf, node, create_graph=nested)

    def gradient_position(self, call: tree.Call, node: tree.Derivative) -> int:
        """The argument a gradient is taken for: the only one, the one named like the variable, or ``gradient_argument``."""
        count = len(call.args)
        if count == 1:
            return 0
        if node.variable is not None:
            named = [k for k, a in enumerate(call.args) if isinstance(a, tree.Name) and a.base == node.variable.base]
            if len(named) == 1:
                return named[0]
        chosen = self.options.gradient_argument
        if chosen is None or not 1 <= chosen <= count:
            raise TexEvalError(node.written, node.column, f"{call.function.full}(...) has {count} arguments: pass "
                               f"gradient_argument=<1..{count}> for the one the gradient is taken for")
        return chosen - 1

    def differentiate(self, out, point: torch.Tensor, node: tree.Derivative, create_graph: bool) -> torch.Tensor:
        out = self.tensor(unrow(out))
        if out.numel() != 1:
            raise TexEvalError(node.written, node.column, f"the derivative of a value of shape {tuple(out.shape)}: "
                               "texeval differentiates a scalar")
        if not out.requires_grad:
            return torch.zeros_like(point)  # the value does not depend on the variable
        (gradient,) = torch.autograd.grad(out.reshape(()), point, create_graph=create_graph or self.values_require_grad(),
                                          allow_unused=True)
        return torch.zeros_like(point) if gradient is None else gradient

    def values_require_grad(self) -> bool:
        return any(torch.is_tensor(v) and v.requires_grad for v in self.values.values())

    def _limit(self, node: tree.Limit):
        """The body at target + h 2^-j (h = ``limit_step``, j < ``limit_levels``), Richardson-extrapolated in h (one-sided)."""
        target = float(self.tensor(unrow(self.value(node.target))))
        levels, step = self.options.limit_levels, self.options.limit_step
        table = [self.tensor(unrow(self.with_bound({node.variable: target + step / 2 ** j}).value(node.body)))
                 for j in range(levels)]
        for order in range(1, levels):  # each pass removes the h^order term of the error
            table = [(2 ** order * fine - coarse) / (2 ** order - 1) for coarse, fine in zip(table, table[1:])]
        return table[0]

    def _integral(self, node: tree.Integral):
        lower, upper = (float(self.tensor(unrow(self.value(limit)))) for limit in (node.lower, node.upper))
        points = self.options.quadrature_points
        self.check_count(points, node)
        self.terms[0] += points
        # Gauss-Legendre nodes and weights on [-1, 1] (Golub-Welsch: the eigenvalues of the Jacobi matrix)
        k = torch.arange(1, points, dtype=torch.float64)
        jacobi = torch.diag(k / torch.sqrt(4 * k ** 2 - 1), 1)
        nodes, vectors = torch.linalg.eigh(jacobi + jacobi.T)
        weights = 2 * vectors[0] ** 2
        half, middle = (upper - lower) / 2, (upper + lower) / 2
        total = 0
        for t, w in zip(nodes.tolist(), weights.tolist()):
            value = unrow(self.with_bound({node.variable: middle + half * t}).value(node.body))
            total = total + half * w * value
        return total

    def _indicator(self, node: tree.Indicator):
        return self.tensor(self.truth(node.condition)).to(self.options.dtype)

    def truth(self, condition):
        """A comparison, or ``\\exists i \\in V : c``: true where c holds for some element of V."""
        if not isinstance(condition, tree.Exists):
            return self._comparison(condition)
        rows = self.set_rows(condition.over, 1)
        self.check_count(len(rows), condition)
        self.terms[0] += len(rows)
        found = None
        for row in rows:
            holds = self.with_bound({condition.variable: _plain(row)}).truth(condition.condition)
            found = holds if found is None else found | holds
        return found if found is not None else False

    def _exists(self, node: tree.Exists):
        return self.tensor(self.truth(node)).to(self.options.dtype)

    def _setbuilder(self, node: tree.SetBuilder):
        rows = self.set_rows(node.over, 1)
        self.check_count(len(rows), node)
        self.terms[0] += len(rows)
        kept = []
        for row in rows:
            holds = self.tensor(self.with_bound({node.variable: _plain(row)}).truth(node.condition))
            if holds.dim() != 0:
                raise TexEvalError("\\{", node.column, "the condition of a set must be one true or false per element")
            if bool(holds):
                kept.append(row)
        return kept

    def _comparison(self, node: tree.Comparison):
        left, right = self.tensor(unrow(self.value(node.left))), self.tensor(unrow(self.value(node.right)))
        return {"=": torch.eq, "!=": torch.ne, "<": torch.lt, ">": torch.gt, "<=": torch.le, ">=": torch.ge}[node.op](left, right)

    def _cases(self, node: tree.Cases):
        *branches, (last_value, last_condition) = node.branches
        result = self.tensor(unrow(self.value(last_value)))
        if last_condition is not None:  # every case has a condition: NaN where none holds (a comparison then fails)
            result = self.tensor(result).to(self.options.dtype)
            result = torch.where(self._comparison(last_condition), result, torch.full_like(result, math.nan))
        for value, condition in reversed(branches):
            result = torch.where(self._comparison(condition), self.tensor(unrow(self.value(value))), result)
        return result


def _vectors(a, b) -> bool:
    a, b = unrow(a), unrow(b)
    return torch.is_tensor(a) and torch.is_tensor(b) and a.dim() == 1 and b.dim() == 1 and a.shape == b.shape


def _block(value, tensor, as_row: bool = False) -> torch.Tensor:
    """One entry of a matrix as a 2-D block: a number 1x1, a vector a column (a row when ``as_row``), a row a row."""
    if isinstance(value, Row):
        return value.vector.reshape(1, -1)
    value = tensor(value)
    if value.dim() == 0:
        return value.reshape(1, 1)
    return value.reshape((1, -1) if as_row else (-1, 1)) if value.dim() == 1 else value


def _with_vec_aliases(bound: dict, values) -> dict:
    """A bound index variable ``w`` (or ``w_a``) also answers to ``\\vec{w}`` (``\\vec{w}_a``): the arrow only decorates."""
    extra = {}
    for name, value in bound.items():
        base, _, sub = name.partition("_")
        alias = base + "vec" + ("_" + sub if sub else "")
        if alias not in values:
            extra[alias] = value
    return {**bound, **extra}


@dataclass(frozen=True)
class Filled(tree.Node):
    """An already evaluated entry (a row a \\vdots stands for)."""
    value: Any
    column: int


def _differences(a, b, path: tuple) -> list:
    """Where trees a and b differ: (path, number in a, subtree of b); ValueError where they differ otherwise.
    Columns, the written LaTeX and a subscript's text are ignored."""
    if isinstance(a, tree.Number) and (not isinstance(b, tree.Number) or a.value != b.value):
        return [(path, a, _without_columns(b))]
    if type(a) is not type(b):
        raise ValueError(f"a {type(a).__name__.lower()} where the other row has a {type(b).__name__.lower()}")
    if isinstance(a, tuple):
        if len(a) != len(b):
            raise ValueError("the rows have different shapes")
        return [d for k, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, path + (k,))]
    if dataclasses.is_dataclass(a):
        return [d for f in dataclasses.fields(a) if f.name not in ("column", "written", "text")
                for d in _differences(getattr(a, f.name), getattr(b, f.name), path + (f.name,))]
    if a != b:
        raise ValueError(f"{a!r} where the other row has {b!r}")
    return []


def _without_columns(node):
    if isinstance(node, tuple):
        return tuple(_without_columns(n) for n in node)
    if dataclasses.is_dataclass(node):
        return dataclasses.replace(node, **{f.name: (0 if f.name == "column" else "" if f.name == "written" else
                                                     _without_columns(getattr(node, f.name)))
                                            for f in dataclasses.fields(node) if f.name not in ("text",)})
    return node


def _substitute(node, paths: set, replacement):
    """``node`` with the subtrees at ``paths`` replaced."""
    if () in paths:
        return replacement
    heads = {p[0] for p in paths}
    rest = lambda head: {p[1:] for p in paths if p[0] == head}  # noqa: E731
    if isinstance(node, tuple):
        return tuple(_substitute(n, rest(k), replacement) if k in heads else n for k, n in enumerate(node))
    return dataclasses.replace(node, **{h: _substitute(getattr(node, h), rest(h), replacement) for h in heads})


def unrow(value):
    return value.vector if isinstance(value, Row) else value


def _scalar(value) -> bool:
    return not isinstance(value, Row) and (not torch.is_tensor(value) or value.dim() == 0)


def _divide(a, b):
    if not torch.is_tensor(a) and not torch.is_tensor(b):
        return a / b
    return torch.div(a, b) if torch.is_tensor(a) else a / b


def _as_index(value, node: tree.Node) -> int:
    if torch.is_tensor(value):
        if value.dim() != 0:
            raise TexEvalError(_written(node), node.column, "an index must be one integer, not a tensor")
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise TexEvalError(_written(node), node.column, f"an index must be an integer, got {value!r}")
    return value


def _picks(part: tree.Node) -> bool:
    """An index that is itself a slice of positions, like the ``z_{<t}`` of ``x_{z_{<t}}``."""
    return isinstance(part, tree.Name) and part.subscript is not None and part.subscript.parts is not None and \
        any(isinstance(p, tree.Slice) for p in part.subscript.parts)


def _plain(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _names(node) -> list[tree.Name]:
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tree.Name):
            found.append(item)
        if isinstance(item, tree.Node) or isinstance(item, tree.Binding):
            stack.extend(getattr(item, f) for f in item.__dataclass_fields__)
        elif isinstance(item, tuple):
            stack.extend(item)
    return found


def _written(node: tree.Node) -> str:
    if isinstance(node, tree.Name):
        return node.written
    if isinstance(node, tree.Labelled):
        return node.name.written
    if isinstance(node, (tree.Function,)):
        return f"\\{node.name}" if node.name not in ("abs", "norm", "inner", "root", "factorial") else node.name
    if isinstance(node, tree.BigOperator):
        return f"\\{node.name}"
    if isinstance(node, tree.Derivative):
        return node.written
    if isinstance(node, tree.Integral):
        return "\\int"
    if isinstance(node, tree.Limit):
        return "\\lim"
    return type(node).__name__.lower()
