"""Checks for notes/srivastava2014dropout.md: the dropout layer with a retain-probability mask, its
expectation, test-time weight scaling, inverted dropout, Gaussian dropout's variance, the linear-regression
marginalisation, and the test-time scaling misstatement.

Convention: the paper's p is the RETAIN probability; torch's F.dropout(x, p_drop) takes the DROP probability
p_drop = 1 − p and divides kept units by 1 − p_drop. References: nn.Linear, F.dropout, the thinned
sub-network with the dropped units removed, exact expectations by enumerating every mask, and Monte Carlo.
"""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def all_masks(n):
    """Every r ∈ {0, 1}^n: (2^n, n)."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=f64, device=device())


def mask_probabilities(masks, p):
    """P(r) = p^{#kept} (1 − p)^{#dropped} for each row of masks."""
    kept = masks.sum(-1)
    return p ** kept * (1 - p) ** (masks.shape[-1] - kept)


@check("srivastava2014dropout/standard-layer",
       tex=r"z_i^{(l+1)} = w_i^{(l+1)} y^{(l)} + b_i^{(l+1)}, \qquad y_i^{(l+1)} = f\left(z_i^{(l+1)}\right)",
       evaluates=True)
def check_standard_layer_against_nn_linear():
    """y^(l): (5, 12) for a batch of 5; unit by unit, z_i = w_i y + b_i and f = sigmoid, against
    nn.Sequential(nn.Linear(12, 7), nn.Sigmoid())."""
    seed(0)
    layer = nn.Sequential(nn.Linear(12, 7), nn.Sigmoid()).to(device(), f64)
    W, b = layer[0].weight.detach(), layer[0].bias.detach()           # rows w_i: (7, 12), b: (7,)
    y = randn(seed(1), 5, 12)
    # z_i^(l+1) = w_i^(l+1) y^(l) + b_i^(l+1), one unit at a time
    # (the row w_i is passed as a (1, 12) matrix and the batch as the columns of y^(l), so w_i y^(l) is (1, 5))
    z = torch.cat([evaluate_with("srivastava2014dropout/standard-layer",
                                 {"w_i^(l+1)": W[i:i + 1], "y^(l)": y.T, "b_i^(l+1)": b[i]}, clause=0)
                   for i in range(W.shape[0])]).T                                                   # (5, 7)
    # y_i^(l+1) = f(z_i^(l+1))
    out = evaluate_with("srivastava2014dropout/standard-layer", {"f": torch.sigmoid, "z_i^(l+1)": z}, clause=1)
    with torch.no_grad():
        close(out, layer(y), "y^(l+1) = f(z^(l+1)) vs nn.Linear + nn.Sigmoid")


@check("srivastava2014dropout/bernoulli-mask", tex=r"r_j^{(l)} \sim \operatorname{Bernoulli}(p)")
def check_bernoulli_mask_keeps_with_probability_p():
    """10⁶ mask entries with retain probability p = 0.8: values in {0, 1}, mean p within 5 standard errors;
    F.dropout with p_drop = 1 − p = 0.2 keeps the same fraction."""
    p, n = 0.8, 1_000_000
    g = seed(2)
    # r_j ~ Bernoulli(p)
    r = torch.bernoulli(torch.full((n,), p, dtype=f64), generator=g)
    standard_error = (p * (1 - p) / n) ** 0.5
    close(((r == 0) | (r == 1)).double().mean(), 1.0, "r_j ∈ {0, 1}", rtol=0, atol=0)
    close(r.mean(), p, "fraction kept by r", rtol=0, atol=5 * standard_error)
    torch_kept = (F.dropout(torch.ones(n, dtype=f64, device=device()), p=1 - p) != 0).double().mean()
    close(torch_kept, p, "fraction kept by F.dropout(p_drop = 1 − p)", rtol=0, atol=5 * standard_error)


@check("srivastava2014dropout/masked-activations", tex=r"\tilde y^{(l)} = r^{(l)} \odot y^{(l)}", evaluates=True)
@check("srivastava2014dropout/dropout-layer",
       tex=r"z_i^{(l+1)} = w_i^{(l+1)} \tilde y^{(l)} + b_i^{(l+1)}, \qquad y_i^{(l+1)} = f\left(z_i^{(l+1)}\right)",
       evaluates=True)
def check_dropout_layer_is_the_thinned_network():
    """y^(l): (10,), W: (6, 10). With ỹ = r ⊙ y, the layer equals the thinned network with the dropped
    units' columns removed, and autograd gives dropped units and their weights zero gradient."""
    g = seed(3)
    W, b, y = randn(g, 6, 10), randn(g, 6), randn(g, 10).requires_grad_(True)
    r = torch.zeros(10, dtype=f64, device=device())
    kept = torch.tensor([0, 2, 3, 7, 8], device=device())
    r[kept] = 1.0
    W = W.requires_grad_(True)
    # ỹ^(l) = r^(l) ⊙ y^(l)
    y_tilde = evaluate("srivastava2014dropout/masked-activations", **{"r^(l)": r, "y^(l)": y})
    # z_i^(l+1) = w_i^(l+1) ỹ^(l) + b_i^(l+1);  y_i^(l+1) = f(z_i^(l+1)) with f = tanh
    z = torch.cat([evaluate_with("srivastava2014dropout/dropout-layer",
                                 {"w_i^(l+1)": W[i:i + 1], "ytilde^(l)": y_tilde, "b_i^(l+1)": b[i]}, clause=0)
                   for i in range(W.shape[0])])
    out = evaluate_with("srivastava2014dropout/dropout-layer", {"f": torch.tanh, "z_i^(l+1)": z}, clause=1)
    thinned = torch.tanh(W[:, kept] @ y[kept] + b)
    close(out.detach(), thinned.detach(), "dropout layer vs the thinned sub-network")
    dW, dy = torch.autograd.grad(out.sum(), (W, y))
    dropped = r == 0
    close(dW[:, dropped], torch.zeros_like(dW[:, dropped]), "∂/∂W for dropped units' weights", atol=0, rtol=0)
    close(dy[dropped], torch.zeros_like(dy[dropped]), "∂/∂y for dropped units", atol=0, rtol=0)


def expectation_setup():
    g = seed(4)
    W, y = randn(g, 5, 10), randn(g, 10)          # the rows of W are the w_i^(l+1)
    return W, y, 0.7


@check("srivastava2014dropout/expectation",
       tex=r"\mathbb{E}_{r}\left[w_i^{(l+1)} (r^{(l)} \odot y^{(l)})\right] = p\, w_i^{(l+1)} y^{(l)}", evaluates=True)
def check_expected_input_is_p_times_input():
    """n = 10 units, p = 0.7: the exact expectation over all 2¹⁰ masks, and a Monte Carlo mean over
    2·10⁵ masks (within 5 standard errors), both equal p w_i y."""
    W, y, p = expectation_setup()
    masks = all_masks(10)                                         # (1024, 10)
    inputs = (masks * y) @ W.T                                    # w_i (r ⊙ y) for every mask: (1024, 5)
    exact = (mask_probabilities(masks, p)[:, None] * inputs).sum(0)
    # E_r[w_i (r ⊙ y)] = p w_i y: the right side from the note's LaTeX, for each row w_i (as a (1, 10) matrix)
    expected = torch.cat([evaluate("srivastava2014dropout/expectation", p=p, **{"w_i^(l+1)": W[i:i + 1], "y^(l)": y})
                          for i in range(W.shape[0])])
    close(exact, expected, "exact E_r over all masks")
    r = torch.bernoulli(torch.full((200_000, 10), p, dtype=f64), generator=seed(5)).to(device())
    samples = (r * y) @ W.T
    standard_error = samples.std(0) / samples.shape[0] ** 0.5
    close(samples.mean(0), expected, "Monte Carlo E_r", rtol=0, atol=float(5 * standard_error.max()))


@check("srivastava2014dropout/test-scaling", tex=r"W_{test}^{(l)} = p\, W^{(l)}", evaluates=True)
def check_test_time_weights_give_the_training_expectation():
    """W_test = pW evaluated from the note (its superscript (l) parses as a power, so l = 1): the test
    network's pre-activations W_test y equal the exact training expectation E_r[W (r ⊙ y)]."""
    W, y, p = expectation_setup()
    masks = all_masks(10)
    training_expectation = (mask_probabilities(masks, p)[:, None] * ((masks * y) @ W.T)).sum(0)
    # W_test = p W
    W_test = evaluate("srivastava2014dropout/test-scaling", p=p, **{"W^(l)": W}).to(W)
    close(W_test @ y, training_expectation, "W_test y vs E_r[W (r ⊙ y)]")


@check("srivastava2014dropout/inverted-dropout",
       tex=r"\tilde y^{(l)} = \frac{r^{(l)} \odot y^{(l)}}{p}, \qquad y_{test}^{(l)} = y^{(l)}", evaluates=True)
def check_inverted_dropout_against_f_dropout():
    """y: (2·10⁵,) with p = 0.8 (p_drop = 0.2). F.dropout's output divided by y takes exactly the values
    {0, 1/(1 − p_drop)} = {0, 1/p}; with r read off its zeros, (r ⊙ y)/p equals it; its mean equals y's
    (5 standard errors); at test time F.dropout is the identity; and the exact expectation of the training
    pre-activation W ỹ over every mask of 10 units equals the eval-mode nn.Dropout + nn.Linear output."""
    p_drop, n = 0.2, 200_000
    p = 1 - p_drop
    g = seed(6)
    y = (torch.rand(n, generator=g, dtype=f64) + 0.5).to(device())   # nonzero, so y/x is defined
    seed(7)
    y_tilde_torch = F.dropout(y, p=p_drop, training=True)
    ratio = y_tilde_torch / y
    nearest = torch.where(ratio < 0.5 / (1 - p_drop), 0.0, 1 / (1 - p_drop))
    close(ratio, nearest, "every ratio y/x is 0 or 1/(1 − p_drop)")
    close(torch.unique(nearest), torch.tensor([0.0, 1 / (1 - p_drop)], dtype=f64, device=device()), "both ratios occur")
    r = (y_tilde_torch != 0).double()
    # ỹ = (r ⊙ y) / p
    y_tilde = evaluate_with("srivastava2014dropout/inverted-dropout", {"r^(l)": r, "y^(l)": y, "p": p}, clause=0)
    close(y_tilde, y_tilde_torch, "(r ⊙ y)/p vs F.dropout")
    standard_error = float(y_tilde.std()) / n ** 0.5
    close(y_tilde.mean(), y.mean(), "E_r[ỹ] = y (mean over units)", rtol=0, atol=5 * standard_error)
    # y_test = y
    y_test = evaluate_with("srivastava2014dropout/inverted-dropout", {"y^(l)": y}, clause=1)
    close(y_test, F.dropout(y, p=p_drop, training=False), "y_test = y vs F.dropout in eval")
    # averaged over all 2¹⁰ masks, the inverted layer's training pre-activation W ỹ equals what nn.Dropout
    # followed by nn.Linear computes in eval mode (no scaling at test time)
    layer = nn.Sequential(nn.Dropout(p_drop), nn.Linear(10, 4, bias=False)).to(device(), f64).eval()
    W, y_small, masks = layer[1].weight.detach(), y[:10], all_masks(10)
    training_expectation = (mask_probabilities(masks, p)[:, None] * ((masks * y_small / p) @ W.T)).sum(0)
    with torch.no_grad():
        close(training_expectation, layer(y_small), "E_r[W ỹ] (exact, 2¹⁰ masks) vs nn.Dropout + nn.Linear in eval")


@check("srivastava2014dropout/gaussian-variance", tex=r"\sigma^2 = \frac{1 - p}{p}", evaluates=True)
def check_gaussian_noise_variance_matches_inverted_mask():
    """For p ∈ {0.2, 0.5, 0.8, 0.9}: σ² from the note equals the exact variance of the inverted mask r/p,
    and the empirical variance of F.dropout(1, p_drop = 1 − p) over 2·10⁵ units (5 standard errors);
    N(1, σ²) noise has the mask's mean 1."""
    n = 200_000
    seed(8)
    for p in (0.2, 0.5, 0.8, 0.9):
        # σ² = (1 − p)/p
        sigma2 = evaluate("srivastava2014dropout/gaussian-variance", p=p)
        values = torch.tensor([0.0, 1 / p], dtype=f64)          # r/p takes 0 w.p. 1 − p and 1/p w.p. p
        probabilities = torch.tensor([1 - p, p], dtype=f64)
        mean = (probabilities * values).sum()
        close(sigma2, (probabilities * (values - mean) ** 2).sum(), f"σ² vs exact Var[r/p], p = {p}")
        mask = F.dropout(torch.ones(n, dtype=f64, device=device()), p=1 - p).cpu()
        # the sample variance is f(1 − f)/p² for kept fraction f, and |f(1 − f) − p(1 − p)| ≤ |f − p|
        bound = 5 * (p * (1 - p) / n) ** 0.5 / p ** 2
        close(mask.var(correction=0), sigma2, f"σ² vs Var of F.dropout's mask, p = {p}", rtol=0, atol=bound)
        noise = 1 + sigma2.sqrt() * torch.randn(n, dtype=f64)
        close(noise.mean(), mean, f"E[N(1, σ²)] = E[r/p] = 1, p = {p}", rtol=0, atol=5 * float(sigma2.sqrt()) / n ** 0.5)


@check("srivastava2014dropout/linear-regression-marginal",
       tex=r"\mathbb{E}_{R}\left[\lVert y - (R \odot X) w \rVert^2\right] = \lVert y - p X w \rVert^2 + p(1-p) \lVert \Gamma w \rVert^2, \qquad \Gamma = \left(\operatorname{diag}(X^\top X)\right)^{1/2}",
       evaluates=True)
def check_linear_regression_marginalisation():
    """X: (3, 4), y: (3,), w: (4,), p = 0.6: the exact expectation over all 2¹² masks R equals the
    ridge-like closed form; so does a Monte Carlo mean for X: (50, 8) (5 standard errors)."""
    g = seed(9)
    p = 0.6

    def closed_form(X, y, w):
        """Both clauses from the note's LaTeX. texeval reads diag(XᵀX) as the diagonal's entries (a vector), so
        the diagonal matrix Γ is formed from them here."""
        # Γ = (diag(XᵀX))^{1/2}
        Gamma = torch.diag(evaluate_with("srivastava2014dropout/linear-regression-marginal", {"X": X}, clause=1))
        # ‖y − pXw‖² + p(1 − p)‖Γw‖²
        return evaluate_with("srivastava2014dropout/linear-regression-marginal",
                             {"y": y, "X": X, "w": w, "p": p, "Gamma": Gamma}, clause=0)

    X, y, w = randn(g, 3, 4), randn(g, 3), randn(g, 4)
    R = all_masks(12).reshape(-1, 3, 4)                               # (4096, 3, 4)
    losses = ((y - (R * X) @ w) ** 2).sum(-1)                          # ‖y − (R ⊙ X)w‖² per mask
    exact = (mask_probabilities(R.flatten(1), p) * losses).sum()
    close(closed_form(X, y, w), exact, "closed form vs exact E_R over 4096 masks")

    X, y, w = randn(g, 50, 8), randn(g, 50), randn(g, 8)
    R = torch.bernoulli(torch.full((5_000, 50, 8), p, dtype=f64), generator=g).to(device())
    losses = ((y - (R * X) @ w) ** 2).sum(-1)
    close(closed_form(X, y, w), losses.mean(), "closed form vs Monte Carlo E_R",
          rtol=0, atol=5 * float(losses.std()) / losses.numel() ** 0.5)


@check("srivastava2014dropout/misstatement-test-scale", tex=r"y' = p_{drop} \cdot y")
def check_misstated_test_scale_differs():
    """p_drop = 0.2: the expected output of (non-inverted) dropout is (1 − p_drop) y, measured with
    F.dropout's mask over 10⁵ draws; the misstated p_drop · y differs from it."""
    p_drop, n = 0.2, 100_000
    g = seed(10)
    y = randn(g, 8)
    seed(11)
    r = (F.dropout(torch.ones(n, 8, dtype=f64, device=device()), p=p_drop) != 0).double()   # kept w.p. 1 − p_drop
    training_mean = (r * y).mean(0)
    right = (1 - p_drop) * y
    close(training_mean, right, "E[r y] = (1 − p_drop) y", rtol=0, atol=5 * float(y.abs().max()) * (0.16 / n) ** 0.5)
    # y' = p_drop · y (the misstatement)
    wrong = evaluate("srivastava2014dropout/misstatement-test-scale", p_drop=p_drop, y=y)
    differs(wrong, right, "p_drop · y vs (1 − p_drop) y")


if __name__ == "__main__":
    run_checks(__name__)
