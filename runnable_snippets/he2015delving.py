"""Checks for notes/he2015delving.md: PReLU (against nn.PReLU, F.relu, F.leaky_relu and autograd) and the
He initialisation (against nn.init.kaiming_normal_, Monte Carlo estimates of the variance argument, and a
30-layer ReLU stack).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, figure, holds_with, run_checks, seed

f64 = torch.float64


@check("he2015delving/prelu-cases",
       tex=r"f(y_i) = \begin{cases} y_i, & \text{if } y_i > 0 \\ a_i y_i, & \text{if } y_i \le 0 \end{cases}", evaluates=True)
@check("he2015delving/prelu", tex=r"f(y_i) = \max(0, y_i) + a_i \min(0, y_i)", evaluates=True)
def check_prelu_matches_nn_prelu():
    """y: (4, 6, 5, 5) feature maps, channel-wise slopes a: (6,) (init 0.25, then random) against
    nn.PReLU(num_parameters=6); a = 0 is F.relu and a = 0.01 is F.leaky_relu (channel-shared)."""
    g = seed(0)
    C = 6
    y = torch.randn(4, C, 5, 5, generator=g, dtype=f64).to(device())
    prelu = nn.PReLU(num_parameters=C, init=0.25).to(device(), f64)
    close(prelu.weight, torch.full((C,), 0.25, dtype=f64, device=device()), "nn.PReLU initialises a_i = 0.25")
    with torch.no_grad():
        prelu.weight.copy_(torch.rand(C, generator=g, dtype=f64))
    a = prelu.weight.detach().view(1, C, 1, 1)
    reference = prelu(y).detach()
    # f(y_i) = y_i if y_i > 0, a_i y_i if y_i ≤ 0, from the note's LaTeX
    close(evaluate_with("he2015delving/prelu-cases", {"y_i": y, "a_i": a}, elementwise=True), reference,
          "piecewise PReLU vs nn.PReLU")
    # f(y_i) = max(0, y_i) + a_i min(0, y_i), from the note's LaTeX
    close(evaluate_with("he2015delving/prelu", {"y_i": y, "a_i": a}, elementwise=True), reference, "max/min PReLU vs nn.PReLU")
    close(evaluate("he2015delving/prelu", y_i=y, a_i=0.0), F.relu(y), "a_i = 0 gives the ReLU")
    close(evaluate("he2015delving/prelu", y_i=y, a_i=0.01), F.leaky_relu(y, 0.01), "a_i = 0.01 gives the Leaky ReLU")
    close(F.prelu(y, torch.tensor([0.01], dtype=f64, device=device())), F.leaky_relu(y, 0.01), "F.prelu, shared a = 0.01")


@check("he2015delving/prelu-gradient", tex=r"\frac{\partial f(y_i)}{\partial a_i} = \min(0, y_i)", evaluates=True)
def check_prelu_slope_gradient():
    """E = Σ G ⊙ f(y) with random upstream gradients G: (4, 6, 5, 5); autograd's ∂E/∂a_i (nn.PReLU's
    weight) equals Σ over the channel's positions of G · min(0, y), channel-wise and channel-shared."""
    g = seed(1)
    C = 6
    y = torch.randn(4, C, 5, 5, generator=g, dtype=f64).to(device())
    G = torch.randn(4, C, 5, 5, generator=g, dtype=f64).to(device())
    df_da = evaluate("he2015delving/prelu-gradient", y_i=y).to(y)          # ∂f(y_i)/∂a_i = min(0, y_i)
    for channels in (C, 1):
        prelu = nn.PReLU(num_parameters=channels, init=0.25).to(device(), f64)
        (G * prelu(y)).sum().backward()
        expected = (G * df_da).sum(dim=(0, 2, 3)) if channels == C else (G * df_da).sum().view(1)
        close(prelu.weight.grad, expected, f"∂E/∂a ({'channel-wise' if channels == C else 'channel-shared'})")


@check("he2015delving/forward-variance", tex=r"\mathrm{Var}[y_l] = n_l \mathrm{Var}[w_l] E[x_l^2]", evaluates=True)
@check("he2015delving/relu-second-moment", tex=r"E[x_l^2] = \frac{1}{2}\mathrm{Var}[y_{l-1}]", evaluates=True)
def check_variance_argument_exactly():
    """Exact, by enumeration: n_l = 2 weights from {±0.1, ±0.3} (mean 0) and inputs from {0, 0.5, 2} (mean ≠ 0),
    all 4·4·3·3 = 144 equally likely (w, x) give the population of y_l = Σ_k w_k x_k; and y_{l-1} uniform on
    {-3, -1, 0, 1, 3}, x_l = max(0, y_{l-1}). Var and E in the note's LaTeX are the population moments of the
    samples passed; torch.var of the enumerated y is the reference."""
    w_values, x_values = torch.tensor([-0.3, -0.1, 0.1, 0.3], dtype=f64), torch.tensor([0.0, 0.5, 2.0], dtype=f64)
    w1, w2, x1, x2 = torch.cartesian_prod(w_values, w_values, x_values, x_values).unbind(-1)
    y_l = w1 * x1 + w2 * x2
    samples = {"y_l": y_l, "w_l": w_values, "x_l": x_values}
    # Var[y_l] = n_l Var[w_l] E[x_l²]: both sides from the note's LaTeX, and its right side against torch.var
    holds_with("he2015delving/forward-variance", {"n_l": 2}, samples=samples)
    close(evaluate_with("he2015delving/forward-variance", {"n_l": 2}, samples=samples), y_l.var(unbiased=False),
          "n_l Var[w_l] E[x_l²] vs the variance of the 144 enumerated y_l")
    y_prev = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=f64)
    samples = {"x_l": y_prev.clamp_min(0), "y_l-1": y_prev}
    # E[x_l²] = ½ Var[y_{l-1}]
    holds_with("he2015delving/relu-second-moment", {}, samples=samples)
    close(evaluate_with("he2015delving/relu-second-moment", {}, samples=samples), (F.relu(y_prev) ** 2).mean(),
          "½ Var[y_{l-1}] vs the mean of ReLU(y)² over the symmetric population")


@check("he2015delving/forward-variance", tex=r"\mathrm{Var}[y_l] = n_l \mathrm{Var}[w_l] E[x_l^2]", evaluates=True)
@check("he2015delving/relu-second-moment", tex=r"E[x_l^2] = \frac{1}{2}\mathrm{Var}[y_{l-1}]", evaluates=True)
def check_variance_argument_by_monte_carlo():
    """Monte Carlo with 200,000 draws. Forward variance: x_l = max(0, y_{l-1}), y_{l-1} ~ N(0.3, 1) (so
    E[x_l] ≠ 0), n_l = 16 weights ~ N(0, 0.2²). ReLU half: y ~ N(0, 2.5²) and a symmetric Laplace.
    Bounds are about 6 standard errors."""
    g = seed(2)
    M, n_l, sigma_w = 200_000, 16, 0.2
    y_prev = 0.3 + torch.randn(M, n_l, generator=g, dtype=f64)
    x_l = y_prev.clamp_min(0)
    w_l = sigma_w * torch.randn(M, n_l, generator=g, dtype=f64)
    y_l = (w_l * x_l).sum(-1)
    # Var[y_l] = n_l Var[w_l] E[x_l²], from the note's LaTeX over the drawn w and x
    predicted = evaluate_with("he2015delving/forward-variance", {"n_l": n_l},
                              samples={"w_l": w_l.flatten(), "x_l": x_l.flatten()})
    close(y_l.var(), predicted, "Var[y_l] vs n_l Var[w_l] E[x_l²]", rtol=0.02, atol=0)
    differs(n_l * sigma_w ** 2 * x_l.var(), y_l.var(), "with Var[x_l] in place of E[x_l²] (ReLU outputs have mean ≠ 0)",
            at_least=0.05)
    # E[x_l²] = ½ Var[y_{l-1}] for any y_{l-1} symmetric around zero
    for name, y in (("Gaussian", 2.5 * torch.randn(10 ** 6, generator=g, dtype=f64)),
                    ("Laplace", torch.distributions.Laplace(0.0, 1.5).sample((10 ** 6,)).to(f64))):
        half_variance = evaluate_with("he2015delving/relu-second-moment", {}, samples={"y_l-1": y})
        close((y.clamp_min(0) ** 2).mean(), half_variance, f"E[max(0, y)²] = ½ Var[y], {name}", rtol=0.02, atol=0)


@check("he2015delving/he-std", tex=r"\mathrm{std}(w_l) = \sqrt{2 / n_l}", evaluates=True)
@check("he2015delving/prelu-std", tex=r"\mathrm{std}(w_l) = \sqrt{\frac{2}{(1 + a^2)\, n_l}}", evaluates=True)
def check_std_against_kaiming_normal():
    """Empirical std of nn.init.kaiming_normal_ on a (1024, 1024) linear weight (fan-in n_l = 1024) and on
    a (256, 128, 3, 3) conv weight (fan-in k²c = 1152, fan-out k²d = 2304), and with a = 0.25 for PReLU.
    Relative standard error of a std estimate from N draws is 1/√(2N): at most 0.13% here; bounds 0.5% and 1%."""
    g = seed(3)
    w = torch.empty(1024, 1024, dtype=f64)
    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=g)
    close(w.std(), evaluate("he2015delving/he-std", n_l=1024), "linear, fan-in 1024", rtol=0.005, atol=0)
    conv = torch.empty(256, 128, 3, 3, dtype=f64)
    nn.init.kaiming_normal_(conv, mode="fan_in", nonlinearity="relu", generator=g)
    close(conv.std(), evaluate("he2015delving/he-std", n_l=3 * 3 * 128), "conv, n_l = k²c", rtol=0.01, atol=0)
    nn.init.kaiming_normal_(conv, mode="fan_out", nonlinearity="relu", generator=g)
    close(conv.std(), evaluate("he2015delving/he-std", n_l=3 * 3 * 256), "conv, backward n̂_l = k²d", rtol=0.01, atol=0)
    nn.init.kaiming_normal_(w, a=0.25, mode="fan_in", nonlinearity="leaky_relu", generator=g)
    close(w.std(), evaluate("he2015delving/prelu-std", n_l=1024, a=0.25), "PReLU/leaky, a = 0.25", rtol=0.005, atol=0)
    differs(evaluate("he2015delving/he-std", n_l=1024), math.sqrt(1 / 1024), "He std vs Xavier's √(1/n)", at_least=0.01)


def deep_stack(std, slope, K=24, n=128, B=8, L=30, g=None):
    """K independent fully connected stacks of L layers, width n, batch B: y_l = x_l W_l with W_l ~ N(0, std²),
    x_{l+1} = PReLU(y_l; slope) (slope 0 is ReLU). Returns the second moments of y_l: (L, K)."""
    x = torch.randn(K, B, n, generator=g)
    moments = []
    for _ in range(L):
        y = x @ (std * torch.randn(K, n, n, generator=g))
        moments.append(y.pow(2).mean(dim=(1, 2)))
        x = torch.where(y > 0, y, slope * y)
    return torch.stack(moments)


@check("he2015delving/product", tex=r"\mathrm{Var}[y_L] = \mathrm{Var}[y_1] \prod_{l=2}^{L} \frac{1}{2} n_l \mathrm{Var}[w_l]",
       evaluates=True)
@check("he2015delving/he-condition", tex=r"\frac{1}{2} n_l \mathrm{Var}[w_l] = 1", evaluates=True)
def check_product_and_condition_from_the_drawn_weights():
    """L = 8 ReLU layers of widths n_l ∈ {64, 96, 128, 64, ...} (fan-in), 16 networks, batch 32; weights from
    nn.init.kaiming_normal_ (He) and from N(0, 1/n_l) (gain ½ per layer). Var[·] in the note's LaTeX is the
    population variance of the passed samples: every drawn weight of layer l, every y_1 and y_L of all networks.
    The product's right side is compared with the simulated Var[y_L] (Monte Carlo: 20%; a wrong factor is 2
    per layer); the He condition's left side with 1 (the drawn variance: 3%)."""
    g = seed(5)
    K, B, L = 16, 32, 8
    widths = [64, 96, 128, 64, 96, 128, 64, 96, 64]                        # n_1 ... n_L and the output width
    for name, he in (("He (kaiming_normal_)", True), ("N(0, 1/n_l)", False)):
        x = torch.randn(K, B, widths[0], generator=g, dtype=f64)
        ys, ws = [], []
        for l in range(L):
            weight = torch.empty(K, widths[l + 1], widths[l], dtype=f64)
            if he:
                for k in range(K):
                    nn.init.kaiming_normal_(weight[k], mode="fan_in", nonlinearity="relu", generator=g)
            else:
                weight.normal_(0, 1 / math.sqrt(widths[l]), generator=g)
            y = x @ weight.transpose(1, 2) if l == 0 else F.relu(ys[-1]) @ weight.transpose(1, 2)
            ys.append(y)
            ws.append(weight.flatten())
            if he:
                # ½ n_l Var[w_l] = 1 for He's initialisation
                close(evaluate_with("he2015delving/he-condition", {"n_l": widths[l]}, samples={"w_l": weight.flatten()},
                                    clause=0), 1.0, f"{name}: ½ n_l Var[w_l], layer {l + 1}", rtol=0.03, atol=0)
        size = min(w.numel() for w in ws)
        samples = {"y_1": ys[0].flatten(), "y_L": ys[-1].flatten(), "w": torch.stack([w[:size] for w in ws], dim=1)}
        # Var[y_L] = Var[y_1] Π_{l=2}^{L} ½ n_l Var[w_l]
        predicted = evaluate_with("he2015delving/product", {"L": L, "n": torch.tensor(widths[:L], dtype=f64)},
                                  samples=samples)
        close(predicted, ys[-1].var(unbiased=False), f"{name}: Var[y_L] predicted vs simulated", rtol=0.2, atol=0)


@check("he2015delving/product", tex=r"\mathrm{Var}[y_L] = \mathrm{Var}[y_1] \prod_{l=2}^{L} \frac{1}{2} n_l \mathrm{Var}[w_l]")
@check("he2015delving/he-condition", tex=r"\frac{1}{2} n_l \mathrm{Var}[w_l] = 1")
def check_variance_through_30_layers():
    """24 random 30-layer stacks of width 128. Each layer multiplies the second moment by a random gain whose
    expectation is the factor ½ n_l Var[w_l] (½ (1 + a²) n_l Var[w_l] for PReLU): 1 for He's std √(2/n),
    ½ for √(1/n). The mean gain over 29 × 24 layer transitions is compared with the factor (bound: 6 standard
    errors), and the 30-layer ratio for √(1/n) with 2^(−29) in log2 (bound: ±2, i.e. a factor of 4)."""
    g = seed(4)
    n, a = 128, 0.25
    settings = {"He, std = √(2/n)": (math.sqrt(2 / n), 0.0, 1.0),
                "std = √(1/n) (Xavier, fan-in = fan-out)": (math.sqrt(1 / n), 0.0, 0.5),
                "PReLU a = 0.25, std = √(2/((1+a²)n))": (math.sqrt(2 / ((1 + a * a) * n)), a, 1.0)}
    traces = []
    for name, (std, slope, factor) in settings.items():
        moments = deep_stack(std, slope, n=n, g=g).double()                  # (L, K)
        # the factor per layer, ½ (1 + a²) n_l Var[w_l], is 1 under the He condition
        close((1 + slope ** 2) * n * std ** 2 / 2, factor, f"{name}: ½ (1 + a²) n_l Var[w_l]")
        gains = (moments[1:] / moments[:-1]).flatten()                       # Var[y_l] / Var[y_{l-1}]
        standard_error = float(gains.std() / math.sqrt(gains.numel()))
        close(gains.mean(), factor, f"{name}: mean per-layer gain", atol=6 * standard_error, rtol=0)
        layer_mean = moments.mean(dim=1)                                     # estimate of Var[y_l]
        traces.append({"type": "scatter", "name": name, "x": torch.arange(1, 31), "y": layer_mean})
        if factor == 0.5:
            # Var[y_L] = Var[y_1] Π_{l=2}^{L} ½ n_l Var[w_l] = Var[y_1] 2^{−29}
            ratio = (moments[-1] / moments[0]).mean()
            close(ratio.log2(), -29.0, "log2 Var[y_30]/Var[y_1] for std √(1/n)", atol=2.0, rtol=0)
        else:
            close(layer_mean[-1].log2() - layer_mean[0].log2(), 0.0, f"{name}: log2 Var[y_30]/Var[y_1]", atol=2.0, rtol=0)
    figure("variance-through-depth", traces,
           {"xaxis": {"title": {"text": "layer l"}},
            "yaxis": {"title": {"text": "second moment of y_l (mean of 24 networks)"}, "type": "log", "exponentformat": "e"},
            "height": 340, "margin": {"l": 70, "r": 10, "t": 10, "b": 50}, "legend": {"x": 0.02, "y": 0.05}})


if __name__ == "__main__":
    run_checks(__name__)
