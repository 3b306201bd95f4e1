"""The LaTeX commands texeval knows, by role (the parser's vocabulary)."""
from __future__ import annotations

GREEK = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
    omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi
    Sigma Upsilon Phi Psi Omega ell""".split())
ACCENTS = {"overrightarrow": "right", "overleftarrow": "left", "hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "bar": "bar", "overline": "bar",
           "dot": "dot", "ddot": "ddot", "vec": "vec", "check": "check", "breve": "breve"}
FONTS = frozenset({"mathbf", "boldsymbol", "bm", "pmb", "mathcal", "mathbb", "mathfrak", "mathscr", "mathsf",
                   "mathrm", "mathit", "text", "textrm", "textit", "textbf", "mathtt", "texttt", "textnormal",
                   "operatorname", "operatorname*", "mathnormal"})
# \exp x, \log(x): one argument, applied to a parenthesised group or to the factors that follow
FUNCTIONS = frozenset({"exp", "log", "ln", "lg", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin", "arccos",
                       "arctan", "det", "sgn"})
BIG_OPERATORS = {"sum": "sum", "prod": "prod", "max": "max", "min": "min", "argmax": "argmax", "argmin": "argmin"}
# relations that join the sides of a clause; definitions read as "="
RELATIONS = {"=": "=", "<": "<", ">": ">", r"\le": "<=", r"\leq": "<=", r"\leqslant": "<=", r"\ge": ">=",
             r"\geq": ">=", r"\geqslant": ">=", r"\approx": "approx", r"\propto": "propto", r"\equiv": "=",
             r"\triangleq": "=", r"\coloneqq": "=", r"\doteq": "=", r"\leftarrow": "=", r"\gets": "=",
             r"\ne": "!=", r"\neq": "!=", r"\in": "in", r"\sim": "sim"}
# relations allowed inside a condition (\mathbb{1}[...], cases)
CONDITIONS = frozenset({"=", "!=", "<", ">", "<=", ">="})
OPENERS = {"(": ")", "[": "]", r"\{": r"\}", r"\langle": r"\rangle", r"\lfloor": r"\rfloor", r"\lceil": r"\rceil",
           r"\lvert": r"\rvert", r"\lVert": r"\rVert"}
SPACE_NAMES = ("\\,", "\\;", "\\ ", " ")
