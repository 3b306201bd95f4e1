"""The one error texeval raises: what could not be evaluated, where, and why.

Every failure (a construct the parser does not know, a name without a value, a sum too long, a
shape that does not fit) is a :class:`TexEvalError` carrying the equation id when the caller gave
one, the construct as written in the LaTeX (``\\oint``, ``m_t``), its 1-based column, and the
reason, so a check author reads e.g.::

    kingma2014adam/gradient: cannot evaluate \\oint at column 6: texeval does not know this command
"""
from __future__ import annotations


class TexEvalError(ValueError):
    """A formula that texeval cannot evaluate, or cannot evaluate unambiguously."""

    def __init__(self, construct: str, column: int, reason: str, equation: str | None = None):
        self.construct = construct
        self.column = column
        self.reason = reason
        self.equation = equation
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.equation}: " if self.equation else ""
        at = f" at column {self.column}" if self.column else ""
        return f"{where}cannot evaluate {self.construct}{at}: {self.reason}"

    def for_equation(self, equation: str | None) -> "TexEvalError":
        """The same error, naming ``equation`` (parsing is cached by the LaTeX, so ids are added later)."""
        if equation is None or self.equation is not None:
            return self
        return TexEvalError(self.construct, self.column, self.reason, equation)

    def __reduce__(self):  # picklable, so a check's error crosses a process boundary intact
        return (TexEvalError, (self.construct, self.column, self.reason, self.equation))
