"""Checks for notes/fedus2021switch.md: the router softmax, top-k and top-1 (Switch) outputs, the blog's
dense-mixture misstatement, the load-balancing loss α·N·Σ f_i·P_i, and expert capacity with dropped tokens.

References: torch.softmax, torch.topk, per-token expert calls, exact values for uniform routing
(loss = α), autograd (gradient flows through P_i only), and an explicit first-come dispatch loop.
"""
import torch
from torch import nn

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64
alpha = 1e-2


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def make_experts(N, d, d_ff, seed_value):
    seed(seed_value)
    return nn.ModuleList([nn.Sequential(nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d)) for _ in range(N)]).to(device(), f64)


@check("fedus2021switch/router", tex=r"p_i(x) = \frac{e^{h(x)_i}}{\sum_{j=1}^{N} e^{h(x)_j}}", evaluates=True)
def check_router():
    """x: (32, 16) tokens, W_r: (8, 16): the formula written out against torch.softmax(x W_rᵀ); rows sum to 1."""
    g = seed(0)
    x, W_r = randn(g, 32, 16), randn(g, 8, 16)
    h = x @ W_r.T                                                   # h(x) = W_r x
    # p_i(x) = e^{h(x)_i} / Σ_j e^{h(x)_j}, from the note's LaTeX for each expert i, the 32 tokens as columns of x
    p = torch.stack([evaluate("fedus2021switch/router", h=lambda x_: W_r @ x_, x=x.T, i=i, N=8) for i in range(1, 9)], -1)
    close(p, torch.softmax(h, dim=-1), "router softmax")
    close(p.sum(-1), torch.ones(32, dtype=f64), "gates sum to 1")


@check("fedus2021switch/moe-topk", tex=r"y = \sum_{i \in \mathcal{T}} p_i(x)\, E_i(x)", evaluates=True)
@check("fedus2021switch/switch-output", tex=r"y = p_{i^*}(x)\, E_{i^*}(x)", evaluates=True)
@check("fedus2021switch/misstatement-dense", tex=r"y = \sum_{k=1}^{K} p_k(x)\, f_k(x)")
def check_top1_routing():
    """20 tokens, N = 4 experts (16 → 32 → 16). Switch output p_{i*}(x) E_{i*}(x) (each token runs one expert)
    equals the top-k formula with k = 1 (torch.topk); top-2 and the dense sum over all experts differ."""
    N, d = 4, 16
    g = seed(1)
    experts = make_experts(N, d, 32, 2)
    x, W_r = randn(g, 20, d), randn(g, N, d)
    p = torch.softmax(x @ W_r.T, -1)
    with torch.no_grad():
        all_outputs = torch.stack([E(x) for E in experts], dim=1)       # (20, N, d), reference only

        def top_k(k):
            gates, chosen = p.topk(k, dim=-1)
            # y = Σ_{i ∈ T} p_i(x) E_i(x)
            return (gates[..., None] * all_outputs.gather(1, chosen[..., None].expand(-1, -1, d))).sum(1)

        i_star = p.argmax(-1)                                          # i* = argmax_i p_i(x)
        # y = p_{i*}(x) E_{i*}(x), from the note's LaTeX token by token: only the selected expert runs
        switch = torch.stack([evaluate("fedus2021switch/switch-output", x=x[t],
                                       **{"p_i^*": lambda _, t=t, i=i: p[t, i], "E_i^*": experts[int(i)]})
                              for t, i in enumerate(i_star)])
        close(switch, top_k(1), "Switch output vs top-k with k = 1")
        # y = Σ_{i ∈ 𝒯} p_i(x) E_i(x), from the note's LaTeX token by token, 𝒯 the top-k experts (1-based)
        for k in (1, 2):
            chosen = p.topk(k, dim=-1).indices + 1
            y = torch.stack([evaluate("fedus2021switch/moe-topk", x=x[t], T=chosen[t].tolist(), E=list(experts),
                                      p=[lambda _, t=t, i=i: p[t, i] for i in range(N)]) for t in range(len(x))])
            close(y, top_k(k), f"the note's top-k sum vs gather over torch.topk, k = {k}")
        # y = Σ_{k=1}^{K} p_k(x) f_k(x)   (blog: dense soft mixture)
        dense = (p[..., None] * all_outputs).sum(1)
        differs(dense, switch, "dense mixture over all experts vs top-1")
        differs(top_k(2), switch, "top-2 vs top-1")


def balance_terms(p):
    """p: (T, N) router probabilities -> f (N,), P (N,)."""
    T, N = p.shape
    # f_i = 1/T Σ_{x ∈ B} 1{argmax p(x) = i}, from the note's LaTeX for each expert i (experts and tokens from 1)
    f = torch.stack([evaluate("fedus2021switch/fraction-dispatched", T=T, B=list(range(1, T + 1)), i=i,
                              p=lambda x: p[int(x) - 1].detach()) for i in range(1, N + 1)])
    # P_i = 1/T Σ_{x ∈ B} p_i(x), from the note's LaTeX for each expert i; the batch B holds tokens 1..T
    P = torch.stack([evaluate("fedus2021switch/router-probability", T=T, B=list(range(1, T + 1)),
                              p_i=lambda x, i=i: p[int(x) - 1, i]) for i in range(N)])
    return f, P


def aux_loss(p):
    f, P = balance_terms(p)
    # loss = α · N · Σ_i f_i · P_i, from the note's LaTeX
    return evaluate("fedus2021switch/aux-loss", alpha=alpha, N=p.shape[1], f=f, P=P)


@check("fedus2021switch/fraction-dispatched", tex=r"f_i = \frac{1}{T} \sum_{x \in \mathcal{B}} \mathbb{1}\left\{\arg\max p(x) = i\right\}",
       evaluates=True)
@check("fedus2021switch/router-probability", tex=r"P_i = \frac{1}{T} \sum_{x \in \mathcal{B}} p_i(x)", evaluates=True)
@check("fedus2021switch/aux-loss", tex=r"\text{loss} = \alpha \cdot N \cdot \sum_{i=1}^{N} f_i \cdot P_i", evaluates=True)
def check_load_balancing_loss():
    """Uniform routing (T = 8 tokens, N = 4, gates are cyclic shifts of (0.4, 0.3, 0.2, 0.1), so every expert
    is chosen twice and P_i = 1/4): f_i = P_i = 1/N and loss = α exactly, for N = 4 and N = 8. A skewed
    batch (7 of 8 tokens to expert 0) gives about 2.8 α. Gradients reach the router only through P_i:
    ∂loss/∂p equals α N f broadcast over tokens / T."""
    for N in (4, 8):
        base = torch.arange(N, 0, -1, dtype=f64)
        base = base / base.sum()
        p = torch.stack([base.roll(t) for t in range(2 * N)])          # each expert is argmax twice
        f, P = balance_terms(p)
        close(f, torch.full((N,), 1 / N, dtype=f64), f"f_i = 1/N (N = {N})")
        close(P, torch.full((N,), 1 / N, dtype=f64), f"P_i = 1/N (N = {N})")
        close(aux_loss(p), alpha, f"uniform routing: loss = α (N = {N})")
    g = seed(3)
    logits = randn(g, 8, 4)
    logits[:7, 0] += 4.0                                              # 7 of 8 tokens prefer expert 0
    p = torch.softmax(logits, -1).requires_grad_(True)
    loss = aux_loss(p)
    f, _ = balance_terms(p.detach())
    close(f[0], 7 / 8, "skewed batch: f_0 = 7/8")
    close(f, torch.bincount(p.detach().argmax(-1), minlength=4).to(f64) / 8, "f_i against torch.bincount of the argmax")
    close(loss / alpha, 2.8, "skewed batch: loss ≈ 2.8 α (note)", rtol=0, atol=0.01)
    (grad,) = torch.autograd.grad(loss, p)
    close(grad, (alpha * 4 * f / 8).expand(8, 4), "∂loss/∂p_i(x) = α N f_i / T")


def switch_layer_with_capacity(x, p, experts, capacity):
    """Top-1 dispatch, first come first served; tokens beyond an expert's capacity are dropped (residual only).
    Returns (output, processed counts, dropped mask)."""
    N = len(experts)
    out = x.clone()                                                    # residual connection
    counts = [0] * N
    dropped = torch.zeros(len(x), dtype=torch.bool)
    for t in range(len(x)):
        i = int(p[t].argmax())
        if counts[i] < capacity:
            counts[i] += 1
            out[t] = x[t] + p[t, i] * experts[i](x[t])
        else:
            dropped[t] = True
    return out, counts, dropped


@check("fedus2021switch/capacity",
       tex=r"\text{expert capacity} = \left(\frac{\text{tokens per batch}}{\text{number of experts}}\right) \cdot \text{capacity factor}",
       evaluates=True)
def check_capacity_and_dropping():
    """64 tokens, 4 experts, capacity factor 1.25: capacity 20 from the note's formula. A skewed batch (router
    logits biased to expert 0) is dispatched: no expert exceeds 20, the overflow count of each expert equals
    max(0, routed − 20), dropped tokens come out unchanged, and the others get x + p_{i*} E_{i*}(x). At capacity
    factor 1.0 the formula gives the load a perfectly balanced router puts on each expert (measured by dispatch)."""
    T, N, d = 64, 4, 8
    capacity = evaluate("fedus2021switch/capacity", tokensperbatch=T, numberofexperts=N, capacityfactor=1.25)
    close(capacity, 20, "capacity = (64 / 4) · 1.25", rtol=0, atol=0)
    g = seed(4)
    experts = make_experts(N, d, 16, 5)
    # capacity factor 1.0 is the load of a perfectly balanced router, measured by dispatching one: every slot is
    # used and no token dropped; one slot fewer per expert drops one token per expert
    x = randn(g, T, d)
    balanced = torch.eye(N, dtype=f64, device=x.device)[torch.arange(T) % N] * 0.5 + 0.5 / N
    load = torch.bincount(balanced.argmax(-1), minlength=N)
    exact = evaluate("fedus2021switch/capacity", tokensperbatch=T, numberofexperts=N, capacityfactor=1.0)
    close(exact, load.max(), "capacity factor 1.0 = balanced load per expert", rtol=0, atol=0)
    with torch.no_grad():
        _, counts, dropped = switch_layer_with_capacity(x, balanced, experts, int(exact))
        close(torch.tensor(counts), load.cpu(), "balanced batch at capacity factor 1.0: every slot used", rtol=0, atol=0)
        close(int(dropped.sum()), 0, "… and no token dropped", rtol=0, atol=0)
        _, _, dropped = switch_layer_with_capacity(x, balanced, experts, int(exact) - 1)
        close(int(dropped.sum()), N, "one slot fewer drops one token per expert", rtol=0, atol=0)
    x, W_r = randn(g, T, d), randn(g, N, d)
    logits = x @ W_r.T
    logits[:, 0] += 1.5
    p = torch.softmax(logits, -1)
    with torch.no_grad():
        out, counts, dropped = switch_layer_with_capacity(x, p, experts, int(capacity))
        routed = torch.bincount(p.argmax(-1), minlength=N)
        close(torch.tensor(counts), routed.clamp(max=int(capacity)).cpu(), "processed = min(routed, capacity)", rtol=0, atol=0)
        close(int(dropped.sum()), int((routed - int(capacity)).clamp(min=0).sum()), "dropped = overflow", rtol=0, atol=0)
        close(out[dropped], x[dropped], "dropped tokens pass through the residual")
        kept = ~dropped
        i_star = p.argmax(-1)
        expected = torch.stack([x[t] + p[t, i_star[t]] * experts[int(i_star[t])](x[t]) for t in range(T)])
        close(out[kept], expected[kept], "kept tokens get x + p_{i*} E_{i*}(x)")
        differs(routed.max(), int(capacity), "the skewed batch overflows", at_least=1)


if __name__ == "__main__":
    run_checks(__name__)
