"""Checks for notes/sutskever2014sequence.md: the decoder's chain-rule factorisation, the training objective,
gradient-norm clipping and the model's parameter count.

References: a small nn.LSTM encoder-decoder run step by step against the same decoder run teacher-forced
with F.cross_entropy; brute-force summation over every target sequence; torch.nn.utils.clip_grad_norm_;
and the 384M-parameter architecture built on device="meta".
"""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, evaluate, run_checks, seed

f64 = torch.float64
EOS = 0


def tiny_seq2seq(V_in=11, V_out=7, d=16, L=2):
    """Encoder and decoder nn.LSTM (separate weights, L layers, width d), embeddings and a softmax layer."""
    seed(0)
    parts = dict(src=nn.Embedding(V_in, d), tgt=nn.Embedding(V_out, d), enc=nn.LSTM(d, d, L, batch_first=True),
                 dec=nn.LSTM(d, d, L, batch_first=True), out=nn.Linear(d, V_out))
    return {k: m.to(device(), f64).eval() for k, m in parts.items()}


def encode(m, x):
    """x: (B, T) source ids -> v = the encoder's final (h, c), each (L, B, d)."""
    _, v = m["enc"](m["src"](x))
    return v


def teacher_forced_logits(m, v, y):
    """Decoder inputs are <EOS> (end of the source), y_1 .. y_{T'-1}; y: (B, T') -> logits (B, T', V_out)."""
    inputs = torch.cat([torch.full_like(y[:, :1], EOS), y[:, :-1]], dim=1)
    hidden, _ = m["dec"](m["tgt"](inputs), v)
    return m["out"](hidden)


def conditional(m):
    """p(y_t | v, y_1, …, y_{t−1}): the decoder run from scratch on <EOS>, y_1..y_{t−1} from the state v =
    stack(h, c), softmax over the target vocabulary."""
    def p(y_t, v, prefix):
        inputs = torch.cat([torch.tensor([EOS], device=device()), prefix.long()])[None]
        hidden, _ = m["dec"](m["tgt"](inputs), (v[0], v[1]))
        return torch.softmax(m["out"](hidden[0, -1]), dim=-1)[y_t.long()]
    return p


def step_by_step_probability(m, v, y):
    """Π_t p(y_t | v, y_1..y_{t-1}), one decoder step at a time with the LSTM state carried along; y: (T',)."""
    state, previous, product = v, torch.tensor([[EOS]], device=device()), torch.ones((), dtype=f64, device=device())
    for y_t in y.tolist():
        hidden, state = m["dec"](m["tgt"](previous), state)
        p_t = torch.softmax(m["out"](hidden[0, -1]), dim=-1)          # p(· | v, y_1..y_{t-1})
        product = product * p_t[y_t]
        previous = torch.tensor([[y_t]], device=device())
    return product


@check("sutskever2014sequence/factorisation",
       tex=r"p(y_1, \ldots, y_{T'} \mid x_1, \ldots, x_T) = \prod_{t=1}^{T'} p(y_t \mid v, y_1, \ldots, y_{t-1})",
       evaluates=True)
def check_factorisation_against_teacher_forced_cross_entropy():
    """Source x: (1, 6), target y: (1, 4) ending in <EOS>. The product of step-by-step conditionals equals
    exp(−Σ_t F.cross_entropy) of the teacher-forced run; and summed over all 7^3 targets of length 3 the
    product is 1 (each factor is a normalised distribution)."""
    m = tiny_seq2seq()
    g = seed(1)
    x = torch.randint(1, 11, (1, 6), generator=g).to(device())
    y = torch.tensor([[3, 5, 2, EOS]], device=device())
    with torch.no_grad():
        v = encode(m, x)
        # p(y_1, …, y_T' | x_1, …, x_T) = Π_{t=1}^{T'} p(y_t | v, y_1, …, y_{t−1})
        joint = evaluate("sutskever2014sequence/factorisation", y=y[0], v=torch.stack(v), **{"T'": y.shape[1]},
                         p=conditional(m))
        nll = F.cross_entropy(teacher_forced_logits(m, v, y)[0], y[0], reduction="sum")
        close(joint, torch.exp(-nll), "Π_t p(y_t | v, y_<t) vs exp(−Σ cross-entropy)")
        targets = torch.tensor(list(itertools.product(range(7), repeat=3)), device=device())   # (343, 3)
        v_all = tuple(s.expand(-1, len(targets), -1).contiguous() for s in v)
        log_p = -F.cross_entropy(teacher_forced_logits(m, v_all, targets).transpose(1, 2), targets,
                                 reduction="none").sum(1)
        close(log_p.exp().sum(), 1.0, "Σ over all length-3 targets of the product")
        close(step_by_step_probability(m, v, targets[100]), log_p[100].exp(), "one enumerated target, step by step")


@check("sutskever2014sequence/objective", tex=r"\frac{1}{|\mathcal{S}|} \sum_{(T, S) \in \mathcal{S}} \log p(T \mid S)",
       evaluates=True)
def check_objective_against_padded_cross_entropy():
    """Three (source, target) pairs of different lengths: the mean of log p(T | S), each from the
    step-by-step product, against −(token cross-entropy summed with padding ignored) / |S|."""
    m = tiny_seq2seq()
    g = seed(2)
    pairs = [(torch.randint(1, 11, (n,), generator=g), torch.cat([torch.randint(1, 7, (k,), generator=g),
                                                                   torch.tensor([EOS])])) for n, k in [(4, 2), (7, 5), (5, 3)]]
    with torch.no_grad():
        # (1/|S|) Σ_{(T, S) ∈ S} log p(T | S), p(T | S) the decoder's step-by-step product from S's encoding
        p = lambda T, S: step_by_step_probability(m, encode(m, S.long()[None]), T.long())  # noqa: E731
        objective = evaluate("sutskever2014sequence/objective", S=[(T.to(device()), S.to(device())) for S, T in pairs],
                             p=p)
        total = 0.0
        width = max(len(T) for _, T in pairs)
        for S, T in pairs:                                   # one padded row per pair, padding ignored
            padded = torch.full((1, width), -100)
            padded[0, :len(T)] = T
            padded = padded.to(device())
            logits = teacher_forced_logits(m, encode(m, S[None].to(device())), padded.clamp_min(0))
            total = total + F.cross_entropy(logits[0], padded[0], ignore_index=-100, reduction="sum")
    close(objective, -total / len(pairs), "mean log p(T | S)")


@check("sutskever2014sequence/gradient-clipping",
       tex=r"g \leftarrow \begin{cases} 5\, g / s & \text{if } s > 5 \\ g & \text{otherwise} \end{cases}", evaluates=True)
def check_clipping_against_clip_grad_norm():
    """Gradients of a batch of 128 (mean loss, i.e. summed gradient / 128) scaled to norms 2, 5 and 40:
    the note's rule, evaluated on each parameter's gradient, against torch.nn.utils.clip_grad_norm_(max_norm=5) over the whole parameter list."""
    g = seed(3)
    shapes = [(30, 20), (20,), (7, 30)]
    for target_norm in (2.0, 5.0, 40.0):
        grads = [torch.randn(s, generator=g, dtype=f64) for s in shapes]
        scale = target_norm / torch.sqrt(sum((x ** 2).sum() for x in grads))
        grads = [x * scale for x in grads]
        params = [torch.zeros(s, dtype=f64, requires_grad=True) for s in shapes]
        for p, x in zip(params, grads):
            p.grad = x.clone()
        torch.nn.utils.clip_grad_norm_(params, max_norm=5.0)
        s = torch.sqrt(sum((x ** 2).sum() for x in grads))   # s = ‖g‖₂ over all parameters
        # g ← 5 g / s if s > 5, else g
        clipped = [evaluate("sutskever2014sequence/gradient-clipping", g=x, s=s) for x in grads]
        for p, x in zip(params, clipped):
            close(x, p.grad, f"clipped gradient (‖g‖ = {target_norm:g})", rtol=1e-6, atol=1e-9)   # torch adds 1e-6 to s


@check("sutskever2014sequence/parameter-count",
       tex=r"P = (V_{in} + V_{out}) \cdot d + 2 \cdot L \cdot 8 \cdot d^2 + d \cdot V_{out}", evaluates=True)
def check_parameter_count_on_meta_device():
    """The paper's model on device="meta": embeddings 160k×1000 and 80k×1000, two 4-layer nn.LSTM(1000, 1000)
    and nn.Linear(1000, 80000). Weights (no biases) equal P exactly; with biases the total is 384M and the
    LSTM weights are 64M (32M each), as the paper states."""
    V_in, V_out, d, L = 160_000, 80_000, 1000, 4
    meta = torch.device("meta")
    embeddings = [nn.Embedding.from_pretrained(torch.empty(V, d, device=meta), freeze=False) for V in (V_in, V_out)]
    encoder, decoder = nn.LSTM(d, d, L, device=meta), nn.LSTM(d, d, L, device=meta)
    softmax = nn.Linear(d, V_out, device=meta)
    modules = embeddings + [encoder, decoder, softmax]
    weights = sum(p.numel() for m in modules for n, p in m.named_parameters() if "bias" not in n)
    everything = sum(p.numel() for m in modules for p in m.parameters())
    lstm_weights = [sum(p.numel() for n, p in m.named_parameters() if "weight" in n) for m in (encoder, decoder)]
    # P = (V_in + V_out) d + 2 · L · 8 d² + d V_out
    close(evaluate("sutskever2014sequence/parameter-count", V_in=V_in, V_out=V_out, d=d, L=L), weights,
          "weights counted on the modules", rtol=0, atol=0)
    close(everything, 384e6, "384M parameters (paper)", rtol=1e-3)
    close(sum(lstm_weights), 64e6, "64M recurrent weights (paper)", rtol=0, atol=0)
    close(lstm_weights[0], 32e6, "32M in the encoder LSTM (paper)", rtol=0, atol=0)


if __name__ == "__main__":
    run_checks(__name__)
