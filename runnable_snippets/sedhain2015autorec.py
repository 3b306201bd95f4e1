"""Checks for notes/sedhain2015autorec.md: the I-AutoRec reconstruction, its masked objective (and the
all-entries misstatement), and its parameter count.

References: nn.Sequential(nn.Linear, nn.Sigmoid, nn.Linear) with the same weights, an explicit loop over
observed (user, item) ratings, autograd (zero gradient at unobserved outputs; encoder columns of unobserved
inputs get only the weight-decay gradient), and modules built on the meta device.
"""
import torch
from torch import nn

from harness import check, close, device, differs, evaluate, holds, run_checks, seed

f64 = torch.float64
m, n, k = 8, 5, 3          # users, items, hidden units


def randn(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=f64) * scale).to(device())


def ratings(g):
    """R: (m users, n items) in 1..5, observed mask with about 40% of entries; unobserved entries are 0."""
    observed = torch.rand(m, n, generator=g) < 0.4
    observed[0, :] = False                            # user 0 rated nothing in this toy set
    observed[1, 0] = True
    R = torch.randint(1, 6, (m, n), generator=g).to(f64) * observed
    return R.to(device()), observed.to(device())


def params(g):
    return dict(V=randn(g, k, m, scale=0.3), mu=randn(g, k, scale=0.1), W=randn(g, m, k, scale=0.3), b=randn(g, m, scale=0.1))


def h(r, V, mu, W, b):
    """r: (batch, m) item vectors -> (batch, m). g = sigmoid, f = identity."""
    # h(r; θ) = f(W · g(V r + μ) + b)
    return torch.sigmoid(r @ V.T + mu) @ W.T + b


@check("sedhain2015autorec/reconstruction",
       tex=r"h(\mathbf{r}; \theta) = f\left(W g(V \mathbf{r} + \boldsymbol{\mu}) + \mathbf{b}\right)", evaluates=True)
def check_reconstruction_against_modules():
    g = seed(0)
    net = nn.Sequential(nn.Linear(m, k), nn.Sigmoid(), nn.Linear(k, m)).to(device(), f64)
    r = randn(g, n, m)
    V, mu, W, b = net[0].weight, net[0].bias, net[2].weight, net[2].bias
    # h(r; θ) = f(W · g(V r + μ) + b), g = sigmoid, f = identity; the n item vectors as the columns of r
    h_r = evaluate("sedhain2015autorec/reconstruction", W=W, V=V, r=r.T, mu=mu[:, None], b=b[:, None],
                   g=torch.sigmoid, f=lambda a: a)
    close(h_r.T, net(r), "f(W g(V r + μ) + b) against nn.Sequential(Linear, Sigmoid, Linear)")
    close(h(r, V, mu, W, b), net(r), "the vectorised h used below")


def masked_objective(R, observed, p, lam):
    r = R.T                                           # I-AutoRec: one row per item, r^{(i)} ∈ R^m
    mask = observed.T.to(f64)
    # Σ_i ||r^{(i)} − h(r^{(i)})||²_O + λ/2 (||W||²_F + ||V||²_F)
    return (((r - h(r, **p)) ** 2) * mask).sum() + lam / 2 * ((p["W"] ** 2).sum() + (p["V"] ** 2).sum())


@check("sedhain2015autorec/objective",
       tex=r"\min_{\theta} \sum_{i=1}^{n} \left\lVert \mathbf{r}^{(i)} - h(\mathbf{r}^{(i)}; \theta) \right\rVert_{\mathcal{O}}^{2} + \frac{\lambda}{2} \left( \lVert W \rVert_F^2 + \lVert V \rVert_F^2 \right)")
def check_masked_objective_and_its_gradients():
    """(1) The masked loss equals a loop over observed (u, i) only. (2) Its gradient w.r.t. the outputs is
    exactly 0 at unobserved entries. (3) User 0 rated nothing: the encoder column V[:, 0] receives only
    the weight-decay gradient λ V[:, 0]; with λ = 0, the data term gives it no gradient at all."""
    g = seed(1)
    R, observed = ratings(g)
    p = params(g)
    lam = 0.1
    loss = masked_objective(R, observed, p, lam)
    output = h(R.T, **p)
    loop = sum((R[u, i] - output[i, u]) ** 2 for u in range(m) for i in range(n) if observed[u, i])
    close(loss, loop + lam / 2 * ((p["W"] ** 2).sum() + (p["V"] ** 2).sum()), "masked loss against a loop over observed ratings")

    out = h(R.T, **p).detach().requires_grad_(True)
    data_term = (((R.T - out) ** 2) * observed.T.to(f64)).sum()
    (grad_out,) = torch.autograd.grad(data_term, out)
    close(grad_out[~observed.T], torch.zeros(int((~observed).sum()), dtype=f64), "no gradient at unobserved outputs")
    differs(grad_out[observed.T], torch.zeros(int(observed.sum()), dtype=f64), "observed outputs do get a gradient")

    p = {name: value.clone().requires_grad_(True) for name, value in p.items()}
    (grad_V,) = torch.autograd.grad(masked_objective(R, observed, p, lam), p["V"])
    close(grad_V[:, 0], lam * p["V"].detach()[:, 0], "a never-observed input's encoder weights: only λ V")
    (grad_V_data,) = torch.autograd.grad(masked_objective(R, observed, p, 0.0), p["V"])
    close(grad_V_data[:, 0], torch.zeros(k, dtype=f64), "…and no data gradient")


@check("sedhain2015autorec/misstatement-all-entries",
       tex=r"\left\lVert \mathbf{r} - h(\mathbf{r}) \right\rVert_2^2 = \sum_{u=1}^{m} \left( r_u - h(\mathbf{r})_u \right)^2",
       evaluates=True)
def check_zero_filled_loss_differs():
    """Counting the zero-filled entries as targets adds Σ_unobserved h(r)_u² to the loss, i.e. it pulls
    predictions for unrated pairs toward 0; the masked loss does not."""
    g = seed(2)
    R, observed = ratings(g)
    p = params(g)
    r, output = R.T, h(R.T, **p)
    # ‖r − h(r)‖₂² = Σ_u (r_u − h(r)_u)² over all m entries, missing r_u = 0, from the note's LaTeX item by item
    def reconstruct(r_i):
        return h(r_i[None], **p)[0]

    all_entries = sum(evaluate("sedhain2015autorec/misstatement-all-entries", r=r_i, h=reconstruct, m=m) for r_i in r)
    for r_i in r[:2]:
        holds("sedhain2015autorec/misstatement-all-entries", r=r_i, h=reconstruct, m=m)
    masked = masked_objective(R, observed, p, 0.0)
    close(all_entries - masked, (output[~observed.T] ** 2).sum(), "the extra term is Σ over unobserved of h(r)_u²")
    differs(all_entries, masked, "all-entries loss vs the observed-only loss")


@check("sedhain2015autorec/parameters", tex=r"N_{\theta} = 2 m k + m + k", evaluates=True)
def check_parameter_count():
    for users, hidden in ((m, k), (6040, 500), (480189, 500)):
        with torch.device("meta"):
            net = nn.Sequential(nn.Linear(users, hidden), nn.Sigmoid(), nn.Linear(hidden, users))
        counted = sum(p_.numel() for p_ in net.parameters())
        close(evaluate("sedhain2015autorec/parameters", m=users, k=hidden), counted, f"2mk + m + k for m={users}, k={hidden}")


if __name__ == "__main__":
    run_checks(__name__)
