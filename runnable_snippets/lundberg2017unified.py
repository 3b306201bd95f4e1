"""Checks for notes/lundberg2017unified.md: additive attributions, exact Shapley values, local accuracy,
the Shapley kernel and Kernel SHAP's weighted regression, and Linear SHAP.

The game explains one input x of a small random MLP with M = 5 features. The payoff of a coalition S is
f_x(S) = mean over a fixed background set B of f(x_S, b_{S̄}) (missing features filled in from the data,
the paper's independence approximation), so every value below is exact. References: the permutation
definition of Shapley values (all M! orderings), the glove game's known values, a factorial form of the
kernel, and a closed-form weighted least squares over all 2^M coalitions.
"""
import itertools
import math

import torch

from harness import check, close, device, evaluate, evaluate_with, run_checks, seed

M = 5


def mlp_and_background():
    """f: R^M -> R (a 5-8-1 tanh MLP, float64), background B: (16, M), explained input x: (M,)."""
    g = seed(0)
    W_1 = torch.randn(8, M, generator=g, dtype=torch.float64).to(device())
    b_1 = torch.randn(8, generator=g, dtype=torch.float64).to(device())
    W_2 = torch.randn(1, 8, generator=g, dtype=torch.float64).to(device())
    B = torch.randn(16, M, generator=g, dtype=torch.float64).to(device())
    x = torch.randn(M, generator=g, dtype=torch.float64).to(device())

    def f(inputs):
        """inputs (..., M) -> outputs (...)."""
        return (torch.tanh(inputs @ W_1.T + b_1) @ W_2.T)[..., 0]
    return f, B, x


def payoff(f, B, x):
    """f_x(z') for a coalition mask z' (M,) of 0/1: mean_b f(h_x(z')), x where present, b where absent."""
    def f_x(z):
        z = torch.as_tensor(z, dtype=torch.float64, device=x.device)
        return f(z * x + (1 - z) * B).mean()
    return f_x


def coalitions(M_):
    """All 2^M masks as a (2^M, M) float64 tensor."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=M_)), dtype=torch.float64, device=device())


def shapley_by_coalitions(f_x, M_):
    """φ_i = Σ_{S ⊆ F∖{i}} |S|!(M−|S|−1)!/M! [f_x(S ∪ {i}) − f_x(S)], for i = 1..M: (M,)."""
    phi = []
    for i in range(M_):
        others = [j for j in range(M_) if j != i]
        total = 0.0
        for size in range(M_):
            for S in itertools.combinations(others, size):
                z = torch.zeros(M_, dtype=torch.float64)
                z[list(S)] = 1.0
                z_with_i = z.clone()
                z_with_i[i] = 1.0
                # |S|! (M − |S| − 1)! / M! · [f_x(S ∪ {i}) − f_x(S)]
                weight = math.factorial(size) * math.factorial(M_ - size - 1) / math.factorial(M_)
                total = total + weight * (f_x(z_with_i) - f_x(z))
        phi.append(total)
    return torch.stack([torch.as_tensor(p, dtype=torch.float64) for p in phi])


def shapley_by_permutations(f_x, M_):
    """Reference: the average over all M! orderings of feature i's marginal contribution when it joins."""
    phi = torch.zeros(M_, dtype=torch.float64)
    orderings = list(itertools.permutations(range(M_)))
    for order in orderings:
        z = torch.zeros(M_, dtype=torch.float64)
        before = f_x(z)
        for i in order:
            z[i] = 1.0
            after = f_x(z)
            phi[i] += float(after - before)
            before = after
    return phi / len(orderings)


@check("lundberg2017unified/shapley-value",
       tex=r"\phi_i = \sum_{S \subseteq F \setminus \{i\}} \frac{|S|! \, (M - |S| - 1)!}{M!} \left[ f_x(S \cup \{i\}) - f_x(S) \right]",
       evaluates=True)
def check_shapley_formula_against_permutations_and_glove_game():
    """The subset formula, evaluated from the note's LaTeX over all 2^(M−1) subsets S of F = {1..M} ∖ {i}
    (f_x takes the set of present features), equals the average over all 120 orderings for the MLP game, and
    gives the textbook values (2/3, 1/6, 1/6) in the 3-player glove game (one left glove, two right gloves)."""
    f, B, x = mlp_and_background()
    f_x = payoff(f, B, x)

    def on_sets(game, M_):
        """The game on sets of features (1-based), as the formula writes it: f_x(S)."""
        return lambda S: game(torch.tensor([float(j + 1 in S) for j in range(M_)], dtype=torch.float64))

    def phi(game, M_):
        # φ_i = Σ_{S ⊆ F∖{i}} |S|! (M − |S| − 1)! / M! [f_x(S ∪ {i}) − f_x(S)]
        return torch.stack([evaluate("lundberg2017unified/shapley-value", i=i, F=list(range(1, M_ + 1)), M=M_,
                                     f_x=on_sets(game, M_)) for i in range(1, M_ + 1)])
    by_orderings = shapley_by_permutations(f_x, M)
    close(phi(f_x, M).cpu(), by_orderings, "φ from the note (subsets) vs by all M! orderings")
    close(shapley_by_coalitions(f_x, M).cpu(), by_orderings, "the helper's φ (used below) vs by all M! orderings")

    def glove(z):
        return torch.tensor(float(z[0] > 0 and (z[1] > 0 or z[2] > 0)), dtype=torch.float64)
    close(phi(glove, 3), torch.tensor([2 / 3, 1 / 6, 1 / 6], dtype=torch.float64), "glove game")


@check("lundberg2017unified/local-accuracy", tex=r"f(x) = g(x') = \phi_0 + \sum_{i=1}^{M} \phi_i \, x'_i", evaluates=True)
def check_local_accuracy_of_exact_shapley_values():
    """With x' = 1 (all present) and φ_0 = f_x(∅) = E_B[f], the exact Shapley values add up to f(x) − φ_0:
    the note's φ_0 + Σ_i φ_i x'_i, evaluated from its LaTeX, against the MLP's output f(x)."""
    f, B, x = mlp_and_background()
    f_x = payoff(f, B, x)
    phi = shapley_by_coalitions(f_x, M).to(device())
    phi_0 = f(B).mean()                                   # φ_0 = f_x(∅) = E[f(z)]
    x_prime = torch.ones(M, dtype=torch.float64, device=device())
    close(f_x(x_prime), f(x), "f_x(F) = f(x)")
    # f(x) = φ_0 + Σ_{i=1}^{M} φ_i x'_i
    g_x = evaluate("lundberg2017unified/local-accuracy", phi_0=phi_0, phi=phi, M=M, **{"x'": x_prime})
    close(g_x, f(x).reshape(()), "the note's φ_0 + Σ φ_i x'_i against f(x)")


@check("lundberg2017unified/shapley-kernel",
       tex=r"\pi_{x'}(z') = \frac{M - 1}{\binom{M}{|z'|} \cdot |z'| \cdot (M - |z'|)}", evaluates=True)
def check_shapley_kernel_against_factorial_form():
    """π(s) = (M−1)/(C(M,s) s (M−s)) = (M−1)(s−1)!(M−s−1)!/M!, for M = 2..9 and 0 < s < M."""
    for M_ in range(2, 10):
        for s in range(1, M_):
            pi = evaluate("lundberg2017unified/shapley-kernel", M=M_, **{"z'": s})
            factorial_form = (M_ - 1) * math.factorial(s - 1) * math.factorial(M_ - s - 1) / math.factorial(M_)
            close(pi, factorial_form, f"π for M={M_}, |z'|={s}")


@check("lundberg2017unified/kernel-loss",
       tex=r"L(f, g, \pi_{x'}) = \sum_{z' \in Z} \left[ f(h_x(z')) - g(z') \right]^{2} \pi_{x'}(z')", evaluates=True)
@check("lundberg2017unified/additive-attribution", tex=r"g(z') = \phi_0 + \sum_{i=1}^{M} \phi_i \, z'_i")
def check_kernel_shap_regression_recovers_shapley_values():
    """Minimising L over the additive g, with the note's kernel as weights on all 2^M − 2 interior
    coalitions and the two infinite-weight ones as constraints (φ_0 = f_x(∅), Σφ = f(x) − φ_0)
    eliminated analytically, returns exactly the Shapley values; the gradient of L there is zero."""
    f, B, x = mlp_and_background()
    f_x = payoff(f, B, x)
    Z = coalitions(M)
    sizes = Z.sum(1)
    Z = Z[(sizes > 0) & (sizes < M)]
    f_Z = torch.stack([f_x(z) for z in Z])                                # f(h_x(z')) for z' ∈ Z
    pi = torch.stack([evaluate("lundberg2017unified/shapley-kernel", M=M, **{"z'": int(s)}) for s in Z.sum(1)]).to(Z)
    phi_0, delta = f_x(torch.zeros(M)), f(x) - f_x(torch.zeros(M))       # the two constraints

    def g(z, phi_free):
        """g(z') = φ_0 + Σ_i φ_i z'_i, with φ_M = Δ − Σ_{i<M} φ_i substituted."""
        phi = torch.cat([phi_free, (delta - phi_free.sum())[None]])
        return phi_0 + z @ phi

    def L(phi_free):
        # L = Σ_{z' ∈ Z} [f(h_x(z')) − g(z')]² π(z')
        return (((f_Z - g(Z, phi_free)) ** 2) * pi).sum()

    # closed-form weighted least squares in the M − 1 free coefficients
    design = Z[:, :-1] - Z[:, -1:]
    target = f_Z - phi_0 - Z[:, -1] * delta
    root = pi.sqrt()[:, None]
    phi_free = torch.linalg.lstsq(design * root, target[:, None] * root).solution[:, 0]
    phi_kernel = torch.cat([phi_free, (delta - phi_free.sum())[None]])
    phi_exact = shapley_by_coalitions(f_x, M).to(device())
    close(phi_kernel, phi_exact, "Kernel SHAP regression over all coalitions against exact Shapley values")

    at_exact = phi_exact[:-1].clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(L(at_exact), at_exact)
    close(gradient, torch.zeros_like(gradient), "∇L at the exact Shapley values", atol=1e-10)

    # the note's L(f, g, π_x') = Σ_{z' ∈ Z} [f(h_x(z')) − g(z')]² π_x'(z'): h_x(z') fills the absent features from
    # the background rows, f averages the model over them, g is the additive model, π_x' the note's kernel
    f_model, _, _ = mlp_and_background()
    kernel = dict(zip(Z.sum(1).tolist(), pi.tolist()))
    at_exact = phi_exact[:-1].clone().requires_grad_(True)
    L_note = evaluate("lundberg2017unified/kernel-loss", Z=list(Z), f=lambda inputs: f_model(inputs).mean(),
                      h_x=lambda z: z * x + (1 - z) * B, g=lambda z: g(z, at_exact),
                      **{"pi_x'": lambda z: torch.tensor(kernel[float(z.sum())], dtype=torch.float64, device=device())})
    residual = (design * root) @ phi_exact[:-1] - target * root[:, 0]
    close(L_note, residual @ residual, "L evaluated from the note vs the weighted least-squares residual")
    (gradient,) = torch.autograd.grad(L_note, at_exact)
    close(gradient, torch.zeros_like(gradient), "∇ of the note's L at the exact Shapley values (autograd)", atol=1e-10)
    ones, zeros = torch.ones(M, dtype=torch.float64, device=device()), torch.zeros(M, dtype=torch.float64, device=device())
    close(g(ones, phi_free), f(x), "g(1) = f(x)")
    close(g(zeros, phi_free), f(B).mean(), "g(0) = φ_0 = E[f]")


@check("lundberg2017unified/linear-shap", tex=r"\phi_i(f, x) = w_i \left( x_i - \mathbb{E}[x_i] \right)", evaluates=True)
@check("lundberg2017unified/additive-attribution", tex=r"g(z') = \phi_0 + \sum_{i=1}^{M} \phi_i \, z'_i", evaluates=True)
def check_linear_shap_against_brute_force():
    """For f(x) = wᵀx + b with missing features filled from B, brute-force Shapley values are
    w_i (x_i − E[x_i]), the base value is b + Σ w_j E[x_j], and the additive g(z') reproduces
    f_x(z') on every one of the 2^M coalitions (the game is additive)."""
    g_ = seed(4)
    w = torch.randn(M, generator=g_, dtype=torch.float64).to(device())
    b = float(torch.randn((), generator=g_, dtype=torch.float64))
    B = (torch.randn(64, M, generator=g_, dtype=torch.float64) * 2 + 1).to(device())
    x = torch.randn(M, generator=g_, dtype=torch.float64).to(device())

    def f(inputs):
        return inputs @ w + b
    f_x = payoff(f, B, x)
    phi = shapley_by_coalitions(f_x, M).to(device())
    E_x = B.mean(0)
    # φ_i(f, x) = w_i (x_i − E[x_i]), from the note's LaTeX, E over the background samples B
    linear = torch.stack([evaluate_with("lundberg2017unified/linear-shap", {"w": w, "x": x, "i": i}, samples={"x": B})
                          for i in range(1, M + 1)])
    close(linear, phi, "w_i (x_i − E[x_i]) against brute-force Shapley values")
    phi_0 = f(B).mean()
    close(phi_0, b + w @ E_x, "base value E[f(z)] = b + Σ w_j E[x_j]")
    Z = coalitions(M)
    # g(z') = φ_0 + Σ_{i=1}^{M} φ_i z'_i, the note's LaTeX, on every coalition z'
    g_Z = torch.stack([evaluate("lundberg2017unified/additive-attribution", phi_0=phi_0, phi=phi, M=M, **{"z'": z}) for z in Z])
    close(g_Z, torch.stack([f_x(z) for z in Z]), "the note's g(z') against f(h_x(z')) for all 2^M coalitions")


if __name__ == "__main__":
    run_checks(__name__)
