"""Checks for notes/vaswani2017attention.md: attention, multi-head attention, post-LN sub-layers, the FFN,
sinusoidal positional encodings and the warmup learning-rate schedule.

References: F.scaled_dot_product_attention, nn.MultiheadAttention (per-head weights copied into its fused
in_proj_weight), nn.LayerNorm, nn.TransformerEncoderLayer (post-LN, norm_first=False), an explicit
Linear-ReLU-Linear module, a differently written sinusoid table, and torch.optim.lr_scheduler.LambdaLR.
"""
import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, figure, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def attention(Q, K, V, mask=None):
    """Q: (..., n_q, d_k), K: (..., n_k, d_k), V: (..., n_k, d_v) -> (..., n_q, d_v)."""
    d_k = Q.shape[-1]
    logits = Q @ K.transpose(-2, -1) / math.sqrt(d_k)
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    # softmax over the key axis, written out: exp(l) / Σ_j exp(l_j)
    weights = (logits - logits.amax(-1, keepdim=True)).exp()
    weights = weights / weights.sum(-1, keepdim=True)
    # Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V
    return weights @ V


def multi_head(Q, K, V, W_Q, W_K, W_V, W_O):
    """Q: (B, n_q, d_model), K, V: (B, n_k, d_model); W_Q, W_K: (h, d_model, d_k), W_V: (h, d_model, d_v),
    W_O: (h d_v, d_model) -> (B, n_q, d_model)."""
    # head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V), evaluated from the note's LaTeX for i = 1..h
    heads = [evaluate("vaswani2017attention/head", Q=Q, K=K, V=V, i=i, Attention=attention,
                      **{"W^Q": W_Q, "W^K": W_K, "W^V": W_V}) for i in range(1, W_Q.shape[0] + 1)]
    # MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O
    return torch.cat(heads, dim=-1) @ W_O


def layer_norm(z, gain, bias, eps=1e-5):
    """z: (..., d_model); normalise over the feature axis with the biased variance."""
    mean = z.mean(-1, keepdim=True)
    var = ((z - mean) ** 2).mean(-1, keepdim=True)
    return gain * (z - mean) / torch.sqrt(var + eps) + bias


def ffn(x, W_1, b_1, W_2, b_2):
    """x: (..., d_model), W_1: (d_model, d_ff), W_2: (d_ff, d_model)."""
    # FFN(x) = max(0, x W_1 + b_1) W_2 + b_2
    return torch.clamp_min(x @ W_1 + b_1, 0.0) @ W_2 + b_2


@check("vaswani2017attention/scaled-dot-product",
       tex=r"\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V",
       evaluates=True)
def check_scaled_dot_product_attention():
    """Q: (2, 3, 5, 16), K: (2, 3, 7, 16), V: (2, 3, 7, 12): the note's formula, evaluated with torch.softmax
    over the key axis, against F.scaled_dot_product_attention; the same with the decoder's causal mask
    (n_q = n_k = 7) through the written-out attention."""
    g = seed(0)
    Q, K, V = randn(g, 2, 3, 5, 16), randn(g, 2, 3, 7, 16), randn(g, 2, 3, 7, 12)
    # Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V
    output = evaluate("vaswani2017attention/scaled-dot-product", Q=Q, K=K, V=V, d_k=16,
                      softmax=lambda logits: torch.softmax(logits, dim=-1))
    close(output, F.scaled_dot_product_attention(Q, K, V), "softmax(QKᵀ/√d_k)V")
    Q = randn(g, 2, 3, 7, 16)
    causal = torch.ones(7, 7, dtype=torch.bool, device=device()).tril()   # logits with j > i set to −∞
    close(attention(Q, K, V, causal), F.scaled_dot_product_attention(Q, K, V, is_causal=True), "causal attention")


@check("vaswani2017attention/multi-head",
       tex=r"\operatorname{MultiHead}(Q, K, V) = \operatorname{Concat}(\mathrm{head}_1, \ldots, \mathrm{head}_h)\, W^O")
@check("vaswani2017attention/head", tex=r"\mathrm{head}_i = \operatorname{Attention}\left(Q W_i^Q,\; K W_i^K,\; V W_i^V\right)",
       evaluates=True)
def check_multi_head_matches_nn_multihead_attention():
    """Encoder-decoder attention, d_model=32, h=4, d_k=d_v=8, no biases (as the paper writes it): per-head
    W_i^Q, W_i^K, W_i^V (32×8) and W^O (32×32) copied into nn.MultiheadAttention's fused layout; each head_i
    is the note's LaTeX evaluated with W^Q, W^K, W^V (h, 32, 8) indexed by i."""
    d_model, h = 32, 4
    d_k = d_v = d_model // h
    g = seed(1)
    W_Q, W_K, W_V = randn(g, h, d_model, d_k), randn(g, h, d_model, d_k), randn(g, h, d_model, d_v)
    W_O = randn(g, h * d_v, d_model)
    Q, K = randn(g, 2, 5, d_model), randn(g, 2, 7, d_model)   # decoder queries, encoder keys = values
    mha = nn.MultiheadAttention(d_model, h, bias=False, batch_first=True, dtype=f64, device=device())
    with torch.no_grad():
        # torch computes q = x @ W_q.T with W_q (out, in); head i reads output rows i·d_k ... (i+1)·d_k − 1
        fused = [torch.cat([W[i].T for i in range(h)], dim=0) for W in (W_Q, W_K, W_V)]
        mha.in_proj_weight.copy_(torch.cat(fused, dim=0))    # (3 d_model, d_model)
        mha.out_proj.weight.copy_(W_O.T)                     # out = concat @ W_O
        cross, _ = mha(Q, K, K, need_weights=False)
        self_attention, _ = mha(K, K, K, need_weights=False)
    close(multi_head(Q, K, K, W_Q, W_K, W_V, W_O), cross, "cross-attention MultiHead(Q, K, V)")
    close(multi_head(K, K, K, W_Q, W_K, W_V, W_O), self_attention, "self-attention MultiHead(x, x, x)")


@check("vaswani2017attention/sublayer", tex=r"\mathrm{output} = \operatorname{LayerNorm}\left(x + \operatorname{Sublayer}(x)\right)",
       evaluates=True)
def check_post_ln_sublayer():
    """x: (2, 6, 16). LayerNorm(x + FFN(x)) with a hand-written LayerNorm against nn.LayerNorm; the
    pre-LN form x + LayerNorm(Sublayer(x)) gives a different output."""
    d_model, d_ff = 16, 64
    g = seed(2)
    x = randn(g, 2, 6, d_model)
    W_1, b_1, W_2, b_2 = randn(g, d_model, d_ff), randn(g, d_ff), randn(g, d_ff, d_model), randn(g, d_model)
    gain, bias = 1 + 0.1 * randn(g, d_model), 0.1 * randn(g, d_model)
    sublayer = ffn(x, W_1, b_1, W_2, b_2)
    norm = nn.LayerNorm(d_model, dtype=f64, device=device())
    with torch.no_grad():
        norm.weight.copy_(gain)
        norm.bias.copy_(bias)
    # output = LayerNorm(x + Sublayer(x)), evaluated with nn.LayerNorm and the FFN as the callables
    with torch.no_grad():
        output = evaluate("vaswani2017attention/sublayer", x=x, LayerNorm=norm,
                          Sublayer=lambda z: ffn(z, W_1, b_1, W_2, b_2))
    close(output, layer_norm(x + sublayer, gain, bias), "LayerNorm(x + Sublayer(x)) against the LayerNorm written out")
    differs(x + layer_norm(sublayer, gain, bias), output, "pre-LN x + LayerNorm(Sublayer(x)) vs post-LN")


@check("vaswani2017attention/sublayer", tex=r"\mathrm{output} = \operatorname{LayerNorm}\left(x + \operatorname{Sublayer}(x)\right)",
       evaluates=True)
@check("vaswani2017attention/ffn", tex=r"\operatorname{FFN}(x) = \max(0,\; x W_1 + b_1)\, W_2 + b_2")
@check("vaswani2017attention/multi-head",
       tex=r"\operatorname{MultiHead}(Q, K, V) = \operatorname{Concat}(\mathrm{head}_1, \ldots, \mathrm{head}_h)\, W^O")
def check_encoder_layer_matches_nn_transformer_encoder_layer():
    """One encoder layer built from the note's equations (self-attention sub-layer, then FFN sub-layer,
    each post-LN) against nn.TransformerEncoderLayer(norm_first=False, relu, dropout 0) with its weights
    read out; attention biases zeroed as in the paper. x: (2, 9, 32), h=4, d_ff=64."""
    d_model, h, d_ff = 32, 4, 64
    d_k = d_model // h
    seed(3)
    layer = nn.TransformerEncoderLayer(d_model, h, d_ff, dropout=0.0, activation="relu", batch_first=True,
                                       norm_first=False, dtype=f64, device=device())
    with torch.no_grad():
        layer.self_attn.in_proj_bias.zero_()
        layer.self_attn.out_proj.bias.zero_()
    x = randn(seed(4), 2, 9, d_model)
    W_q, W_k, W_v = layer.self_attn.in_proj_weight.detach().chunk(3, dim=0)
    per_head = [torch.stack([W[i * d_k:(i + 1) * d_k].T for i in range(h)]) for W in (W_q, W_k, W_v)]
    W_O = layer.self_attn.out_proj.weight.detach().T
    norm1, norm2 = layer.norm1, layer.norm2
    W_1, b_1 = layer.linear1.weight.detach().T, layer.linear1.bias.detach()
    W_2, b_2 = layer.linear2.weight.detach().T, layer.linear2.bias.detach()

    with torch.no_grad():
        # output = LayerNorm(x + Sublayer(x)), once with attention, once with the FFN
        x1 = evaluate("vaswani2017attention/sublayer", x=x, LayerNorm=norm1,
                      Sublayer=lambda z: multi_head(z, z, z, *per_head, W_O))
        x2 = evaluate("vaswani2017attention/sublayer", x=x1, LayerNorm=norm2, Sublayer=lambda z: ffn(z, W_1, b_1, W_2, b_2))
        close(x2, layer(x), "encoder layer output")


@check("vaswani2017attention/ffn", tex=r"\operatorname{FFN}(x) = \max(0,\; x W_1 + b_1)\, W_2 + b_2", evaluates=True)
def check_ffn_matches_two_layer_module():
    """x: (3, 10, 32), d_ff=128: against nn.Sequential(Linear, ReLU, Linear); applied position by
    position it gives the same result (same weights at every position)."""
    d_model, d_ff = 32, 128
    seed(5)
    module = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model)).to(device(), f64)
    W_1, b_1 = module[0].weight.detach().T, module[0].bias.detach()     # (d_model, d_ff), (d_ff,)
    W_2, b_2 = module[2].weight.detach().T, module[2].bias.detach()     # (d_ff, d_model), (d_model,)
    x = randn(seed(6), 3, 10, d_model)
    with torch.no_grad():
        reference = module(x)
    # FFN(x) = max(0, x W_1 + b_1) W_2 + b_2
    close(evaluate("vaswani2017attention/ffn", x=x, W_1=W_1, b_1=b_1, W_2=W_2, b_2=b_2), reference, "FFN(x)")
    by_position = torch.stack([ffn(x[:, t], W_1, b_1, W_2, b_2) for t in range(x.shape[1])], dim=1)
    close(by_position, reference, "FFN applied to each position separately")


@check("vaswani2017attention/pe-sin", tex=r"PE_{(\mathit{pos},\, 2i)} = \sin\left(\frac{\mathit{pos}}{10000^{2i/d_{model}}}\right)",
       evaluates=True)
@check("vaswani2017attention/pe-cos", tex=r"PE_{(\mathit{pos},\, 2i+1)} = \cos\left(\frac{\mathit{pos}}{10000^{2i/d_{model}}}\right)",
       evaluates=True)
def check_sinusoidal_positional_encoding():
    """The note's formulas for pos = 0..199 and i = 0..255 (d_model = 512) against a table built the usual
    PyTorch way (frequencies exp(−2i ln(10000)/d_model), even columns sin, odd columns cos); and the
    note's claim that PE_{pos+k} is a rotation of PE_pos per frequency pair."""
    d_model, n = 512, 200
    pos = torch.arange(n, dtype=f64)[:, None]                              # (200, 1)
    i = torch.arange(d_model // 2, dtype=f64)[None, :]                     # (1, 256)
    frequency = torch.exp(torch.arange(0, d_model, 2, dtype=f64) * (-math.log(10000.0) / d_model))
    table = torch.zeros(n, d_model, dtype=f64)
    table[:, 0::2] = torch.sin(pos * frequency)
    table[:, 1::2] = torch.cos(pos * frequency)
    # PE_(pos, 2i) = sin(pos / 10000^{2i/d_model}),  PE_(pos, 2i+1) = cos(pos / 10000^{2i/d_model})
    close(evaluate("vaswani2017attention/pe-sin", pos=pos, i=i, d_model=d_model), table[:, 0::2], "PE(pos, 2i)")
    close(evaluate("vaswani2017attention/pe-cos", pos=pos, i=i, d_model=d_model), table[:, 1::2], "PE(pos, 2i+1)")
    k = 17
    c, s = torch.cos(k * frequency), torch.sin(k * frequency)
    sin_part, cos_part = table[:-k, 0::2], table[:-k, 1::2]
    close(table[k:, 0::2], sin_part * c + cos_part * s, "sin rows of PE_{pos+k} as a rotation of PE_pos")
    close(table[k:, 1::2], cos_part * c - sin_part * s, "cos rows of PE_{pos+k} as a rotation of PE_pos")


@check("vaswani2017attention/lr-schedule",
       tex=r"lrate = d_{model}^{-0.5} \cdot \min\left(step\_num^{-0.5},\; step\_num \cdot warmup\_steps^{-1.5}\right)",
       evaluates=True)
def check_lr_schedule_against_lambda_lr():
    """The note's formula for step_num = 1..12000 against the rates LambdaLR sets on Adam (β = (0.9, 0.98),
    ε = 1e-9) with a piecewise lambda (linear warmup, then inverse square root); peak at step 4000 ≈ 7.0e-4."""
    d_model, warmup_steps, steps = 512, 4000, 12000

    def piecewise(epoch):                 # LambdaLR's epoch 0 is step_num 1
        step_num = epoch + 1
        if step_num <= warmup_steps:
            return d_model ** -0.5 * warmup_steps ** -0.5 * step_num / warmup_steps
        return (d_model * step_num) ** -0.5

    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([parameter], lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, piecewise)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # stepping the scheduler without optimizer steps is intended here
        for _ in range(steps):
            rates.append(optimizer.param_groups[0]["lr"])
            scheduler.step()
    rates = torch.tensor(rates, dtype=f64)
    step_num = torch.arange(1, steps + 1, dtype=f64)
    lrate = evaluate("vaswani2017attention/lr-schedule", d_model=d_model, step_num=step_num, warmup_steps=warmup_steps)
    close(lrate, rates, "lrate for step_num = 1..12000")
    close(int(lrate.argmax()) + 1, warmup_steps, "step of the peak rate", atol=0, rtol=0)
    close(lrate.max(), 7.0e-4, "peak rate ≈ 7.0e-4", rtol=0.01)
    every = slice(None, None, 50)
    figure("lr-schedule", [{"type": "scatter", "name": "lrate (d_model = 512, warmup_steps = 4000)",
                            "x": step_num[every], "y": lrate[every]}],
           {"xaxis": {"title": {"text": "step_num"}}, "yaxis": {"title": {"text": "learning rate"}, "exponentformat": "e"},
            "height": 300, "margin": {"l": 70, "r": 10, "t": 10, "b": 50}, "showlegend": False})


if __name__ == "__main__":
    run_checks(__name__)
