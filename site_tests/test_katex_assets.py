"""KaTeX's stylesheet and fonts that the site serves (vendored under generator/assets/katex/) are those
of the KaTeX that renders the math at build time (embedded in pykatex)."""
from __future__ import annotations

import re
from pathlib import Path

import pykatex

ASSETS = Path(__file__).resolve().parents[1] / "generator" / "assets" / "katex"


def pykatex_katex_version() -> str:
    """The version string KaTeX's own code carries inside pykatex's compiled module (KaTeX's source,
    compiled to QuickJS bytecode: the string ``"0.16.22"`` stands alone, after its length byte; the
    search starts at 0.11, since another 0.10.1 string sits in the module)."""
    found = set(re.findall(rb"(?<![\d.])(0\.1[1-9]\.\d{1,2})(?![\d.])", Path(pykatex.__file__).read_bytes()))
    assert len(found) == 1, f"expected one KaTeX version string (0.11 or later) in {pykatex.__file__}, found {found}"
    return found.pop().decode()


def test_the_vendored_stylesheet_is_the_version_pykatex_renders_with():
    css = (ASSETS / "katex.min.css").read_text(encoding="utf-8")
    assert re.search(r'katex-version:after\{content:"([^"]+)"\}', css)[1] == pykatex_katex_version()


def test_every_font_the_stylesheet_names_is_vendored_as_woff2():
    css = (ASSETS / "katex.min.css").read_text(encoding="utf-8")
    named = set(re.findall(r"url\(fonts/([^)]+\.woff2)\)", css))
    assert named and named == {p.name for p in (ASSETS / "fonts").glob("*.woff2")}
    assert "MIT License" in (ASSETS / "LICENSE").read_text(encoding="utf-8")
