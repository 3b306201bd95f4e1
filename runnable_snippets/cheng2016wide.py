"""Checks for notes/cheng2016wide.md: the wide linear model, the cross-product transformation, the deep
layer and the joint Wide & Deep output.

References: nn.Linear (with copied weights) for the linear parts, logical AND (torch.all) over the selected
binary features for φ_k, nn.Linear + nn.ReLU, a Wide & Deep module assembled from nn.Linear /
nn.Embedding, and F.binary_cross_entropy_with_logits for the joint loss; autograd shows that one
backward pass reaches both parts (joint training, not an ensemble).
"""
import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def binary_x(g, n, d):
    return (torch.rand(n, d, generator=g) < 0.5).to(f64).to(device())


def cross_products(x, c):
    """x: (n, d) features, c: (K, d) 0/1 matrix -> φ(x): (n, K)."""
    # φ_k(x) = Π_i x_i^{c_ki}
    return torch.pow(x[:, None, :], c[None, :, :]).prod(-1)


@check("cheng2016wide/wide", tex=r"y = \mathbf{w}^\top \mathbf{x} + b", evaluates=True)
def check_wide_against_nn_linear():
    g = seed(0)
    wide = nn.Linear(10, 1).to(device(), f64)
    x = randn(g, 5, 10)
    w, b = wide.weight[0], wide.bias[0]
    # y = wᵀx + b, the 5 inputs as the columns of x
    close(evaluate("cheng2016wide/wide", w=w, x=x.T, b=b), wide(x)[:, 0], "wᵀx + b against nn.Linear")


@check("cheng2016wide/cross-product", tex=r"\phi_k(\mathbf{x}) = \prod_{i=1}^{d} x_i^{c_{ki}}", evaluates=True)
def check_cross_product_is_logical_and():
    """On all 2^5 binary vectors, φ_k equals the AND of the features with c_ki = 1 (x_i^0 = 1 even for
    x_i = 0), for K = 4 transformations of orders 1, 2, 3 and 5."""
    d = 5
    x = torch.tensor([[(n >> i) & 1 for i in range(d)] for n in range(2 ** d)], dtype=f64, device=device())
    c = torch.tensor([[1, 0, 0, 0, 0],      # a raw feature
                      [1, 1, 0, 0, 0],      # AND(gender=female, language=en)
                      [0, 1, 0, 1, 1],
                      [1, 1, 1, 1, 1]], dtype=f64, device=device())
    logical_and = torch.stack([x[:, c_k.bool()].bool().all(-1) for c_k in c], -1).to(f64)
    # φ_k(x) = Π_i x_i^{c_ki}, from the note's LaTeX for each k; x_i is feature i of all 32 vectors
    phi = torch.stack([evaluate("cheng2016wide/cross-product", x=x.T, c=c, k=k, d=d) for k in range(1, len(c) + 1)], -1)
    close(phi, logical_and, "Π x_i^{c_ki} against logical AND")
    close(cross_products(x, c), logical_and, "vectorised φ(x) against logical AND")
    close(logical_and.sum(0), torch.tensor([16.0, 8.0, 4.0, 1.0], dtype=f64), "a k-way AND fires on 2^{d−k} of the 2^d vectors")


@check("cheng2016wide/deep-layer", tex=r"a^{(l+1)} = f\left(W^{(l)} a^{(l)} + b^{(l)}\right)", evaluates=True)
def check_deep_layer_against_nn_linear():
    g = seed(1)
    layer = nn.Sequential(nn.Linear(12, 6), nn.ReLU()).to(device(), f64)
    a_l = randn(g, 4, 12)
    # a^{(l+1)} = f(W^{(l)} a^{(l)} + b^{(l)}), f = ReLU; the 4 inputs as the columns of a^{(l)}
    a_next = evaluate("cheng2016wide/deep-layer", f=torch.relu, **{"W^(l)": layer[0].weight, "a^(l)": a_l.T,
                                                                    "b^(l)": layer[0].bias[:, None]})
    close(a_next.T, layer(a_l), "against nn.Linear + nn.ReLU")


class WideAndDeep(nn.Module):
    """Reference module: wide = nn.Linear over [x, φ(x)] (its bias is b), deep = embeddings + ReLU MLP whose
    last layer is nn.Linear(bias=False) = w_deep."""

    def __init__(self, d, c, vocab, emb_dim, hidden):
        super().__init__()
        self.register_buffer("c", c)
        self.wide = nn.Linear(d + len(c), 1)
        self.embedding = nn.Embedding(vocab, emb_dim)
        self.hidden = nn.Sequential(nn.Linear(2 * emb_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.deep_out = nn.Linear(hidden, 1, bias=False)

    def forward(self, x, ids):
        wide_in = torch.cat([x, cross_products(x, self.c)], -1)
        return self.wide(wide_in)[:, 0] + self.deep_out(self.hidden(self.embedding(ids).flatten(1)))[:, 0]


@check("cheng2016wide/joint",
       tex=r"P(Y = 1 \mid \mathbf{x}) = \sigma\left(\mathbf{w}_{\mathrm{wide}}^\top [\mathbf{x}, \phi(\mathbf{x})] + \mathbf{w}_{\mathrm{deep}}^\top a^{(l_f)} + b\right)",
       evaluates=True)
def check_joint_output_against_module():
    """The equation, computed by hand from the module's weights, equals sigmoid(module(x)); one backward
    pass of the logistic loss gives non-zero gradients to wide AND deep weights; dropping φ(x) (the seed
    post's form) changes the prediction."""
    g = seed(2)
    d, n = 6, 8
    c = torch.tensor([[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 1, 1]], dtype=f64)
    model = WideAndDeep(d, c, vocab=20, emb_dim=4, hidden=8).to(device(), f64)
    x = binary_x(g, n, d)
    ids = torch.randint(20, (n, 2), generator=g).to(device())
    y = (torch.rand(n, generator=g) < 0.5).to(f64).to(device())

    w_wide, b = model.wide.weight[0], model.wide.bias[0]
    w_deep = model.deep_out.weight[0]
    a_lf = model.hidden(model.embedding(ids).flatten(1))
    # P(Y=1|x) = σ(w_wideᵀ [x, φ(x)] + w_deepᵀ a^{(l_f)} + b), from the note's LaTeX for each example
    P = torch.stack([evaluate_with("cheng2016wide/joint",
                                   {"x": x_k, "phi": lambda v: cross_products(v[None], model.c)[0], "w_wide": w_wide,
                                    "w_deep": w_deep, "a^(l_f)": a_k, "b": b})
                     for x_k, a_k in zip(x, a_lf)])
    close(P, torch.sigmoid(model(x, ids)), "σ(...) from the note against the nn.Linear-built module")

    loss = F.binary_cross_entropy_with_logits(model(x, ids), y)
    close(-(y * torch.log(P) + (1 - y) * torch.log(1 - P)).mean(), loss, "log loss of P against BCE with logits")
    grads = torch.autograd.grad(loss, [model.wide.weight, model.deep_out.weight, model.embedding.weight])
    for grad, part in zip(grads, ("wide weights", "deep output weights", "embeddings")):
        differs(grad, torch.zeros_like(grad), f"one backward pass reaches the {part}")

    without_crosses = torch.sigmoid(x @ w_wide[:d] + a_lf @ w_deep + b)
    differs(without_crosses, P, "leaving out φ(x) changes P(Y=1|x) (the crosses carry weight)")


if __name__ == "__main__":
    run_checks(__name__)
