"""Front-matter text in the pages: a TL;DR's $...$ is math, everything else is literal text."""
from generator.render.text import html_text_with_math, md_text_with_math

TLDR = "目标换成 $(1-\\epsilon)$ 倍 <b>x</b> a_b, and $5 or $6 stay money"


def test_a_tldr_in_raw_html_keeps_its_formula_for_katex():
    assert html_text_with_math(TLDR) == ('目标换成 <span class="arithmatex">\\((1-\\epsilon)\\)</span> 倍 '
                                         "&lt;b&gt;x&lt;/b&gt; a_b, and $5 or $6 stay money")


def test_a_tldr_in_markdown_keeps_its_formula_for_arithmatex():
    assert md_text_with_math(TLDR) == "目标换成 $(1-\\epsilon)$ 倍 &lt;b&gt;x&lt;/b&gt; a\\_b, and \\$5 or \\$6 stay money"
