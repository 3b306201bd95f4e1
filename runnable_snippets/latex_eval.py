"""Evaluate a note's own LaTeX (scalar and elementwise formulas) with sympy's Lark LaTeX parser.

Only the right-hand side of the last top-level ``=`` is evaluated. Decorations the parser does not
know are turned into plain symbol names first: ``\\hat{m}_t`` -> ``mhat_t``, ``\\mathrm{lr}`` -> ``lr``.
"""
from __future__ import annotations

import functools
import re

import numpy as np
import torch

DROP = (r"\left", r"\right", r"\displaystyle", r"\,", r"\;", r"\!", r"\quad", r"\qquad")
SUBSCRIPT = r"(?:_(?:\{(?P<sub>[^{}]*)\}|(?P<sub1>[A-Za-z0-9])))?"
ACCENT = re.compile(r"\\(?P<accent>hat|tilde|bar|widehat|widetilde|overline)\s*(?:\{\s*(?P<base>\\?[A-Za-z]+)\s*\}|(?P<base1>\\[A-Za-z]+|[A-Za-z]))" + SUBSCRIPT)
ROMAN = re.compile(r"\\(?:mathrm|text|operatorname|mathit|textrm)\s*\{(?P<word>[A-Za-z0-9 \\_]+)\}" + SUBSCRIPT)
INDEXED = re.compile(r"(?P<word>\\[A-Za-z]+|(?<![\\A-Za-z])[A-Za-z])_\{(?P<sub>[^{}]*[^A-Za-z0-9{}][^{}]*)\}(?P<sub1>)")
WORD = re.compile(r"(?<![\\A-Za-z])(?P<word>[A-Za-z]+(?:\\_[A-Za-z0-9]+)+)" + SUBSCRIPT)


def normalise(tex: str) -> tuple[str, dict[str, str]]:
    """TeX the parser reads, and the names of the placeholder symbols put in for multi-letter names."""
    for token in DROP:
        tex = tex.replace(token, " ")
    names: dict[str, str] = {}

    def placeholder(name: str, match: re.Match) -> str:
        sub = match["sub"] or match["sub1"]
        full = name + (f"_{sub}" if sub else "")
        symbol = f"upsilon_{len(names)}"
        names[symbol] = full.replace("\\_", "_").replace("\\", "").replace(" ", "")
        return f" \\upsilon_{{{len(names) - 1}}} "

    accent = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "bar": "bar", "overline": "bar"}
    tex = ACCENT.sub(lambda m: placeholder((m["base"] or m["base1"]) + accent[m["accent"]], m), tex)
    tex = ROMAN.sub(lambda m: placeholder(m["word"], m) if len(m["word"].strip()) > 1 or m["sub"] or m["sub1"] else m["word"], tex)
    tex = WORD.sub(lambda m: placeholder(m["word"], m), tex)
    tex = INDEXED.sub(lambda m: placeholder(m["word"], m), tex)
    return " ".join(tex.split()), names


def right_hand_side(tex: str) -> str:
    depth, cut = 0, -1
    for i, ch in enumerate(tex):
        depth += ch in "{(["
        depth -= ch in "})]"
        if ch == "=" and depth == 0:
            cut = i
    return tex[cut + 1:].strip()


def symbol_name(symbol, names: dict[str, str]) -> str:
    plain = re.sub(r"[{}\\ ]", "", str(symbol))
    return names.get(plain, plain)


@functools.lru_cache(maxsize=None)
def compile_tex(tex: str):
    """(a numpy function of the formula's symbols, their names): parsing is slow, so once per formula."""
    import sympy
    from sympy.parsing.latex import parse_latex

    readable, placeholders = normalise(tex)
    expression = _unambiguous(parse_latex(right_hand_side(readable), backend="lark"), tex)
    symbols = sorted(expression.free_symbols, key=str)
    return sympy.lambdify(symbols, expression, modules="numpy"), [symbol_name(s, placeholders) for s in symbols]


def evaluate_tex(tex: str, values: dict):
    """The formula's value for ``values`` (name -> float or tensor), as float64."""
    function, names = compile_tex(tex)
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"the formula uses {', '.join(missing)}; pass a value for each (symbols found: {', '.join(names)})")
    arguments = [np.asarray(values[n].detach().cpu().double() if torch.is_tensor(values[n]) else values[n], dtype=np.float64) for n in names]
    return torch.as_tensor(np.asarray(function(*arguments), dtype=np.float64))


def _unambiguous(parsed, tex: str):
    """Lark returns an ``_ambig`` tree when a product parses two ways (``a b \\cdot c``); accept it only
    when every reading is the same expression."""
    import sympy

    if getattr(parsed, "data", None) != "_ambig":
        return parsed
    readings = [_unambiguous(child, tex) for child in parsed.children]
    if any(sympy.simplify(r - readings[0]) != 0 for r in readings[1:]):
        raise ValueError(f"the formula can be read in several ways: {tex}")
    return readings[0]
