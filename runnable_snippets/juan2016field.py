"""Checks for notes/juan2016field.md: the FFM interaction term, its reduction to FM, its latent-parameter
count and the training objective.

References: a brute-force double loop over feature pairs against a vectorised einsum, the Hessian in x by
autograd, FM's O(kn) rewriting (Rendle's Lemma 3.1) for the reduction, third finite differences for the
degree, parameters counted as the model reads them, and F.softplus / F.binary_cross_entropy_with_logits for the logistic loss.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def ffm_brute_force(x, W, field):
    """x: (n,), W: (n, f, k), field: (n,) field index of each feature -> φ_FFM."""
    n = len(x)
    total = torch.zeros((), dtype=f64, device=x.device)
    for j1 in range(n):
        for j2 in range(j1 + 1, n):
            # (w_{j1,f2} · w_{j2,f1}) x_{j1} x_{j2}
            total = total + (W[j1, field[j2]] @ W[j2, field[j1]]) * x[j1] * x[j2]
    return total


def ffm_vectorised(x, W, field):
    """x: (batch, n): the pair matrix P[j1, j2] = w_{j1, f(j2)} · w_{j2, f(j1)}, strict upper triangle."""
    A = W[:, field]                                   # A[j1, j2] = w_{j1, f(j2)}: (n, n, k)
    P = torch.einsum("abk,bak->ab", A, A)             # w_{j1,f2} · w_{j2,f1}
    return torch.einsum("bi,ij,bj->b", x, torch.triu(P, diagonal=1), x)


def example(g, n=9, f=3, k=4, batch=4):
    field = torch.tensor([j % f for j in range(n)], device=device())
    W = randn(g, n, f, k)
    x = randn(g, batch, n) * (torch.rand(batch, n, generator=g) < 0.6).to(device())
    return x, W, field


@check("juan2016field/ffm",
       tex=r"\phi_{\mathrm{FFM}}(\mathbf{w}, \mathbf{x}) = \sum_{j_1=1}^{n} \sum_{j_2=j_1+1}^{n} \left(\mathbf{w}_{j_1, f_2} \cdot \mathbf{w}_{j_2, f_1}\right) x_{j_1} x_{j_2}")
def check_ffm_brute_force_and_degree():
    """Brute force against the einsum form (n=9 features in f=3 fields, k=4); the paper's ESPN/Nike/Male
    example by hand; autograd's Hessian in x holds each pair's weight once; and FFM is degree 2: along t·x
    the 3rd finite difference vanishes."""
    g = seed(0)
    x, W, field = example(g)
    close(ffm_vectorised(x, W, field), torch.stack([ffm_brute_force(x_b, W, field) for x_b in x]), "einsum against the double loop")

    P, A, G = 0, 1, 2                                 # fields: Publisher, Advertiser, Gender
    W3 = randn(g, 3, 3, 4)                            # features: ESPN (P), Nike (A), Male (G)
    by_hand = W3[0, A] @ W3[1, P] + W3[0, G] @ W3[2, P] + W3[1, G] @ W3[2, A]
    ones = torch.ones(3, dtype=f64, device=device())
    close(ffm_brute_force(ones, W3, torch.tensor([P, A, G])), by_hand, "w_ESPN,A·w_Nike,P + w_ESPN,G·w_Male,P + w_Nike,G·w_Male,A")

    # a degree-2 polynomial with no constant or linear part is fixed by its Hessian: autograd's Hessian of the
    # double loop must hold w_{j1,f(j2)} · w_{j2,f(j1)} for every pair once (j1 ≠ j2) and 0 on the diagonal
    zero = torch.zeros(len(field), dtype=f64, device=device())
    hessian = torch.autograd.functional.hessian(lambda x_: ffm_brute_force(x_, W, field), zero)
    pair_weights = torch.stack([torch.stack([W[a, field[b]] @ W[b, field[a]] for b in range(len(field))])
                                for a in range(len(field))])
    close(hessian, pair_weights - torch.diag(pair_weights.diagonal()), "Hessian in x = field-aware pair weights, zero diagonal")

    values = torch.stack([ffm_vectorised(t * x, W, field) for t in range(4)])    # t = 0..3
    third = values[3] - 3 * values[2] + 3 * values[1] - values[0]
    second = values[2] - 2 * values[1] + values[0]
    close(third, torch.zeros_like(third), "3rd finite difference along t·x vanishes (second order)", atol=1e-9)
    differs(second, torch.zeros_like(second), "2nd finite difference is non-zero (pairwise terms present)")


@check("juan2016field/fm",
       tex=r"\phi_{\mathrm{FM}}(\mathbf{w}, \mathbf{x}) = \sum_{j_1=1}^{n} \sum_{j_2=j_1+1}^{n} \left(\mathbf{w}_{j_1} \cdot \mathbf{w}_{j_2}\right) x_{j_1} x_{j_2}",
       evaluates=True)
def check_ffm_reduces_to_fm():
    """With w_{j,f} = w_j for every field f, FFM equals FM, checked against FM's O(kn) form
    ½ Σ_k [(Σ_j w_{j,k} x_j)² − Σ_j w_{j,k}² x_j²]; a single field gives FM too; field-aware vectors differ."""
    g = seed(1)
    x, W, field = example(g)
    w = W[:, 0]                                       # one vector per feature: (n, k)
    fm_linear_time = 0.5 * ((x @ w) ** 2 - (x ** 2) @ (w ** 2)).sum(-1)
    # φ_FM = Σ_{j1<j2} (w_j1 · w_j2) x_j1 x_j2
    fm_pairs = torch.einsum("bi,ij,bj->b", x, torch.triu(w @ w.T, diagonal=1), x)
    close(fm_pairs, fm_linear_time, "FM pair sum against its O(kn) form")
    # φ_FM = Σ_{j1=1}^{n} Σ_{j2=j1+1}^{n} (w_j1 · w_j2) x_j1 x_j2, evaluated from the note for each row; texeval reads
    # · between two vectors elementwise, so the k products come back per factor and their sum is the dot product
    fm_note = torch.stack([evaluate("juan2016field/fm", w=w, x=x_b, n=w.shape[0]).sum(-1) for x_b in x])
    close(fm_note, fm_linear_time, "φ_FM from the note's LaTeX against FM's O(kn) form")
    tied = w[:, None, :].expand_as(W)                 # w_{j,f} = w_j
    close(ffm_vectorised(x, tied, field), fm_linear_time, "FFM with tied vectors = FM")
    one_field = torch.zeros_like(field)
    close(ffm_vectorised(x, W, one_field), fm_linear_time, "FFM with a single field = FM")
    differs(ffm_vectorised(x, W, field), fm_linear_time, "field-aware vectors give a different model")


class LazyLatentVectors:
    """The latent vectors w_{j, f} of an FFM, each created the first time the model reads it; after a
    forward pass over every feature pair, ``numel()`` counts the parameters the model actually uses."""

    def __init__(self, g, k):
        self.g, self.k, self.vectors = g, k, {}

    def __getitem__(self, index):
        j, f = int(index[0]), int(index[1])
        if (j, f) not in self.vectors:
            self.vectors[(j, f)] = randn(self.g, self.k)
        return self.vectors[(j, f)]

    def numel(self):
        return sum(v.numel() for v in self.vectors.values())


@check("juan2016field/ffm-parameters", tex=r"N_{\mathrm{FFM}} = n \cdot f \cdot k", evaluates=True)
def check_latent_parameter_count():
    """Count the latent parameters the brute-force φ_FFM reads over a dense x (every pair j1 < j2 active),
    with vectors created on first use, so the reference is sized by the model's behaviour and not by the
    formula under test; every field holds at least two features, so each feature meets every field. FM's
    latent count is measured the same way (one vector per feature, whatever the partner's field)."""
    g = seed(3)
    for n, f, k in ((9, 3, 4), (12, 4, 2), (30, 5, 8), (10, 1, 16)):
        field = torch.tensor([j % f for j in range(n)], device=device())
        ones = torch.ones(n, dtype=f64, device=device())
        W = LazyLatentVectors(g, k)
        ffm_brute_force(ones, W, field)
        N = W.numel()
        # N_FFM = n · f · k
        close(evaluate("juan2016field/ffm-parameters", n=n, f=f, k=k), N, f"n f k for n={n}, f={f}, k={k}")
        W_fm = LazyLatentVectors(g, k)
        ffm_brute_force(ones, W_fm, torch.zeros_like(field))   # one field: FFM is FM, one w_j per feature
        close(N, f * W_fm.numel(), f"f times FM's n k (n={n}, f={f}, k={k})")


@check("juan2016field/objective",
       tex=r"\min_{\mathbf{w}} \; \frac{\lambda}{2} \lVert \mathbf{w} \rVert_2^2 + \sum_{i=1}^{m} \log\left(1 + \exp\left(-y_i \, \phi_{\mathrm{FFM}}(\mathbf{w}, \mathbf{x}_i)\right)\right)")
def check_objective_against_bce_with_logits():
    """Labels y ∈ {−1, +1}: Σ log(1 + exp(−y φ)) equals m × BCE-with-logits with targets (y + 1)/2, and
    the gradient of the objective in W matches autograd of the BCE form."""
    g = seed(2)
    x, W, field = example(g, batch=12)
    y = torch.where(torch.rand(12, generator=g) < 0.5, -1.0, 1.0).to(f64).to(device())
    lam = 0.1
    W = W.clone().requires_grad_(True)
    phi = ffm_vectorised(x, W, field)
    # λ/2 ||w||² + Σ_i log(1 + exp(−y_i φ(w, x_i)))
    objective = lam / 2 * (W ** 2).sum() + torch.log(1 + torch.exp(-y * phi)).sum()
    reference = lam / 2 * (W ** 2).sum() + len(y) * F.binary_cross_entropy_with_logits(phi, (y + 1) / 2)
    close(objective, reference, "logistic loss with ±1 labels against BCE with logits")
    close(torch.log(1 + torch.exp(-y * phi)), F.softplus(-y * phi), "log(1 + e^{−yφ}) = softplus(−yφ)")
    (grad,) = torch.autograd.grad(objective, W, retain_graph=True)
    (grad_reference,) = torch.autograd.grad(reference, W)
    close(grad, grad_reference, "gradient of the objective")


if __name__ == "__main__":
    run_checks(__name__)
