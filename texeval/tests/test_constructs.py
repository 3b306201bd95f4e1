"""One case per construct the evaluator reads, each against a value computed without it (torch or by hand)."""
import math

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
    # superscript labels (a label when the check names it, else a power) and names indexed by a bound variable
    (r"y = X W_i^Q", {"X": A, "W^Q": torch.stack([A, 2 * A]), "i": 2}, A @ (2 * A)),
    (r"y = x^{corrupt}_t + E^{tok}_{x_i}", {"x^corrupt": x, "t": 2, "E^tok": y, "x": x, "i": 1}, x[1] + y[0]),
    (r"y = \mathrm{rab}^{p,t} + \tilde H^{l} + h_{\tau+1}^{n-1}", {"rab^p,t": 1.0, "Htilde^l": 2.0, "h_tau+1^n-1": 3.0}, t(6.0)[0]),
    (r"y = x^2 + e^{x}", {"x": x}, x ** 2 + torch.exp(x)),
    (r"\hat z = \sum_{d=1}^{2} e^d_{c_d}", {"e": [A, 2 * A], "c": torch.tensor([2, 1])}, A[1] + 2 * A[0]),
    (r"y = x_t^2 + x_t^{(t)}", {"x": [y, x], "t": 2}, x ** 2 + x[1]),
    (r"s = \sum_{s<t} \|\theta^{(s)} - \theta^{(t)}\|^2", {"theta": [x, y, 2 * x]}, ((x - y) ** 2 + x ** 2 + (y - 2 * x) ** 2).sum()),
    (r"y = \sum_{i \in \mathcal{T}} p_i(x) E_i(x)", {"p": [torch.sum, torch.prod], "E": [torch.exp, torch.sin], "T": [1, 2], "x": x},
     x.sum() * torch.exp(x) + x.prod() * torch.sin(x)),
    (r"y = \sum_{j_1=1}^{3} \sum_{j_2=j_1+1}^{3} x_{j_1} x_{j_2}", {"x": x}, t(11.0)[0]),
    (r"y = m_{u \leftarrow i}", {"m": W, "u": 2, "i": 3}, W[1, 2]),
    (r"y = \mathbb{1}[\arg\max y = i]", {"y": y, "i": 3}, t(1.0)[0]),
    (r"y = \underbrace{x + 1}_{(a)} - \overbrace{y}^{\text{b}}", {"x": x, "y": y}, x + 1 - y),
    (r"y = \operatorname{sg}\left[x\right]", {"x": x, "sg": torch.Tensor.detach}, x),
    (r"w = \arg\max_{w \notin \{\text{King}, 3\}} y_w", {"y": t(5.0, 1.0, 9.0, 2.0), "King": 3}, torch.tensor(1)),
    # a list under a subscripted name is indexed by the index a sum binds (the per-task L_t beside the total L)
    (r"y = L + \sum_{t=1}^{3} w_t L_t", {"L": 100.0, "L_t": [1.0, 2.0, 3.0], "w": x}, t(114.0)[0]),
    # a run of superscripted tokens, and a sum over the labelled pairs (x, y) given in indices=
    (r"L = \sum_{(x, y)} y f(x^1, \ldots, x^m)", {"f": torch.sum, "m": 2}, t(2 * (1.0 + 2.0) + 3 * (0.5 - 1.0))[0]),
    # a name the note defines in words, read through where= at the place it is read (f_2 the field of j_2)
    (r"y = \sum_{j_1=1}^{3} \sum_{j_2=j_1+1}^{3} W_{f_2, j_1} x_{j_2}", {"W": W, "x": x, "f": [2, 1, 2]},
     W[0, 0] * x[1] + W[1, 0] * x[2] + W[1, 1] * x[2]),
    # a bracket call with a preference between its two arguments; labelled variables bound below a sum
    (r"p = \hat{P}\left[\sigma^1 \succ \sigma^2\right] - P[a \prec b]", {"Phat": torch.sub, "P": torch.sub, "sigma^1": x,
     "sigma^2": y, "a": 1.0, "b": 3.0}, x - y - 2.0),
    (r"s = \sum_{(\sigma^1, \sigma^{2}, \mu) \in \mathcal{D}} \mu(1) P[\sigma^2 \succ \sigma^1]",
     {"D": [(1.0, 2.0, torch.exp), (5.0, 3.0, torch.sin)], "P": torch.sub}, t(math.exp(1) * 1.0 + math.sin(1) * -2.0)[0]),
    # expectations over the sample axis
    (r"y = \mathbb{E}_{x \sim p}[x^2]", {"x": x}, (x ** 2).mean()),
    (r"y = \mathbb{E}\left(\sum_{t=1}^{3} W_t c\right)", {"W": W, "c": 2.0}, (W * 2.0).sum(1).mean()),
    # derivatives by autograd, integrals by Gauss-Legendre quadrature (references: closed forms)
    (r"g = \nabla_\theta f(\theta_{t-1})", {"f": lambda v: (v ** 3).sum() / 3, "theta_t-1": y}, y ** 2),
    (r"g = \nabla f(x)", {"f": lambda v: torch.logsumexp(v, 0), "x": x}, torch.softmax(x, 0)),
    (r"g = \nabla_w l(x, w)", {"l": lambda a, b: (a * b).sum() ** 2, "x": x, "w": y}, 2 * (x @ y) * x),
    (r"g = \nabla_w \left(w^\top A w\right)", {"w": t(1.0, -2.0), "A": A}, (A + A.T) @ t(1.0, -2.0)),
    (r"d = \frac{\partial (s^2)}{\partial x_2}", {"s": None, "x": x}, 2 * x.sum()),
    (r"y = \int_{0}^{\pi} \sin \alpha \, d\alpha + \int_1^2 x \, \mathrm{d}u", {"x": x}, 2.0 + x),
    (r"y = \lim_{h \to 0} \frac{\exp(x + h) - \exp(x)}{h}", {"x": x}, torch.exp(x)),
    # conditional probabilities, argument lists, divergences (the callable gets the arguments as written)
    (r"L = \sum_{t=1}^{3} \log p(x_t \mid x_1, \ldots, x_{t-1})", {"x": x, "p": lambda a, ctx: a / (1 + ctx.sum())},
     torch.log(x[0] / 1) + torch.log(x[1] / (1 + x[0])) + torch.log(x[2] / (1 + x[0] + x[1]))),
    (r"y = p(x_2 \mid x_3, x_4, \ldots, x_N; \theta)", {"x": t(1.0, 2.0, 3.0, 4.0, 5.0), "N": 5, "theta": 10.0,
     "p": lambda a, ctx, th: a * th + ctx.sum()}, t(32.0)[0]),
    (r"y = p_\theta(y_t \mid y_{<t}) + z_{\le 2}^\top z_{>1}", {"y": x, "t": 3, "z": x, "p_theta": lambda a, c: a - c.sum()},
     x[2] - x[:2].sum() + x[:2] @ x[1:]),
    (r"y = g(\mathbf{x}_{\mathbf{z}_{<t}})", {"x": x, "z": t(3.0, 1.0, 2.0), "t": 3, "g": lambda v: v[0] * 10 + v[1]},
     x[2] * 10 + x[0]),
    (r"y = D_{\mathrm{KL}}(x \,\|\, y) + \mathrm{KL}(y \parallel x)", {"x": x, "y": y, "D_KL": lambda a, b: a @ b,
     "KL": lambda a, b: a - b}, x @ y + y - x),
    (r"y = p(\cdot \mid x)", {"x": x, "p": lambda target, v: torch.softmax(v, -1) if target is None else None},
     torch.softmax(x, -1)),
    (r"W_s = \left(x_{s}, x_{s+1}, \dots, x_{s+L-1}\right)", {"x": t(1.0, 2.0, 3.0, 4.0), "s": 2, "L": 2}, t(2.0, 3.0)),
    (r"y = (1, x_1, \ldots, x_n)", {"x": x, "n": 2}, t(1.0, 1.0, 2.0)),
    (r"y = f(u_{i-k}, \ldots, u_{i-1})", {"u": x, "i": 3, "k": 5, "f": lambda w: w}, x[:2]),
    (r"y = \sum_{-c \le j \le c,\, j \ne 0} j^2 + \sum_{0 < i < 3} i", {"c": 2}, t(13.0)[0]),
    (r"y = \sum_{x'} e(x')", {"e": lambda v: v ** 2}, t(14.0)[0]),
    (r"s = \sum_{(T, S) \in \mathcal{S}} T^\top S", {"S": [(x, y), (y, y)]}, x @ y + y @ y),
    (r"\alpha_{ij} = \operatorname{softmax}_j\left(q_i^\top k_j\right)", {"q": W.T, "k": W.T, "i": 2},
     torch.softmax(W.T @ W.T[1], 0)),
    (r"\alpha_{ij} = \mathrm{softmax}_j(x_j y_i)", {"x": x, "y": y, "i": 1, "j": 3}, torch.softmax(x * y[0], 0)[2]),
    (r"y = \overrightarrow{\Theta} - \overleftarrow{\Theta}", {"Thetaright": 3.0, "Thetaleft": 1.0}, t(2.0)[0]),
    # expectations over the sample axis
    (r"y = \mathbb{E}_{x \sim p}[x^2]", {"x": x}, (x ** 2).mean()),
    (r"y = \mathbb{E}\left(\sum_{t=1}^{3} W_t c\right)", {"W": W, "c": 2.0}, (W * 2.0).sum(1).mean()),
    (r"y = \mathbb{E}_{\mathbf{z} \sim \mathcal{Z}}\left[\sum_{t=2}^{|\mathbf{z}|} \mathbf{z}_{<t}^\top v_{\mathbf{z}_{<t}}\right]",
     {"z": [[1, 2, 3], [3, 2, 1]], "v": x}, t((1 * 1 + 1 * 1 + 2 * 2 + 3 * 3 + 3 * 3 + 2 * 2) / 2)[0]),
]


OPTIONS = {r"y = \sum_{x'} e(x')": {"indices": {"x'": range(1, 4)}},
           r"y = \mathbb{E}\left(\sum_{t=1}^{3} W_t c\right)": {"samples": {"W": W}},
           r"L = \sum_{(x, y)} y f(x^1, \ldots, x^m)": {"indices": {"x,y": [(x, 2.0), (y, 3.0)]}},
           r"y = \sum_{j_1=1}^{3} \sum_{j_2=j_1+1}^{3} W_{f_2, j_1} x_{j_2}": {"where": {"f_2": r"f_{j_2}"}}}


@pytest.mark.parametrize("tex, values, expected", CASES, ids=[c[0] for c in CASES])
def test_construct(tex, values, expected):
    if values.get("s", 0) is None:  # a value computed from x: the derivative follows the graph the values carry
        values = {"x": x.clone().requires_grad_(True)}
        values["s"] = values["x"].sum()
    got = evaluate(tex, values, **OPTIONS.get(tex, {}))
    torch.testing.assert_close(got.to(expected.dtype).detach(), expected.detach())


def test_relations_give_every_side():
    pythagoras = sides(r"a^2 + b^2 = c^2", {"a": 3.0, "b": 4.0, "c": 5.0})
    assert [float(v) for v in pythagoras.values] == [25.0, 25.0] and pythagoras.relations == ("=",)
    assert sides(r"x \le y", {"x": 1.0, "y": 2.0}).relations == ("<=",)
    assert sides(r"y \propto x", {"x": x, "y": 2 * x}).relations == ("propto",)
    assert sides(r"y \approx x", {"x": 1.0, "y": 1.001}).relations == ("approx",)


@pytest.mark.parametrize("tex, message", [
    (r"y = \nabla f", r"n/e: cannot evaluate \nabla at column 5: \nabla without a subscript is the gradient of a "
                       r"function at its argument, like \nabla f(x): pass f as a callable, or write \nabla_x E"),
    (r"y = \nabla_x (x f)", r"n/e: cannot evaluate \nabla at column 5: the derivative of a value of shape (3,): "
                             r"texeval differentiates a scalar"),
    (r"y = \frac{\partial f}{\partial z}", r"n/e: cannot evaluate z at column 32: no value for z to differentiate at; pass z=..."),
    (r"y = \frac{\partial f}{\partial (x + 1)}", r"n/e: cannot evaluate \partial at column 11: a derivative is taken with respect "
                                            r"to a name, like \theta or x_i"),
    (r"y = \nabla g(x, f)", r"n/e: cannot evaluate \nabla at column 5: g(...) has 2 arguments: pass gradient_argument=<1..2> "
                            r"for the one the gradient is taken for"),
    (r"y = \partial f", r"n/e: cannot evaluate \partial at column 5: a partial derivative is written \frac{\partial E}{\partial x}"),
    (r"y = \int_0^1 x", r"n/e: cannot evaluate \int at column 5: an integral needs its differential after the integrand, like d\alpha"),
    (r"y = \lim_{h \to \infty} x", r"n/e: cannot evaluate \lim at column 5: texeval takes a limit at a finite point, not at infinity"),
    (r"y = \lim x", r"n/e: cannot evaluate \lim at column 5: \lim needs its variable and target below it, like \lim_{\epsilon \to 0}"),
    (r"y = \int x \, dx", r"n/e: cannot evaluate \int at column 5: texeval evaluates a definite integral: write its limits, like \int_0^1"),
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
    (r"y = \min_{0 \le j < } x_j", r"n/e: cannot evaluate < at column 19: a range between two bounds needs both bounds"),
    (r"y = \sum_{i \in S \cup} x_i", r"n/e: cannot evaluate \cup at column 20: a union needs a set on each side"),
    (r"y = \mathbb{1}[\exists i \in S \; x_i > 0]", r"n/e: cannot evaluate > at column 39: expected : or \mid after the set of \exists"),
    (r"y = (x \setminus f)", r"n/e: cannot evaluate setoperation at column 8: the formula's value is a set, not a number or a tensor"),
    (r"y = \mathrm{rab}^{p,t}", "n/e: cannot evaluate rab^{p,t} at column 5: no value for rab^p,t; pass rab^p,t=... (names given: f, g, r, t, x)"),
    (r"y = \arg\max", r"n/e: cannot evaluate \arg at column 5: \argmax needs an argument"),
    (r"y = x^{corrupt}_t", "n/e: cannot evaluate x^{corrupt}_{t} at column 5: no value for x_t^corrupt (a label), nor for c "
                          "(as a power); pass x_t^corrupt=..."),
    (r"y = \sum_{i \notin \{1,\}} x", r"n/e: cannot evaluate \{ at column 20: an empty element in this set"),
    (r"y = f(x_1, x_3, \ldots, x_9)", "n/e: cannot evaluate x_{1} at column 7: the indices of this run do not count up by one (1, 3, ..., 9)"),
    (r"y = f(x_1, \ldots, x_9)", "n/e: cannot evaluate x_{1} at column 7: a run takes entries of x, which is not a tensor or a list"),
    (r"y = f(r_1, \ldots, r_9)", "n/e: cannot evaluate r_{1} at column 7: the run 1..9 is out of range for r of length 3 (index_base=1)"),
    (r"y = f(a, \ldots, x_9)", r"n/e: cannot evaluate \ldots at column 10: a run needs x with an index before it, like x_1, \ldots, x_{9}"),
    (r"y = f(x_1, \ldots)", r"n/e: cannot evaluate \ldots at column 12: a run needs an indexed name after it, like x_1, \ldots, x_{t-1}"),
    (r"y = \sum_{0 \le j \le 2, k \ne 1} j", "n/e: cannot evaluate k at column 26: after a range only exclusions like j \\ne 0 may follow"),
    (r"y = f(r_{<t})", "n/e: cannot evaluate r_{< t} at column 7: the entries < 9 reach outside an axis of size 3 (index_base=1)"),
    (r"y = \max_{0 \le s \le 1} s", "n/e: cannot evaluate 0 at column 11: an index below a big operator must be a letter, like i or (u, i)"),
    (r"y = \mathrm{softmax}_j(x, x)", r"n/e: cannot evaluate softmax_{j} at column 5: softmax_j takes one argument and one index letter"),
    (r"y = f(x^1, x^3, \ldots, x^9)", "n/e: cannot evaluate x^{1} at column 7: the indices of this run do not count up by one (1, 3, ..., 9)"),
    (r"y = f(a, \ldots, r^9)", r"n/e: cannot evaluate \ldots at column 10: a run needs r with an index before it, like r^1, \ldots, r^{9}"),
    (r"y = g[r_1 \succ r_2, r_3]", r"n/e: cannot evaluate , at column 20: expected ] to close the [ at column 6"),
    (r"y = f \succ g", r"n/e: cannot evaluate \succ at column 7: texeval cannot read the formula from here on"),
    (r"y = \mathrm{softmax}_j(f)", r"n/e: cannot evaluate softmax_{j} at column 5: cannot tell the range of j: no tensor it indexes is given; pass indices={'j': range(...)}"),
])
def test_what_it_cannot_read_fails_with_the_construct_and_its_column(tex, message):
    with pytest.raises(TexEvalError) as raised:
        evaluate(tex, {"x": x if "nabla_x" in tex else 1.0, "f": 1.0, "g": lambda a, b: a * b, "r": t(1.0, 2.0, 3.0),
                       "t": 9}, equation="n/e")
    assert str(raised.value) == message


def test_a_definition_in_where_is_one_expression_and_names_its_construct():
    with pytest.raises(TexEvalError) as raised:
        evaluate(r"y = f_1 + \sum_{j=1}^{2} x_j", {"x": x}, where={"f_1": r"\oint x"}, equation="n/e")
    assert str(raised.value) == r"n/e: cannot evaluate f_{1} at column 5: f_1, defined as \oint x: cannot evaluate \oint: texeval does not know this command"
    with pytest.raises(TexEvalError) as raised:
        evaluate(r"y = f_1", {}, where={"f_1": "a = b"}, equation="n/e")
    assert "a definition in where= is one expression, with no relation or comma" in str(raised.value)


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


def test_a_label_indexes_only_the_list_it_names():
    with pytest.raises(TexEvalError) as raised:
        evaluate(r"y = \sum_{d=1}^{3} e^{d}", {"e": [x, y]}, equation="n/e")
    assert str(raised.value) == "n/e: cannot evaluate e^{d} at column 20: index 3 is out of range for an axis of size 2 (index_base=1)"
    torch.testing.assert_close(evaluate(r"y = \sum_{d=1}^{3} e^{d}", {}), torch.tensor(math.e + math.e ** 2 + math.e ** 3, dtype=torch.float64))


def test_a_callable_with_several_outputs_gives_a_tuple():
    U, V = evaluate(r"U(X), V(X) = \operatorname{Split}\left(\phi_1(X)\right)", {"X": x, "phi_1": torch.exp,
                                                                              "Split": lambda h: torch.split(h, [1, 2])})
    torch.testing.assert_close(U, torch.exp(x)[:1])
    torch.testing.assert_close(V, torch.exp(x)[1:])


def test_merged_linalg_and_main_readings_meet():
    # a name before [a; b] that is no callable multiplies the concatenation (main's bracketed call, linalg's concat)
    M = torch.arange(12.0, dtype=torch.float64).reshape(2, 6)
    torch.testing.assert_close(evaluate(r"y = W_1 \left[a; b\right]", {"W_1": M, "a": x, "b": y}), M @ torch.cat([x, y]))
    # a strict bound makes a max run over integers; a max over a <= ... <= b stays an error (tested above)
    torch.testing.assert_close(evaluate(r"y = \max_{0 \le j < 3} x_j", {"x": x}, index_base=0), x.max())
    # E[x^2] over samples: the label-or-power superscript reads as the power of the sample
    torch.testing.assert_close(evaluate(r"y = E[x_l^2]", {}, samples={"x_l": B}), (B ** 2).mean())
    # an align block followed by sentence punctuation is read row by row
    tex = r"\begin{align} a &= x + y \\ b &= x \odot y \end{align}."
    torch.testing.assert_close(evaluate(tex, {"x": x, "y": y}, clause=0), x + y)
    torch.testing.assert_close(evaluate(tex, {"x": x, "y": y}), x * y)
