"""One case per construct the evaluator reads, each against a value computed without it (torch or by hand)."""
import pytest
import torch

from texeval import TexEvalError, evaluate, sides


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


x, y = t(1.0, 2.0, 3.0), t(0.5, -1.0, 2.0)
W = torch.arange(6, dtype=torch.float64).reshape(2, 3)
A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)

CASES = [
    # index notation
    (r"p = \prod_{i=1}^{3} x_i", {"x": x}, torch.prod(x)),
    (r"s = \sum_{j \ne i} x_j", {"x": x, "i": 2}, x[0] + x[2]),
    (r"s = \sum_{(u,i) \in \mathcal{D}} R_{u,i}", {"R": A, "D": [(1, 2), (2, 1)]}, A[0, 1] + A[1, 0]),
    (r"s = \sum_{i \in S} x_i", {"x": x, "S": [1, 3]}, x[0] + x[2]),
    (r"s = \sum_{i=1}^{3} -\ln x_i", {"x": x}, -torch.log(x).sum()),
    (r"y = W_{ij}", {"W": W, "i": 2, "j": 3}, W[1, 2]),
    (r"y = v_{i,f}", {"v": W, "i": 1, "f": 2}, W[0, 1]),
    # names
    (r"y = \hat m_t + W_q^{(i)} + \mathbf{x}_{l+1}", {"mhat_t": 2.0, "W_q^(i)": 3.0, "x_l+1": 4.0}, t(9.0)[0]),
    # linear algebra
    (r"y = x \odot y", {"x": x, "y": y}, x * y),
    (r"y = x \otimes y", {"x": x, "y": y}, torch.outer(x, y)),
    (r"y = \langle x, y \rangle", {"x": x, "y": y}, x @ y),
    (r"y = \|x\|_2", {"x": x}, torch.linalg.vector_norm(x)),
    (r"y = \|x\|_1", {"x": x}, torch.linalg.vector_norm(x, 1)),
    (r"y = \lVert x \rVert_2^2", {"x": x}, x @ x),
    (r"y = |y|", {"y": y}, y.abs()),
    (r"y = \operatorname{diag}(x)", {"x": x}, torch.diag(x)),
    (r"y = \operatorname{tr}(A)", {"A": A}, torch.trace(A)),
    (r"y = A^{-1}", {"A": A}, torch.linalg.inv(A)),
    (r"y = W^\top", {"W": W}, W.T),
    (r"y = \left(W^\top A\right)_{2,1}", {"W": W, "A": A}, (W.T @ A)[1, 0]),
    # functions
    (r"y = \exp(x) + \log x + \sqrt{x} + \tanh(x) + \sigma(x)", {"x": x},
     torch.exp(x) + torch.log(x) + torch.sqrt(x) + torch.tanh(x) + torch.sigmoid(x)),
    (r"y = \max(a, b) - \min(a, b)", {"a": 1.0, "b": 2.5}, t(1.5)[0]),
    (r"y = \max_{i} x_i", {"x": x}, x.max()),
    (r"y = \arg\max_{i} y_i", {"y": y}, torch.tensor(3)),
    (r"y = \arg\min_{i} y_i", {"y": y}, torch.tensor(2)),
    (r"y = \mathbb{1}[x > 1.5]", {"x": x}, (x > 1.5).double()),
    (r"y = \begin{cases} x & \text{if } x > 2 \\ 0 & \text{otherwise} \end{cases}", {"x": x}, torch.where(x > 2, x, 0.0)),
    (r"y = \mathrm{softmax}(x)", {"x": x}, torch.softmax(x, -1)),
    (r"y = \operatorname{LayerNorm}(x)", {"x": x, "LayerNorm": torch.nn.LayerNorm(3, dtype=torch.float64)},
     torch.nn.functional.layer_norm(x, (3,))),
    (r"y = \frac{1}{2} + \sqrt[3]{8} + \lfloor 2.5 \rfloor + \lceil 2.5 \rceil + \binom{5}{2}", {}, t(17.5)[0]),
    # expectations over the sample axis
    (r"y = \mathbb{E}_{x \sim p}[x^2]", {"x": x}, (x ** 2).mean()),
]


@pytest.mark.parametrize("tex, values, expected", CASES, ids=[c[0] for c in CASES])
def test_construct(tex, values, expected):
    got = evaluate(tex, values)
    torch.testing.assert_close(got.to(expected.dtype).detach(), expected.detach())


def test_relations_give_every_side():
    pythagoras = sides(r"a^2 + b^2 = c^2", {"a": 3.0, "b": 4.0, "c": 5.0})
    assert [float(v) for v in pythagoras.values] == [25.0, 25.0] and pythagoras.relations == ("=",)
    assert sides(r"x \le y", {"x": 1.0, "y": 2.0}).relations == ("<=",)
    assert sides(r"y \propto x", {"x": x, "y": 2 * x}).relations == ("propto",)
    assert sides(r"y \approx x", {"x": 1.0, "y": 1.001}).relations == ("approx",)


@pytest.mark.parametrize("tex, message", [
    (r"y = \nabla f", r"n/e: cannot evaluate \nabla at column 5: texeval does not know this command"),
    (r"y = \foo{x}", r"n/e: cannot evaluate \foo at column 5: texeval does not know this command"),
    ("y = " + "(" * 200 + "x" + ")" * 200, "n/e: cannot evaluate ( at column 29: the formula is nested more than 48 levels deep"),
    (r"y = 2^{10^{10}}", "n/e: cannot evaluate power at column 6: the power is too large for a float64"),
    (r"y = \sum_{i=1}^{10^9} i", r"n/e: cannot evaluate \sum at column 5: 1,000,000,000 terms, more than max_terms=1,000,000"),
    (r"y = \mathbb{E}[x]", r"n/e: cannot evaluate \mathbb{E} at column 5: write which samples the mean runs over, like "
                           r"\mathbb{E}_{x}[...], or pass them: samples={'x': <tensor, samples along axis 0>}"),
    (r"y = \mathrm{Var}[x]", r"n/e: cannot evaluate \mathrm{Var} at column 5: write which samples the mean runs over, like "
                             r"\mathbb{E}_{x}[...], or pass them: samples={'x': <tensor, samples along axis 0>}"),
    (r"y = [x, f; x]", "n/e: cannot evaluate ; at column 10: a concatenation mixes , and ; between its parts"),
    (r"y = \begin{bmatrix} x & f \\ x \end{bmatrix}", r"n/e: cannot evaluate \begin at column 5: the rows of this bmatrix have different numbers of entries"),
    (r"y = \begin{vmatrix} x \end{vmatrix}", r"n/e: cannot evaluate \begin at column 5: texeval knows the cases and bmatrix/pmatrix environments, not vmatrix"),
    (r"y = \begin{bmatrix} \cdots & x \end{bmatrix}", r"n/e: cannot evaluate \cdots at column 21: an elided entry: texeval reads \vdots only as a whole row"),
    (r"y = \begin{bmatrix} x_1 \\ \vdots \\ x_1 \end{bmatrix}", r"n/e: cannot evaluate \vdots at column 28: cannot tell which rows it "
                                                                    r"stands for: the first row and the one after the dots must differ by one counter"),
    (r"y = \begin{bmatrix} \vdots \\ x_n \end{bmatrix}", r"n/e: cannot evaluate \vdots at column 21: one \vdots row, between written rows"),
    (r"y = \min_{0 \le j < } x_j", r"n/e: cannot evaluate _ at column 9: a range a \le i < b needs both bounds"),
    (r"y = \sum_{i \in S \cup} x_i", r"n/e: cannot evaluate \cup at column 20: a union needs a set on each side"),
    (r"y = \mathbb{1}[\exists i \in S \; x_i > 0]", r"n/e: cannot evaluate > at column 39: expected : or \mid after the set of \exists"),
    (r"y = (x \setminus f)", r"n/e: cannot evaluate setoperation at column 8: the formula's value is a set, not a number or a tensor"),
])
def test_what_it_cannot_read_fails_with_the_construct_and_its_column(tex, message):
    with pytest.raises(TexEvalError) as raised:
        evaluate(tex, {"x": 1.0, "f": 1.0}, equation="n/e")
    assert str(raised.value) == message


v = t(3.0, 4.0, 0.0)
B = t(1.0, 3.0, 5.0, 7.0)
NEW_CASES = [
    # moments over the samples passed (population variance, 1/n)
    (r"y = \mathrm{Var}[x]", {}, {"samples": {"x": B}}, B.var(unbiased=False)),
    (r"y = \operatorname{Var}\left[x^{(k)}\right] + \mathbb{E}[x^{(k)}]", {}, {"samples": {"x^(k)": B}},
     B.var(unbiased=False) + B.mean()),
    (r"y = E[x_l^2] + \mathrm{Var}[w_l]", {}, {"samples": {"x_l": B, "w_l": x}}, (B ** 2).mean() + x.var(unbiased=False)),
    (r"y = \mathrm{Var}[w_l]", {"l": 2}, {"samples": {"w": torch.stack([x, 2 * x])}}, t(2.0, 4.0).var(unbiased=False)),
    (r"y = x_i - E[x_i]", {"x": x, "i": 2}, {"samples": {"x": W}}, x[1] - W[:, 1].mean()),
    (r"y = E[x]", {"E": 2.0, "x": x}, {}, 2 * x),  # E given: the product, as before
    (r"y = \mathbb{E}_{\mathcal{B}}[\mu_{\mathcal{B}}]", {"B": t(1.0, 3.0), "mu": x}, {}, (x[0] + x[2]) / 2),
    # concatenation
    (r"y = [x, y]", {"x": x, "y": y}, {}, torch.cat([x, y])),
    (r"y = [x; y; x \odot y]", {"x": x, "y": y}, {}, torch.cat([x, y, x * y])),
    (r"y = \left[x^\top, y^\top\right] v", {"x": x, "y": y, "v": torch.arange(6.0, dtype=torch.float64)}, {},
     torch.cat([x, y]) @ torch.arange(6.0, dtype=torch.float64)),
    (r"y = [A, W]", {"A": A, "W": W}, {}, torch.cat([A, W], dim=1)),
    (r"y = \left[A \circ W\right]", {"A": A, "W": W[:, :2]}, {}, torch.cat([A, W[:, :2]], dim=0)),
    # matrices
    (r"y = \begin{pmatrix} a & b \\ c & d \end{pmatrix} \begin{pmatrix} e \\ f \end{pmatrix}",
     {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0, "f": 6.0}, {}, t(17.0, 39.0)),
    (r"y = \begin{bmatrix} x \\ y \end{bmatrix}", {"x": x, "y": y}, {}, torch.cat([x, y])),
    (r"y = \begin{bmatrix} 0 & W \\ W^\top & 0 \end{bmatrix}", {"W": W}, {},
     torch.cat([torch.cat([torch.zeros(2, 2, dtype=torch.float64), W], 1), torch.cat([W.T, torch.zeros(3, 3, dtype=torch.float64)], 1)])),
    (r"y = \begin{bmatrix} W_1 \\ W_2 \\ \vdots \\ W_n \end{bmatrix}", {"W": torch.arange(8.0).reshape(4, 2), "n": 4}, {},
     torch.arange(8.0, dtype=torch.float64).reshape(4, 2)),
    # products and roots
    (r"y = x \cdot y", {"x": x, "y": y}, {"dot": True}, x @ y),
    (r"y = x \cdot y", {"x": x, "y": y}, {}, x * y),
    (r"y = x^\top y", {"x": x, "y": y}, {"row_vectors": True}, torch.outer(x, y)),
    (r"y = \cos(x, y)", {"x": x, "y": y}, {}, torch.nn.functional.cosine_similarity(x, y, dim=0)),
    # the square root of a 2x2 SPD matrix in closed form: (A + √det A · I) / √(tr A + 2√det A)
    (r"y = A^{-\frac{1}{2}}", {"A": A}, {},
     torch.linalg.inv((A + 5 ** 0.5 * torch.eye(2, dtype=torch.float64)) / (5 + 2 * 5 ** 0.5) ** 0.5)),
    # indices, names, labels
    (r"y = (W)_{2,:}", {"W": W}, {}, W[1]),
    (r"y = \#\mathrm{count}_i", {"#count": x, "i": 3}, {}, x[2]),
    (r"y = \phi^{GMF} + h_{\tau}^{n-1}", {"phi^GMF": 1.0, "h_tau^n-1": 2.0}, {}, t(3.0)[0]),
    # cases, ranges, sets
    (r"y = \begin{cases} x, & \text{if } x > 2 \\ 0, & \text{if } x \le 2 \end{cases}", {"x": x}, {}, torch.where(x > 2, x, 0.0)),
    (r"y = \min_{0 \le j < i} x_j", {"x": x, "i": 3}, {"index_base": 0}, torch.min(x[:3])),
    (r"y = \sum_{(u,i) \in \mathcal{Y} \cup \mathcal{Y}^-} A_{ui}", {"A": A, "Y": [(1, 1)], "Y^-": [(2, 1), (1, 1)]}, {},
     A[0, 0] + A[1, 0]),
    (r"y = \sum_{\mathbf{v}' \in V} \mathbf{v}'^\top x", {"V": W, "x": x}, {}, (W @ x).sum()),
    (r"y = \sum_{(w_a, w_b) \in S} (\vec{w}_a - \vec{w}_b)", {"S": [(x, y), (y, x + y)]}, {}, x - y + y - (x + y)),
    (r"y = \sum_{S \subseteq F \setminus \{i\}} |S|", {"F": [1, 2, 3], "i": 2}, {}, t(4.0)[0]),
    (r"y = \left| \left\{ v \in V : v^\top x > 10 \right\} \right|", {"V": W, "x": x}, {}, (W @ x > 10).sum()),
    (r"y = \sum_{j=1}^{3} \mathbb{1}_{[\exists i \in V : W_{ij} > 3]}", {"W": W, "V": [1, 2]}, {}, (W > 3).any(0).sum()),
]


@pytest.mark.parametrize("tex, values, options, expected", NEW_CASES, ids=[c[0] for c in NEW_CASES])
def test_linear_algebra_and_sample_constructs(tex, values, options, expected):
    got = evaluate(tex, values, **options)
    torch.testing.assert_close(got.to(torch.float64), torch.as_tensor(expected, dtype=torch.float64))


def test_a_set_operation_needs_finite_sets_of_numbers():
    with pytest.raises(TexEvalError) as raised:
        evaluate(r"y = \sum_{i \in W \setminus \{1\}} i", {"W": W}, equation="n/e")
    assert str(raised.value) == "n/e: cannot evaluate W at column 17: a set operation needs a finite set of numbers"


def test_an_aligned_block_is_read_line_by_line_as_clauses():
    tex = r"""\begin{aligned}
a &= x + y, \qquad b = \begin{bmatrix} x \\ y \end{bmatrix}, \\
c &= x \odot y
\end{aligned}"""
    torch.testing.assert_close(evaluate(tex, {"x": x, "y": y}, clause=0), x + y)
    torch.testing.assert_close(evaluate(tex, {"x": x, "y": y}, clause=1), torch.cat([x, y]))
    torch.testing.assert_close(evaluate(tex, {"x": x, "y": y}), x * y)
