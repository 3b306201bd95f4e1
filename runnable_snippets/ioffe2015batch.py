"""Checks for notes/ioffe2015batch.md: Algorithm 1 (batch statistics, normalisation, scale and shift), identity
recovery, placement before the nonlinearity, the backward pass, Algorithm 2's population statistics and the
inference transform, and the dropout/BN variance shift.

References: F.batch_norm and nn.BatchNorm1d/2d in training mode (biased variance), nn.BatchNorm1d with
momentum=None (cumulative average of batch means and of UNBIASED batch variances), autograd, and Monte Carlo
through F.dropout.
"""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, holds_with, note_tex, run_checks, seed

f64 = torch.float64
epsilon = 1e-5


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def batch_norm(x, gamma, beta, eps=epsilon):
    """Algorithm 1 for x: (m, D), each column one activation dimension; returns (y, x̂, μ_B, σ²_B)."""
    m = x.shape[0]
    # μ_B = (1/m) Σ_i x_i            (x_i: row i of x, counted from 1)
    mu_B = evaluate("ioffe2015batch/batch-mean", x=x, m=m)
    # σ²_B = (1/m) Σ_i (x_i − μ_B)²
    sigma2_B = evaluate("ioffe2015batch/batch-variance", x=x, m=m, mu_B=mu_B)
    # x̂_i = (x_i − μ_B) / √(σ²_B + ε), for every row at once
    x_hat = evaluate("ioffe2015batch/normalize", x_i=x, mu_B=mu_B, sigma_B=sigma2_B.sqrt(), epsilon=eps)
    # y_i = γ x̂_i + β (the check compares this side with BN_{γ,β}(x_i) as torch computes it, via holds())
    y = gamma * x_hat + beta
    return y, x_hat, mu_B, sigma2_B


def batch_norm_module(D, **kwargs):
    return nn.BatchNorm1d(D, dtype=f64, device=device(), **kwargs)


@check("ioffe2015batch/batch-mean", tex=r"\mu_{\mathcal{B}} = \frac{1}{m} \sum_{i=1}^{m} x_i", evaluates=True)
@check("ioffe2015batch/batch-variance", tex=r"\sigma_{\mathcal{B}}^2 = \frac{1}{m} \sum_{i=1}^{m} (x_i - \mu_{\mathcal{B}})^2",
       evaluates=True)
@check("ioffe2015batch/normalize", tex=r"\hat x_i = \frac{x_i - \mu_{\mathcal{B}}}{\sqrt{\sigma_{\mathcal{B}}^2 + \epsilon}}",
       evaluates=True)
@check("ioffe2015batch/scale-shift", tex=r"y_i = \gamma \hat x_i + \beta \equiv \mathrm{BN}_{\gamma,\beta}(x_i)", evaluates=True)
def check_algorithm_1_matches_torch_batch_norm():
    """x: (16, 6), m = 16: y against F.batch_norm and nn.BatchNorm1d in training mode; μ_B and σ²_B against
    torch.var_mean(correction=0) and against the module's running stats after one step with momentum 1
    (which stores the unbiased m/(m−1) σ²_B); for a conv layer, statistics over m·p·q values (BatchNorm2d)."""
    g = seed(0)
    m, D = 16, 6
    x = 3 + 2 * randn(g, m, D)
    gamma, beta = 1 + 0.3 * randn(g, D), randn(g, D)
    y, x_hat, mu_B, sigma2_B = batch_norm(x, gamma, beta)
    close(y, F.batch_norm(x, None, None, gamma, beta, training=True, eps=epsilon), "y vs F.batch_norm")
    # γ x̂_i + β ≡ BN_{γ,β}(x_i), both sides from the note's LaTeX, BN bound to torch's F.batch_norm
    holds_with("ioffe2015batch/scale-shift",
               {"y_i": y, "gamma": gamma, "xhat_i": x_hat, "beta": beta, "x_i": x,
                "BN_gamma,beta": lambda x: F.batch_norm(x, None, None, gamma, beta, training=True, eps=epsilon)},
               sides=(1, 2), elementwise=True)
    var, mean = torch.var_mean(x, dim=0, correction=0)
    close(mu_B, mean, "μ_B")
    close(sigma2_B, var, "σ²_B (biased)")
    module = batch_norm_module(D, momentum=1.0)
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
        reference = module(x)
    close(y, reference, "y vs nn.BatchNorm1d (training mode)")
    close(module.running_mean, mu_B, "running_mean after one step = μ_B")
    close(module.running_var, m / (m - 1) * sigma2_B, "running_var after one step = m/(m−1) σ²_B")
    # convolution: one (γ, β) per feature map, statistics over the batch and all p×q positions
    images = randn(g, 4, 3, 5, 7)                                   # m = 4, 3 maps, p×q = 5×7
    columns = images.permute(0, 2, 3, 1).reshape(-1, 3)             # (m·p·q, 3)
    y_conv = batch_norm(columns, gamma[:3], beta[:3])[0].reshape(4, 5, 7, 3).permute(0, 3, 1, 2)
    close(y_conv, F.batch_norm(images, None, None, gamma[:3], beta[:3], training=True, eps=epsilon), "BatchNorm2d, m' = m·p·q")


@check("ioffe2015batch/identity-recovery",
       tex=r"\gamma^{(k)} = \sqrt{\operatorname{Var}\left[x^{(k)}\right]}, \qquad \beta^{(k)} = \mathbb{E}\left[x^{(k)}\right]",
       evaluates=True)
def check_identity_recovery():
    """x: (32, 5), the batch taken as the whole population. With ε → 0 (1e-12: torch refuses 0 in training),
    γ = √Var[x], β = E[x] (from the note's LaTeX, Var the population variance) make F.batch_norm and
    nn.BatchNorm1d the identity; with ε = 1e-5, γ = √(Var[x] + ε) does."""
    g = seed(1)
    x = 5 * randn(g, 32, 5) - 2
    var, mean = torch.var_mean(x, dim=0, correction=0)
    # γ^(k) = √Var[x^(k)],  β^(k) = E[x^(k)], every dimension k at once
    gamma_k = evaluate_with("ioffe2015batch/identity-recovery", {}, samples={"x^(k)": x}, clause=0)
    beta_k = evaluate_with("ioffe2015batch/identity-recovery", {}, samples={"x^(k)": x})
    close(F.batch_norm(x, None, None, gamma_k, beta_k, training=True, eps=1e-12), x, "BN_{γ,β}(x) = x, γ and β from the note")
    for eps, gamma in ((1e-12, torch.sqrt(var)), (epsilon, torch.sqrt(var + epsilon))):
        module = batch_norm_module(5, eps=eps)
        with torch.no_grad():
            # γ^(k) = √Var[x^(k)], β^(k) = E[x^(k)]
            module.weight.copy_(gamma)
            module.bias.copy_(mean)
            close(module(x), x, f"BN(x) = x with ε = {eps:g}")


@check("ioffe2015batch/bn-placement", tex=r"z = g\left(\mathrm{BN}(W u)\right)", evaluates=True)
def check_placement_before_the_nonlinearity():
    """u: (20, 8), W: (6, 8), g = sigmoid: g(BN(Wu)) against nn.Sequential(Linear(bias=False), BatchNorm1d,
    Sigmoid); a bias b before BN changes nothing and gets zero gradient (the mean subtraction cancels it)."""
    g = seed(2)
    u = randn(g, 20, 8)
    seed(3)
    layer = nn.Sequential(nn.Linear(8, 6, bias=False), nn.BatchNorm1d(6), nn.Sigmoid()).to(device(), f64)
    W = layer[0].weight.detach()
    gamma, beta = 1 + 0.2 * randn(g, 6), randn(g, 6)
    with torch.no_grad():
        layer[1].weight.copy_(gamma)
        layer[1].bias.copy_(beta)
        reference = layer(u)
    # z = g(BN(Wu)), from the note's LaTeX: the columns of u are the 20 samples, BN is Algorithm 1 over them
    z = evaluate("ioffe2015batch/bn-placement", g=torch.sigmoid, W=W, u=u.T,
                 BN=lambda a: batch_norm(a.T, gamma, beta)[0].T).T
    close(z, reference, "g(BN(Wu)) vs Linear → BatchNorm1d → Sigmoid")
    b = randn(g, 6).requires_grad_(True)
    z_with_bias = torch.sigmoid(batch_norm(u @ W.T + b, gamma, beta)[0])
    (db,) = torch.autograd.grad((z_with_bias * randn(g, 20, 6)).sum(), b)
    close(z_with_bias.detach(), z, "g(BN(Wu + b)) = g(BN(Wu))")
    close(db, torch.zeros_like(db), "∂ℓ/∂b = 0", atol=1e-12)


@check("ioffe2015batch/backprop", tex=r"""\begin{aligned}
\frac{\partial \ell}{\partial \hat x_i} &= \frac{\partial \ell}{\partial y_i} \cdot \gamma \\
\frac{\partial \ell}{\partial \sigma_{\mathcal{B}}^2} &= \sum_{i=1}^{m} \frac{\partial \ell}{\partial \hat x_i} \cdot (x_i - \mu_{\mathcal{B}}) \cdot \left(-\tfrac{1}{2}\right) \left(\sigma_{\mathcal{B}}^2 + \epsilon\right)^{-3/2} \\
\frac{\partial \ell}{\partial \mu_{\mathcal{B}}} &= \left(\sum_{i=1}^{m} \frac{\partial \ell}{\partial \hat x_i} \cdot \frac{-1}{\sqrt{\sigma_{\mathcal{B}}^2 + \epsilon}}\right) + \frac{\partial \ell}{\partial \sigma_{\mathcal{B}}^2} \cdot \frac{\sum_{i=1}^{m} -2 (x_i - \mu_{\mathcal{B}})}{m} \\
\frac{\partial \ell}{\partial x_i} &= \frac{\partial \ell}{\partial \hat x_i} \cdot \frac{1}{\sqrt{\sigma_{\mathcal{B}}^2 + \epsilon}} + \frac{\partial \ell}{\partial \sigma_{\mathcal{B}}^2} \cdot \frac{2 (x_i - \mu_{\mathcal{B}})}{m} + \frac{\partial \ell}{\partial \mu_{\mathcal{B}}} \cdot \frac{1}{m} \\
\frac{\partial \ell}{\partial \gamma} &= \sum_{i=1}^{m} \frac{\partial \ell}{\partial y_i} \cdot \hat x_i, \qquad \frac{\partial \ell}{\partial \beta} = \sum_{i=1}^{m} \frac{\partial \ell}{\partial y_i}
\end{aligned}""", evaluates=True)
def check_backward_pass_against_autograd():
    """x: (12, 4), ℓ = Σ G ⊙ y for a fixed random G = ∂ℓ/∂y: the chain rule as written against autograd
    through F.batch_norm for ∂ℓ/∂x, ∂ℓ/∂γ, ∂ℓ/∂β; the second term of ∂ℓ/∂μ_B is zero. Then the note's six
    rows, evaluated from its LaTeX: every left side (autograd of ℓ through the forward graph with respect to
    x̂_i, σ²_B, μ_B, x_i, γ, β) equals its right side (the chain rule on those gradients), and the right sides of
    ∂ℓ/∂x_i, ∂ℓ/∂γ and ∂ℓ/∂β equal F.batch_norm's autograd gradients."""
    g = seed(4)
    m, D = 12, 4
    x, gamma, beta, dl_dy = randn(g, m, D), 1 + 0.3 * randn(g, D), randn(g, D), randn(g, m, D)
    leaves = [t.clone().requires_grad_(True) for t in (x, gamma, beta)]
    y = F.batch_norm(leaves[0], None, None, leaves[1], leaves[2], training=True, eps=epsilon)
    auto_dx, auto_dgamma, auto_dbeta = torch.autograd.grad((dl_dy * y).sum(), leaves)

    _, x_hat, mu_B, sigma2_B = batch_norm(x, gamma, beta)
    # ∂ℓ/∂x̂_i = ∂ℓ/∂y_i · γ
    dl_dxhat = dl_dy * gamma
    # ∂ℓ/∂σ²_B = Σ_i ∂ℓ/∂x̂_i (x_i − μ_B) (−½)(σ²_B + ε)^{−3/2}
    dl_dsigma2 = (dl_dxhat * (x - mu_B) * -0.5 * (sigma2_B + epsilon) ** -1.5).sum(0)
    # ∂ℓ/∂μ_B = (Σ_i ∂ℓ/∂x̂_i · −1/√(σ²_B + ε)) + ∂ℓ/∂σ²_B · Σ_i −2(x_i − μ_B) / m
    second_term = dl_dsigma2 * (-2 * (x - mu_B)).sum(0) / m
    dl_dmu = (dl_dxhat * -1 / torch.sqrt(sigma2_B + epsilon)).sum(0) + second_term
    # ∂ℓ/∂x_i = ∂ℓ/∂x̂_i / √(σ²_B + ε) + ∂ℓ/∂σ²_B · 2(x_i − μ_B)/m + ∂ℓ/∂μ_B / m
    dl_dx = dl_dxhat / torch.sqrt(sigma2_B + epsilon) + dl_dsigma2 * 2 * (x - mu_B) / m + dl_dmu / m
    # ∂ℓ/∂γ = Σ_i ∂ℓ/∂y_i x̂_i,  ∂ℓ/∂β = Σ_i ∂ℓ/∂y_i
    dl_dgamma, dl_dbeta = (dl_dy * x_hat).sum(0), dl_dy.sum(0)
    close(dl_dx, auto_dx, "∂ℓ/∂x_i")
    close(dl_dgamma, auto_dgamma, "∂ℓ/∂γ")
    close(dl_dbeta, auto_dbeta, "∂ℓ/∂β")
    close(second_term, torch.zeros_like(second_term), "second term of ∂ℓ/∂μ_B", atol=1e-12)

    x_l, gamma_l, beta_l = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
    mu_B = x_l.mean(0)
    sigma_B = ((x_l - mu_B) ** 2).mean(0).sqrt()             # the note's σ²_B is the square of this σ_B
    x_hat = (x_l - mu_B) / torch.sqrt(sigma_B ** 2 + epsilon)
    y = gamma_l * x_hat + beta_l
    graph = {"ell": (dl_dy * y).sum(), "x": x_l, "xhat": x_hat, "y": y, "mu_B": mu_B, "sigma_B": sigma_B,
             "gamma": gamma_l, "beta": beta_l, "epsilon": epsilon, "m": m}
    # every row is a scalar formula per activation dimension: on (D,) columns, side-by-side products are elementwise
    rows = {"∂ℓ/∂x̂_i": 0, "∂ℓ/∂σ²_B": 1, "∂ℓ/∂μ_B": 2, "∂ℓ/∂x_i": 3, "∂ℓ/∂γ": 4, "∂ℓ/∂β": 5}
    # each row's left side ∂ℓ/∂(·) by autograd through this graph = its right side, the chain rule as the note writes it
    for row in (1, 2, 4, 5):
        holds_with("ioffe2015batch/backprop", graph, clause=row, elementwise=True)
    dl_dx_note = []
    for i in range(1, m + 1):
        holds_with("ioffe2015batch/backprop", {**graph, "i": i}, clause=rows["∂ℓ/∂x̂_i"], elementwise=True)
        holds_with("ioffe2015batch/backprop", {**graph, "i": i}, clause=rows["∂ℓ/∂x_i"], elementwise=True)
        # ∂ℓ/∂x_i = ∂ℓ/∂x̂_i · 1/√(σ²_B + ε) + ∂ℓ/∂σ²_B · 2(x_i − μ_B)/m + ∂ℓ/∂μ_B · 1/m
        dl_dx_note.append(evaluate_with("ioffe2015batch/backprop", {**graph, "i": i}, clause=rows["∂ℓ/∂x_i"], elementwise=True))
    close(torch.stack(dl_dx_note), auto_dx, "the note's ∂ℓ/∂x_i against autograd through F.batch_norm")
    # ∂ℓ/∂γ = Σ_i ∂ℓ/∂y_i · x̂_i,  ∂ℓ/∂β = Σ_i ∂ℓ/∂y_i
    close(evaluate_with("ioffe2015batch/backprop", graph, clause=rows["∂ℓ/∂γ"], elementwise=True), auto_dgamma,
          "the note's ∂ℓ/∂γ against autograd through F.batch_norm")
    close(evaluate_with("ioffe2015batch/backprop", graph, clause=rows["∂ℓ/∂β"], elementwise=True), auto_dbeta,
          "the note's ∂ℓ/∂β against autograd through F.batch_norm")


def training_batches(g, count=40, m=8, D=3):
    """count mini-batches of m examples, dimensions with different means and scales: (count, m, D)."""
    return torch.tensor([1.0, -2.0, 0.5], dtype=f64, device=device()) + \
        torch.tensor([0.5, 2.0, 1.0], dtype=f64, device=device()) * randn(g, count, m, D)


def every_batch(population, m):
    """All N^m ordered mini-batches of m examples drawn with replacement from population: (N, D) -> (N^m, m, D).
    Over them E_B[μ_B] is the population mean and E_B[σ²_B] exactly (m−1)/m times the population variance."""
    index = torch.tensor(list(itertools.product(range(population.shape[0]), repeat=m)), device=population.device)
    return population[index]


@check("ioffe2015batch/population-mean", tex=r"\mathbb{E}[x] = \mathbb{E}_{\mathcal{B}}\left[\mu_{\mathcal{B}}\right]",
       evaluates=True)
@check("ioffe2015batch/population-variance",
       tex=r"\operatorname{Var}[x] = \frac{m}{m-1} \cdot \mathbb{E}_{\mathcal{B}}\left[\sigma_{\mathcal{B}}^2\right]",
       evaluates=True)
def check_population_statistics_exactly():
    """A population of N = 5 examples (D = 3) and all 5³ = 125 mini-batches of m = 3 drawn with replacement:
    both sides of each equation from the note's LaTeX (E[x], Var[x] over the population; E_B over the batches
    B = 1..125, with μ_B, σ_B from torch.var_mean), and the right sides against nn.BatchNorm1d(momentum=None)
    fed every batch, whose running_mean and running_var (unbiased per batch) are those averages."""
    g = seed(10)
    population = training_batches(g, count=1, m=5)[0]
    batches = every_batch(population, 3)
    m = batches.shape[1]
    sigma2_B, mu_B = torch.var_mean(batches, dim=1, correction=0)
    values = {"B": torch.arange(1, len(batches) + 1), "mu": mu_B, "sigma": sigma2_B.sqrt(), "m": m}
    module = batch_norm_module(3, momentum=None)
    with torch.no_grad():
        for batch in batches:
            module(batch)
    # E[x] = E_B[μ_B]
    holds_with("ioffe2015batch/population-mean", values, samples={"x": population})
    close(evaluate_with("ioffe2015batch/population-mean", values), module.running_mean, "E_B[μ_B] vs running_mean")
    # Var[x] = m/(m−1) · E_B[σ²_B]
    holds_with("ioffe2015batch/population-variance", values, samples={"x": population})
    close(evaluate_with("ioffe2015batch/population-variance", values), module.running_var, "m/(m−1) E_B[σ²_B] vs running_var")


@check("ioffe2015batch/population-mean", tex=r"\mathbb{E}[x] = \mathbb{E}_{\mathcal{B}}\left[\mu_{\mathcal{B}}\right]")
@check("ioffe2015batch/population-variance",
       tex=r"\operatorname{Var}[x] = \frac{m}{m-1} \cdot \mathbb{E}_{\mathcal{B}}\left[\sigma_{\mathcal{B}}^2\right]")
def check_population_statistics():
    """40 batches of m = 8 through nn.BatchNorm1d(momentum=None) (a cumulative average): running_mean is
    the average μ_B and running_var is m/(m−1) times the average σ²_B. And m/(m−1) makes the estimate
    unbiased: over 2·10⁴ batches of m = 4 from N(0, 4), m/(m−1) E_B[σ²_B] ≈ 4 (5 standard errors)."""
    g = seed(5)
    batches = training_batches(g)
    m = batches.shape[1]
    module = batch_norm_module(3, momentum=None)
    stats = [batch_norm(batch, 1.0, 0.0)[2:] for batch in batches]
    with torch.no_grad():
        for batch in batches:
            module(batch)
    # E[x] = E_B[μ_B]
    population_mean = torch.stack([mu for mu, _ in stats]).mean(0)
    # Var[x] = m/(m−1) · E_B[σ²_B]
    population_var = m / (m - 1) * torch.stack([s2 for _, s2 in stats]).mean(0)
    close(module.running_mean, population_mean, "running_mean (momentum=None) vs E_B[μ_B]")
    close(module.running_var, population_var, "running_var (momentum=None) vs m/(m−1) E_B[σ²_B]")

    m, count, true_var = 4, 20_000, 4.0
    samples = 2.0 * randn(g, count, m)
    sigma2_B = samples.var(dim=1, correction=0)
    estimate = m / (m - 1) * sigma2_B
    standard_error = float(estimate.std()) / count ** 0.5
    close(estimate.mean(), true_var, "m/(m−1) E_B[σ²_B] is unbiased", rtol=0, atol=5 * standard_error)
    differs(sigma2_B.mean(), true_var, "E_B[σ²_B] without the factor is biased", at_least=0.5)


@check("ioffe2015batch/inference",
       tex=r"y = \frac{\gamma}{\sqrt{\operatorname{Var}[x] + \epsilon}} \cdot x + \left(\beta - \frac{\gamma\, \mathbb{E}[x]}{\sqrt{\operatorname{Var}[x] + \epsilon}}\right)",
       evaluates=True)
def check_inference_from_the_population():
    """The note's LaTeX with E[x], Var[x] over a population of N = 5 examples (population variance) against
    nn.BatchNorm1d in eval mode after it saw all 5³ batches of m = 3 drawn with replacement (momentum=None:
    its running stats are then exactly the population mean and variance); x: (10, 3) new inputs."""
    g = seed(11)
    population = training_batches(g, count=1, m=5)[0]
    module = batch_norm_module(3, momentum=None)
    gamma, beta = 1 + 0.3 * randn(g, 3), randn(g, 3)
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
        for batch in every_batch(population, 3):
            module(batch)
    module.eval()
    x = randn(g, 10, 3)
    # y = γ/√(Var[x] + ε) · x + (β − γ E[x]/√(Var[x] + ε)), E and Var over the population
    y = evaluate_with("ioffe2015batch/inference", {"gamma": gamma, "beta": beta, "x": x, "epsilon": epsilon},
                      samples={"x": population}, elementwise=True)
    with torch.no_grad():
        close(y, module(x), "inference y vs nn.BatchNorm1d.eval()")


@check("ioffe2015batch/inference",
       tex=r"y = \frac{\gamma}{\sqrt{\operatorname{Var}[x] + \epsilon}} \cdot x + \left(\beta - \frac{\gamma\, \mathbb{E}[x]}{\sqrt{\operatorname{Var}[x] + \epsilon}}\right)")
def check_inference_transform():
    """The affine form with E[x], Var[x] from Algorithm 2 against nn.BatchNorm1d in eval mode holding those
    running stats; equal to normalize/scale-shift with the population statistics; and foldable into the
    preceding nn.Linear (one fixed linear layer gives the same output)."""
    g = seed(6)
    batches = training_batches(g)
    module = batch_norm_module(3, momentum=None)
    gamma, beta = 1 + 0.3 * randn(g, 3), randn(g, 3)
    with torch.no_grad():
        module.weight.copy_(gamma)
        module.bias.copy_(beta)
        for batch in batches:
            module(batch)
    E_x, Var_x = module.running_mean.clone(), module.running_var.clone()
    x = randn(g, 10, 3)
    # y = γ/√(Var[x] + ε) · x + (β − γ E[x]/√(Var[x] + ε))
    y = gamma / torch.sqrt(Var_x + epsilon) * x + (beta - gamma * E_x / torch.sqrt(Var_x + epsilon))
    module.eval()
    with torch.no_grad():
        close(y, module(x), "inference y vs nn.BatchNorm1d.eval()")
    close(y, gamma * (x - E_x) / torch.sqrt(Var_x + epsilon) + beta, "normalize + scale-shift with population stats")
    seed(7)
    linear = nn.Linear(5, 3).to(device(), f64)
    scale = gamma / torch.sqrt(Var_x + epsilon)
    fused = nn.Linear(5, 3).to(device(), f64)
    u = randn(g, 10, 5)
    with torch.no_grad():
        fused.weight.copy_(scale[:, None] * linear.weight)
        fused.bias.copy_(scale * linear.bias + beta - scale * E_x)
        close(fused(u), module(linear(u)), "BN folded into the preceding linear layer")


@check("ioffe2015batch/variance-shift",
       tex=r"\operatorname{Var}_{train}[X] = \frac{1}{p}\left(c^2 + v\right) - c^2, \qquad \operatorname{Var}_{test}[X] = v",
       evaluates=True)
def check_dropout_variance_shift():
    """x ~ N(c, v) with c = 1.5, v = 0.5, 2·10⁵ draws, p = 0.8 retained (F.dropout with p_drop = 0.2). Both
    clauses evaluated from the note against the empirical variance of X (5 standard errors); they differ;
    and a BatchNorm1d after the dropout accumulates Var_train, not Var_test."""
    c, v, p, n = 1.5, 0.5, 0.8, 200_000
    g = seed(8)
    x = c + v ** 0.5 * randn(g, n)
    seed(9)
    X_train = F.dropout(x, p=1 - p, training=True)                 # X = a x / p, a ~ Bernoulli(p)
    X_test = F.dropout(x, p=1 - p, training=False)                 # X = x
    # Var_train[X] = (c² + v)/p − c²
    var_train = evaluate_with("ioffe2015batch/variance-shift", {"c": c, "v": v, "p": p}, clause=0)
    # Var_test[X] = v
    var_test = evaluate("ioffe2015batch/variance-shift", v=v)
    for name, X, expected in (("train", X_train, var_train), ("test", X_test, var_test)):
        fourth = ((X - X.mean()) ** 4).mean()
        standard_error = float(((fourth - X.var() ** 2) / n).sqrt())
        close(X.var(), expected, f"Var_{name}[X]", rtol=0, atol=5 * standard_error)
    differs(var_train, var_test, "Var_train vs Var_test")
    module = batch_norm_module(1, momentum=None)
    with torch.no_grad():
        for chunk in X_train.reshape(100, -1, 1):
            module(chunk)
    close(module.running_var[0], var_train, "BN running_var after dropout ≈ Var_train", rtol=0.02)


if __name__ == "__main__":
    run_checks(__name__)
