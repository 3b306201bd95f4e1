from generator.markdown_scan import scan

BODY = """Inline $a+b$ cites [@x] but not `[@code]`; $5 and $6 are money.
```python
$$ not math $$ [@fenced]
```

$$
\\frac{a}{b}
$$ {#eq:frac}

!!! note
    $$ x = 1 $$ {#eq:indented}

Several at once [@a; @b]. Broken [@ bad] and a stray {#eq:orphan}.
$$ y $$ {#eq:Bad_Label}
"""


def test_citations_with_their_lines_skipping_code():
    result = scan(BODY, first_line=10)
    assert [(c.keys, c.line) for c in result.citations] == [(("x",), 10), (("a", "b"), 22)]


def test_formulas_inline_and_display_with_labels_and_indent():
    result = scan(BODY, first_line=10)
    found = [(f.tex, f.display, f.line, f.label, f.indent) for f in result.formulas]
    assert found == [
        ("a+b", False, 10, "", ""),
        ("\\frac{a}{b}", True, 15, "frac", ""),
        ("x = 1", True, 20, "indented", "    "),
        ("y", True, 23, "", ""),
    ]


def test_problems_name_their_line():
    result = scan(BODY, first_line=10)
    assert [(p.line, p.message) for p in result.problems] == [
        (22, "an equation label {#eq:...} must follow the closing $$ of a display formula on the same line"),
        (22, "malformed citation '[@ bad]': write [@key] or [@key1; @key2]"),
        (23, "equation label 'Bad_Label' must be lowercase letters, digits and hyphens, e.g. {#eq:bias-correction}"),
    ]


def test_unclosed_display_formula_and_fence():
    assert [(p.line, p.message) for p in scan("$$\nx\n", 5).problems] == [(5, "display formula opened with $$ is never closed")]
    assert [(p.line, p.message) for p in scan("```\ncode\n", 5).problems] == [(6, "a code fence is never closed")]


def test_offsets_cover_the_source_text():
    body = "See [@x].\n\n$$ a $$ {#eq:a}\n"
    result = scan(body)
    c, f = result.citations[0], result.formulas[0]
    assert body[c.start:c.end] == "[@x]"
    assert body[f.start:f.end] == "$$ a $$ {#eq:a}\n"


def test_formulas_in_nested_list_items_are_found_at_any_indentation():
    body = """1. Unpool:

   $$
   x
   $$ {#eq:unpool}

- Few-shot:
  - nested two spaces in, with $y$ inline

    $$ z $$ {#eq:nested}
"""
    result = scan(body)
    assert result.problems == ()
    assert [(f.tex, f.line, f.label, f.indent) for f in result.formulas] == [
        ("x", 3, "unpool", "   "), ("y", 8, "", ""), ("z", 10, "nested", "    ")]
