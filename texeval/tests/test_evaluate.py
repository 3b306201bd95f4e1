"""texeval: constructs and their error messages (a first set; more to come per construct)."""
import pytest
import torch

from texeval import TexEvalError, evaluate, sides

x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)


def test_adam_update_by_the_naming_rule():
    got = evaluate(r"\theta_t = \theta_{t-1} - \alpha \, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
                   {"theta_t-1": 1.0, "alpha": 0.5, "mhat_t": x, "vhat_t": 4.0, "epsilon": 0.0})
    torch.testing.assert_close(got, 1.0 - 0.5 * x / 2)


def test_sum_with_limits_and_inferred_range():
    assert float(evaluate(r"s = \sum_{i=1}^{n} x_i^2", {"x": x, "n": 3})) == 14.0
    assert float(evaluate(r"s = \sum_{i} x_i", {"x": x})) == 6.0
    assert float(evaluate(r"s = \sum_{i<j} x_i x_j", {"x": x})) == 2 + 3 + 6
    assert float(evaluate(r"s = \sum_{j<k} x_j", {"x": x, "k": 3})) == 1 + 2
    assert float(evaluate(r"s = \sum_{j<k} x_j", {"x": x, "k": 2}, index_base=0)) == 1 + 2


def test_juxtaposition_is_the_matrix_product_and_transpose_makes_rows():
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    v = torch.tensor([1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(evaluate(r"y = W v", {"W": W, "v": v}), W @ v)
    assert float(evaluate(r"y = v^\top W v", {"W": W, "v": v})) == 10.0
    torch.testing.assert_close(evaluate(r"y = v v^\top", {"v": v}), torch.ones(2, 2, dtype=torch.float64))


def test_two_vectors_side_by_side_are_ambiguous():
    with pytest.raises(TexEvalError, match=r"eq/a: cannot evaluate b at column 7: two vectors side by side"):
        evaluate(r"y = a b", {"a": x, "b": x}, equation="eq/a")


def test_named_operator_needs_a_callable_and_builtins_apply():
    torch.testing.assert_close(evaluate(r"y = \mathrm{softmax}(x)", {"x": x}), torch.softmax(x, -1))
    torch.testing.assert_close(evaluate(r"y = \operatorname{FFN}(x)", {"x": x, "FFN": lambda t: 2 * t}), 2 * x)
    with pytest.raises(TexEvalError, match="no value for Attention"):
        evaluate(r"y = \operatorname{Attention}(x, x)", {"x": x})


def test_unknown_command_names_construct_and_column():
    with pytest.raises(TexEvalError) as error:
        evaluate(r"g_t = \oint f", {"f": 1.0}, equation="kingma2014adam/gradient")
    assert str(error.value) == "kingma2014adam/gradient: cannot evaluate \\oint at column 7: texeval does not know this command"


def test_deep_nesting_and_long_sums_are_errors_not_hangs():
    with pytest.raises(TexEvalError, match="nested more than"):
        evaluate("y = " + "(" * 200 + "1" + ")" * 200, {})
    with pytest.raises(TexEvalError, match="max_terms"):
        evaluate(r"y = \sum_{i=1}^{10^{9}} i", {})
    with pytest.raises(TexEvalError, match="too large"):
        evaluate(r"y = 10^{10^{5}}", {})


def test_sides_and_cases_and_indicator():
    both = sides(r"a (b + c) = a b + a c", {"a": 2.0, "b": 3.0, "c": 4.0})
    assert [float(v) for v in both.values] == [14.0, 14.0] and both.relations == ("=",)
    got = evaluate(r"f = \begin{cases} x & \text{if } x > 1 \\ 0 & \text{otherwise} \end{cases}", {"x": x})
    torch.testing.assert_close(got, torch.tensor([0.0, 2.0, 3.0], dtype=torch.float64))
    torch.testing.assert_close(evaluate(r"y = \mathbb{1}[x > 1]", {"x": x}), torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64))


def test_gradient_of_a_call_with_several_arguments_names_the_argument():
    w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)

    def l(a, b):
        return ((a * b).sum() - 1) ** 2
    got = evaluate(r"g = \nabla l(x, w_t)", {"l": l, "x": x, "w_t": w}, gradient_argument=2)
    torch.testing.assert_close(got, 2 * ((x * w).sum() - 1) * x)


def test_derivatives_follow_the_graph_the_values_carry_and_powers_of_the_variable():
    """The batch-norm-like chain ℓ = Σ G ⊙ (x − μ)/σ, with μ, σ computed from x: ∂ℓ/∂σ² and ∂ℓ/∂x_i against
    their closed forms; a display that is an aligned block evaluates row by row."""
    G = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    x_leaf = x.clone().requires_grad_(True)
    mu = x_leaf.mean()
    sigma = ((x_leaf - mu) ** 2).mean().sqrt()
    ell = (G * (x_leaf - mu) / sigma).sum()
    values = {"ell": ell, "x": x_leaf, "sigma": sigma, "mu": mu}
    d_sigma2 = evaluate(r"\frac{\partial \ell}{\partial \sigma^2}", values)
    s = float(sigma.detach())
    torch.testing.assert_close(d_sigma2, (G * (x - x.mean())).sum() * -0.5 * s ** -3)
    aligned = "\\begin{aligned} a &= \\frac{\\partial \\ell}{\\partial x_i} \\\\ b &= \\frac{\\partial \\ell}{\\partial \\mu} \\end{aligned}"
    assert len(sides(aligned, {**values, "a": 0.0, "i": 1}, clause=0).values) == 2
    torch.testing.assert_close(evaluate(aligned, values, clause=1), -G.sum() / s)
    (autograd_dx,) = torch.autograd.grad(ell, x_leaf, retain_graph=True)
    torch.testing.assert_close(evaluate(aligned, {**values, "i": 2}, clause=0), autograd_dx[1])


def test_a_function_passed_to_a_function_and_a_call_differentiated_through_the_graph():
    """H(p) with p a distribution k -> p(k): ∂H(p)/∂z_k, z requiring grad, against the softmax-entropy closed form."""
    z = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    p = torch.softmax(z, 0)

    def H(distribution):
        return -sum(distribution(k) * torch.log(distribution(k)) for k in (1, 2, 3))
    values = {"H": H, "p": lambda k: p[int(k) - 1], "z": z, "k": 2}
    got = evaluate(r"g = \frac{\partial H(p)}{\partial z_k}", values)
    q, entropy = p.detach(), -(p.detach() * p.detach().log()).sum()
    torch.testing.assert_close(got.detach(), -q[1] * (q[1].log() + entropy))
