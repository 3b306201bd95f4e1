"""Checks for notes/chowdhery2022palm.md: Swish/SwiGLU, the serial and parallel blocks, multi-query attention,
RoPE, and the parameter counts of PaLM 8B / 62B / 540B.

References: F.silu, F.glu, nn.TransformerEncoderLayer(norm_first=True) for the serial block, one fused
projection matmul for the parallel block, F.scaled_dot_product_attention with keys/values repeated across
heads, complex multiplication by e^{i m θ}, and bias-free modules built on device="meta".
"""
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
meta = torch.device("meta")


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


@check("chowdhery2022palm/swish", tex=r"\operatorname{Swish}(z) = \frac{z}{1 + \exp(-z)}", evaluates=True)
def check_swish():
    """z = −10 … 10: the note's formula evaluated from its LaTeX against F.silu."""
    z = torch.linspace(-10, 10, 401, dtype=f64)
    close(evaluate("chowdhery2022palm/swish", z=z), F.silu(z), "Swish(z) vs F.silu")


def swiglu(x, W, V, W_2):
    # MLP(x) = (Swish(xW) ⊙ xV) W_2
    return (F.silu(x @ W) * (x @ V)) @ W_2


@check("chowdhery2022palm/swiglu", tex=r"\operatorname{MLP}(x) = \left(\operatorname{Swish}(x W) \odot (x V)\right) W_2", evaluates=True)
def check_swiglu():
    """x: (5, 16), d_ff = 64. Against F.glu: Swish(xW) ⊙ xV = (xW ⊙ xV) ⊙ σ(xW) = glu([xW ⊙ xV, xW]); a plain
    GLU (sigmoid gate, no Swish) differs; three bias-free matrices are 1.5x a ReLU MLP's two."""
    d, d_ff = 16, 64
    g = seed(0)
    x, W, V, W_2 = randn(g, 5, d), randn(g, d, d_ff), randn(g, d, d_ff), randn(g, d_ff, d)
    a, b = x @ W, x @ V
    # MLP(x) = (Swish(xW) ⊙ xV) W_2, from the note's LaTeX with Swish = F.silu
    mlp = evaluate("chowdhery2022palm/swiglu", x=x, W=W, V=V, W_2=W_2, Swish=F.silu)
    close(mlp, F.glu(torch.cat([a * b, a], -1), dim=-1) @ W_2, "SwiGLU vs F.glu construction")
    close(swiglu(x, W, V, W_2), mlp, "the written-out swiglu used below")
    differs(F.glu(torch.cat([b, a], -1), dim=-1) @ W_2, swiglu(x, W, V, W_2), "sigmoid GLU vs SwiGLU")
    swiglu_params = sum(nn.Linear(a_, b_, bias=False, device=meta).weight.numel()
                        for a_, b_ in ((512, 2048), (512, 2048), (2048, 512)))
    relu_params = sum(nn.Linear(a_, b_, bias=False, device=meta).weight.numel() for a_, b_ in ((512, 2048), (2048, 512)))
    close(swiglu_params / relu_params, 1.5, "SwiGLU MLP / ReLU MLP parameters", rtol=0, atol=0)


def causal(n):
    return torch.ones(n, n, dtype=torch.bool, device=device()).tril()


@check("chowdhery2022palm/serial-attention", tex=r"h = x + \operatorname{Attention}(\operatorname{LayerNorm}(x))", evaluates=True)
@check("chowdhery2022palm/serial-mlp", tex=r"y = h + \operatorname{MLP}(\operatorname{LayerNorm}(h))", evaluates=True)
@check("chowdhery2022palm/parallel",
       tex=r"y = x + \operatorname{MLP}(\operatorname{LayerNorm}(x)) + \operatorname{Attention}(\operatorname{LayerNorm}(x))")
def check_serial_and_parallel_blocks():
    """x: (2, 10, 32), 4 heads, causal. The serial equations with the modules of a bias-free pre-LN
    nn.TransformerEncoderLayer equal that layer's output; the parallel block with the same weights (one norm
    for both branches) gives a different output."""
    d, heads, d_ff = 32, 4, 64
    seed(1)
    layer = nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation="relu", batch_first=True,
                                       norm_first=True, bias=False, dtype=f64, device=device())
    x = randn(seed(2), 2, 10, d)
    mask = ~causal(10)                                                  # True = not allowed (nn convention)

    def attention(u):
        return layer.self_attn(u, u, u, attn_mask=mask, need_weights=False)[0]

    def mlp(u):
        return layer.linear2(F.relu(layer.linear1(u)))

    with torch.no_grad():
        # h = x + Attention(LayerNorm(x)), from the note's LaTeX; with the MLP's output weights zeroed the layer
        # returns exactly h, an independent reference for the attention half
        h = evaluate("chowdhery2022palm/serial-attention", x=x, Attention=attention, LayerNorm=layer.norm1)
        attention_only = copy.deepcopy(layer)
        attention_only.linear2.weight.zero_()
        close(h, attention_only(x, src_mask=mask), "h vs the layer with its MLP switched off")
        # y = h + MLP(LayerNorm(h))
        serial = evaluate("chowdhery2022palm/serial-mlp", h=h, MLP=mlp, LayerNorm=layer.norm2)
        close(serial, layer(x, src_mask=mask), "serial block vs nn.TransformerEncoderLayer(norm_first=True)")
        # y = x + MLP(LayerNorm(x)) + Attention(LayerNorm(x)), the same weights (evaluated in the next check)
        parallel = x + mlp(layer.norm1(x)) + attention(layer.norm1(x))
        differs(parallel, serial, "parallel vs serial formulation, same weights")


@check("chowdhery2022palm/parallel",
       tex=r"y = x + \operatorname{MLP}(\operatorname{LayerNorm}(x)) + \operatorname{Attention}(\operatorname{LayerNorm}(x))",
       evaluates=True)
def check_parallel_block_fuses_input_projections():
    """PaLM-style parallel block on x: (2, 9, 32): bias-free LayerNorm, multi-query attention (4 heads of 8)
    and SwiGLU (d_ff = 128), computed branch by branch, equals the version that multiplies LayerNorm(x) ONCE by
    the fused matrix [W^Q | W^K | W^V | W | V] (32 × 304) and splits the result."""
    B, n, d, h, d_head, d_ff = 2, 9, 32, 4, 8, 128
    g = seed(5)
    x = randn(g, B, n, d)
    gain = 1 + 0.1 * randn(g, d)
    W_Q, W_K, W_V = randn(g, h, d, d_head), randn(g, d, d_head), randn(g, d, d_head)
    W_O, W, V, W_2 = randn(g, h * d_head, d), randn(g, d, d_ff), randn(g, d, d_ff), randn(g, d_ff, d)
    u = F.layer_norm(x, (d,), gain, None)                              # LayerNorm(x), no bias

    def attention_output(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, n, h * d_head) @ W_O

    # y = x + MLP(LayerNorm(x)) + Attention(LayerNorm(x)), from the note's LaTeX, branch by branch
    def attention(v):
        return multi_query(v, W_Q, W_K, W_V).transpose(1, 2).reshape(B, n, h * d_head) @ W_O

    y = evaluate("chowdhery2022palm/parallel", x=x, MLP=lambda v: swiglu(v, W, V, W_2), Attention=attention,
                 LayerNorm=lambda v: F.layer_norm(v, (d,), gain, None))
    fused = torch.cat([W_Q.permute(1, 0, 2).reshape(d, h * d_head), W_K, W_V, W, V], dim=1)
    q, k, v, a, b = (u @ fused).split([h * d_head, d_head, d_head, d_ff, d_ff], dim=-1)
    q = q.view(B, n, h, d_head).transpose(1, 2)
    k, v = k[:, None].expand(B, h, n, d_head), v[:, None].expand(B, h, n, d_head)
    y_fused = x + (F.silu(a) * b) @ W_2 + attention_output(q, k, v)
    close(y, y_fused, "parallel block vs one fused input projection")


def multi_query(X, W_Q, W_K, W_V):
    """X: (B, n, d_model), W_Q: (h, d_model, d_head), W_K, W_V: (d_model, d_head) shared -> (B, h, n, d_head)."""
    d_head = W_K.shape[1]
    n = X.shape[1]
    K, V = X @ W_K, X @ W_V                                             # one key/value head for all heads
    M = torch.zeros(n, n, dtype=X.dtype, device=X.device).masked_fill(~causal(n), float("-inf"))
    heads = []
    for i in range(1, W_Q.shape[0] + 1):
        # head_i = softmax(X W_i^Q (X W^K)ᵀ / √d_head + M) X W^V, evaluated from the note's LaTeX
        heads.append(evaluate("chowdhery2022palm/multi-query", X=X, M=M, i=i, d_head=d_head,
                              **{"W^Q": W_Q, "W^K": W_K, "W^V": W_V}))
    return torch.stack(heads, dim=1)


@check("chowdhery2022palm/multi-query",
       tex=r"\mathrm{head}_i = \operatorname{softmax}\left(\frac{X W_i^Q \left(X W^K\right)^\top}{\sqrt{d_{head}}} + M\right) X W^V",
       evaluates=True)
def check_multi_query_attention():
    """X: (2, 12, 32), h = 4 query heads of size 8, one shared key/value head. Against causal
    F.scaled_dot_product_attention with the key/value head repeated for every query head; full multi-head
    attention (per-head keys) differs."""
    B, n, d, h, d_head = 2, 12, 32, 4, 8
    g = seed(3)
    X, W_Q, W_K, W_V = randn(g, B, n, d), randn(g, h, d, d_head), randn(g, d, d_head), randn(g, d, d_head)
    ours = multi_query(X, W_Q, W_K, W_V)
    q = torch.stack([X @ W_i for W_i in W_Q], dim=1)                   # (B, h, n, d_head)
    k = (X @ W_K)[:, None].expand(B, h, n, d_head)
    v = (X @ W_V)[:, None].expand(B, h, n, d_head)
    close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), "MQA vs SDPA with shared K, V")
    W_K_per_head = randn(g, h, d, d_head)
    k_mha = torch.stack([X @ W for W in W_K_per_head], dim=1)
    differs(F.scaled_dot_product_attention(q, k_mha, v, is_causal=True), ours, "multi-head keys vs multi-query")


def rope(x, m):
    """x: (..., n, d_head), m: (n,) positions. Rotate pairs (2i, 2i+1) by m θ_i, θ_i = 10000^(−2i/d_head)."""
    d_head = x.shape[-1]
    theta = 10000.0 ** (-torch.arange(0, d_head, 2, dtype=f64, device=x.device) / d_head)
    angle = m.to(f64)[:, None] * theta[None, :]
    cos, sin = angle.cos(), angle.sin()
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    # [cos mθ, −sin mθ; sin mθ, cos mθ] (x_2i, x_2i+1)
    out[..., 0::2] = cos * even - sin * odd
    out[..., 1::2] = sin * even + cos * odd
    return out


@check("chowdhery2022palm/rope",
       tex=r"\operatorname{RoPE}(x, m)_{(2i,\, 2i+1)} = \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\ \sin m\theta_i & \cos m\theta_i \end{pmatrix} \begin{pmatrix} x_{2i} \\ x_{2i+1} \end{pmatrix}",
       evaluates=True)
def check_rope():
    """q, k: (20, 16). The rotation against complex multiplication (x_2i + i x_2i+1)·e^{i m θ_i}; norms are
    kept; RoPE(q, m)ᵀ RoPE(k, n) is unchanged when both positions shift by 37 (depends only on m − n)."""
    n, d_head = 20, 16
    g = seed(4)
    q, k = randn(g, n, d_head), randn(g, n, d_head)
    m = torch.arange(n, device=device())
    theta = 10000.0 ** (-torch.arange(0, d_head, 2, dtype=f64, device=device()) / d_head)
    as_complex = torch.view_as_complex(q.reshape(n, d_head // 2, 2).contiguous())
    rotated = as_complex * torch.polar(torch.ones_like(theta)[None, :].expand(n, -1), m[:, None].to(f64) * theta)
    close(rope(q, m), torch.view_as_real(rotated).reshape(n, d_head), "rotation vs complex multiplication")
    # RoPE(x, m)_(2i, 2i+1) = [cos mθ_i  −sin mθ_i; sin mθ_i  cos mθ_i] (x_2i, x_2i+1), from the note's LaTeX for
    # every position m and pair i (indices from 0, as the paper counts them)
    note = torch.stack([torch.cat([evaluate_with("chowdhery2022palm/rope", {"x": q[p], "m": p, "theta": theta, "i": i},
                                                 index_base=0) for i in range(d_head // 2)]) for p in range(n)])
    close(note, torch.view_as_real(rotated).reshape(n, d_head), "the note's rotation vs complex multiplication")
    close(rope(q, m).norm(dim=-1), q.norm(dim=-1), "norms preserved")
    logits = rope(q, m) @ rope(k, m).T
    close(rope(q, m + 37) @ rope(k, m + 37).T, logits, "logits depend only on m − n")
    differs(q @ k.T, logits, "RoPE changes the logits")


def palm_count(n_layer, d_model, h, d_head=256, n_vocab=256_000):
    """One bias-free layer (per-head Q, shared K and V, output projection, SwiGLU MLP, one LayerNorm scale)
    built on the meta device, times n_layer; plus the tied embedding table and the final norm."""
    d_ff = 4 * d_model
    layer = [nn.Linear(d_model, h * d_head, bias=False, device=meta),     # W^Q for all heads
             nn.Linear(d_model, d_head, bias=False, device=meta),         # shared W^K
             nn.Linear(d_model, d_head, bias=False, device=meta),         # shared W^V
             nn.Linear(h * d_head, d_model, bias=False, device=meta),     # output projection
             nn.Linear(d_model, d_ff, bias=False, device=meta),           # W
             nn.Linear(d_model, d_ff, bias=False, device=meta),           # V
             nn.Linear(d_ff, d_model, bias=False, device=meta),           # W_2
             nn.LayerNorm(d_model, bias=False, device=meta)]
    per_layer = sum(p.numel() for mod in layer for p in mod.parameters())
    mlp = sum(mod.weight.numel() for mod in layer[4:7])
    shared = [nn.Embedding(n_vocab, d_model, _weight=torch.empty(n_vocab, d_model, device=meta)),
              nn.LayerNorm(d_model, bias=False, device=meta)]
    return n_layer * per_layer + sum(p.numel() for mod in shared for p in mod.parameters()), n_layer * mlp


@check("chowdhery2022palm/param-count",
       tex=r"P = n_{vocab} \cdot d_{model} + n_{layer} \cdot \left(2 \cdot d_{model} \cdot h \cdot d_{head} + 2 \cdot d_{model} \cdot d_{head} + 3 \cdot d_{model} \cdot d_{ff} + d_{model}\right) + d_{model}",
       evaluates=True)
def check_parameter_counts():
    """8B, 62B, 540B: the note's formula against meta modules; the table's 8.63B, 62.50B, 540.36B; MLP share
    ≈ 89%, embedding < 1%; multi-query saves ≈ 52B parameters at 540B."""
    for n_layer, d_model, h, stated in ((32, 4096, 16, 8.63e9), (64, 8192, 32, 62.50e9), (118, 18432, 48, 540.36e9)):
        counted, mlp = palm_count(n_layer, d_model, h)
        P = evaluate("chowdhery2022palm/param-count", n_vocab=256_000, d_model=d_model, n_layer=n_layer, h=h,
                     d_head=256, d_ff=4 * d_model)
        close(P, counted, f"{n_layer}-layer PaLM: formula vs modules", rtol=0, atol=0)
        close(round(counted / 1e7) * 1e7, stated, f"{n_layer}-layer PaLM ≈ {stated:.5g}", rtol=1e-12, atol=0)
    counted, mlp = palm_count(118, 18432, 48)
    close(mlp / counted, 0.89, "MLP share of PaLM 540B", rtol=0, atol=0.005)
    share = 256_000 * 18432 / counted
    close(min(share, 0.01), share, "embedding share < 1%", rtol=0, atol=0)
    saving = 118 * (2 * 18432 * 48 * 256 - 2 * 18432 * 256)
    close(saving / 1e9, 52, "multi-query saving at 540B ≈ 52B", rtol=0, atol=0.5)


if __name__ == "__main__":
    run_checks(__name__)
