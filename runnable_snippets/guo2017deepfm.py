"""Checks for notes/guo2017deepfm.md: DeepFM's output, its FM component over shared embeddings, the
O(km) rewriting over field embeddings, and the MLP layer.

References: an explicit double loop over feature pairs and over field pairs, nn.Embedding as the shared
table (autograd shows both paths reach it), nn.Linear + nn.ReLU, F.binary_cross_entropy_with_logits.
"""
import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
field_sizes = (4, 3, 5, 2)            # m = 4 one-hot fields
m, d, k = len(field_sizes), sum(field_sizes), 3
offsets = torch.tensor([0, 4, 7, 12])


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def batch(g, n=6):
    """Active feature index per field: (n, m) global ids into the d features, and the one-hot x: (n, d)."""
    local = torch.stack([torch.randint(size, (n,), generator=g) for size in field_sizes], dim=1)
    ids = (local + offsets).to(device())
    x = torch.zeros(n, d, dtype=f64, device=device()).scatter_(1, ids, 1.0)
    return ids, x


def fm_pairs_loop(x, V):
    """Σ_{j1<j2} ⟨V_j1, V_j2⟩ x_j1 x_j2 by a double loop over all d features, x: (d,)."""
    total = torch.zeros((), dtype=f64, device=x.device)
    for j1 in range(d):
        for j2 in range(j1 + 1, d):
            total = total + (V[j1] @ V[j2]) * x[j1] * x[j2]
    return total


@check("guo2017deepfm/fm-component",
       tex=r"y_{FM} = \langle w, x \rangle + \sum_{j_1=1}^{d} \sum_{j_2=j_1+1}^{d} \langle V_{j_1}, V_{j_2} \rangle \, x_{j_1} \cdot x_{j_2}",
       evaluates=True)
def check_fm_component_over_field_embeddings():
    """On one-hot fields, the FM over the d-dim x equals the linear term plus the sum over pairs of FIELD
    embeddings e_i = V[active id of field i] taken from nn.Embedding."""
    g = seed(0)
    w = randn(g, d)
    V = nn.Embedding(d, k).to(device(), f64)
    with torch.no_grad():
        V.weight.copy_(randn(g, d, k))
    ids, x = batch(g)
    # y_FM = ⟨w, x⟩ + Σ_{j1<j2} ⟨V_j1, V_j2⟩ x_j1 x_j2
    y_fm = torch.stack([w @ x_b + fm_pairs_loop(x_b, V.weight) for x_b in x])
    # the same, evaluated from the note's LaTeX (indices j_1, j_2 over the d features) for each row
    with torch.no_grad():
        y_note = torch.stack([evaluate("guo2017deepfm/fm-component", w=w, x=x_b, V=V.weight, d=d) for x_b in x])
    e = V(ids)                                                     # field embeddings (n, m, k)
    field_pairs = sum((e[:, i] * e[:, i2]).sum(-1) for i in range(m) for i2 in range(i + 1, m))
    close(y_fm, w[ids].sum(-1) + field_pairs, "FM over features against linear + pairs of field embeddings")
    close(y_note, w[ids].sum(-1) + field_pairs, "y_FM from the note's LaTeX against linear + pairs of nn.Embedding field embeddings")


@check("guo2017deepfm/fm-linear-time",
       tex=r"\sum_{i=1}^{m} \sum_{i'=i+1}^{m} \langle \mathbf{e}_i, \mathbf{e}_{i'} \rangle = \frac{1}{2} \sum_{f=1}^{k} \left[ \left( \sum_{i=1}^{m} e_{i,f} \right)^{2} - \sum_{i=1}^{m} e_{i,f}^{2} \right]",
       evaluates=True)
def check_linear_time_identity_over_fields():
    g = seed(1)
    for m_, k_ in ((2, 1), (4, 3), (9, 16)):
        e = randn(g, 5, m_, k_)                                     # (batch, fields, k)
        # ½ Σ_f [ (Σ_i e_{i,f})² − Σ_i e_{i,f}² ], from the note's LaTeX: e_{i,f} is field i, factor f of 5 rows
        fast = evaluate_with("guo2017deepfm/fm-linear-time", {"e": e.permute(1, 2, 0), "m": m_, "k": k_}, elementwise=True)
        pairwise = torch.stack([sum(e[b, i] @ e[b, i2] for i in range(m_) for i2 in range(i + 1, m_)) for b in range(5)])
        close(fast, pairwise, f"O(km) form against the pairwise sum, m={m_}, k={k_}")


@check("guo2017deepfm/dnn-layer", tex=r"a^{(l+1)} = \sigma\left(W^{(l)} a^{(l)} + b^{(l)}\right)", evaluates=True)
def check_dnn_layer_against_nn_linear():
    g = seed(2)
    layer = nn.Sequential(nn.Linear(m * k, 7), nn.ReLU()).to(device(), f64)
    a_0 = randn(g, 5, m * k)
    W, b = layer[0].weight, layer[0].bias
    # a^{(l+1)} = σ(W^{(l)} a^{(l)} + b^{(l)}), σ = ReLU (DeepFM's activation); the 5 inputs as columns of a^{(l)}
    a_next = evaluate("guo2017deepfm/dnn-layer", sigma=torch.relu, **{"W^(l)": W, "a^(l)": a_0.T, "b^(l)": b[:, None]})
    close(a_next.T, layer(a_0), "σ(W a + b) against nn.Linear + nn.ReLU")


@check("guo2017deepfm/output", tex=r"\hat{y} = \operatorname{sigmoid}\left(y_{FM} + y_{DNN}\right)", evaluates=True)
def check_output_with_shared_embeddings():
    """A full DeepFM forward pass: ŷ against torch.sigmoid; its log loss against
    F.binary_cross_entropy_with_logits; the shared embedding's gradient is the sum of the FM-path and
    DNN-path gradients, and both are non-zero."""
    g = seed(3)
    w = randn(g, d)
    V = nn.Embedding(d, k).to(device(), f64)
    mlp = nn.Sequential(nn.Linear(m * k, 8), nn.ReLU(), nn.Linear(8, 1)).to(device(), f64)
    ids, _ = batch(g)
    y = (torch.rand(len(ids), generator=g) < 0.5).to(f64).to(device())

    def parts():
        e = V(ids)                                                 # shared by both components
        y_fm = w[ids].sum(-1) + 0.5 * (e.sum(1) ** 2 - (e ** 2).sum(1)).sum(-1)
        y_dnn = mlp(e.flatten(1))[:, 0]                            # a^{(0)} = [e_1, ..., e_m]
        return y_fm, y_dnn

    y_fm, y_dnn = parts()
    # ŷ = sigmoid(y_FM + y_DNN), from the note's LaTeX (sigmoid built in); the reference is the log loss that
    # BCE with logits computes from the logits (log-sigmoid), below
    y_hat = evaluate("guo2017deepfm/output", y_FM=y_fm, y_DNN=y_dnn)
    close(y_hat, 1.0 / (1.0 + torch.exp(-(y_fm + y_dnn))), "ŷ against 1 / (1 + e^{−(y_FM + y_DNN)})")
    log_loss = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    close(log_loss, F.binary_cross_entropy_with_logits(y_fm + y_dnn, y), "log loss of ŷ against BCE with logits")

    (grad_total,) = torch.autograd.grad(log_loss, V.weight, retain_graph=True)
    y_fm, y_dnn = parts()
    (grad_fm,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(y_fm + y_dnn.detach(), y), V.weight)
    y_fm, y_dnn = parts()
    (grad_dnn,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(y_fm.detach() + y_dnn, y), V.weight)
    close(grad_total, grad_fm + grad_dnn, "embedding gradient = FM path + DNN path")
    differs(grad_fm, torch.zeros_like(grad_fm), "the FM path reaches the shared embeddings")
    differs(grad_dnn, torch.zeros_like(grad_dnn), "the DNN path reaches the shared embeddings")


if __name__ == "__main__":
    run_checks(__name__)
