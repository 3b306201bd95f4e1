"""Equation checks: find them in runnable_snippets/ (discover), run them isolated (runner), remember
their results (results, cache), and relate them to the notes' equations (coverage)."""
