"""Checks for notes/dai2015semi.md: the language-model and sequence-autoencoder pre-training objectives.

References: small nn.LSTM models evaluated step by step (each conditional a softmax over the vocabulary)
against one teacher-forced pass scored with F.cross_entropy; brute-force normalisation over all sequences;
and autograd showing the autoencoder's loss reaches the encoder only through v.
"""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, run_checks, seed

f64 = torch.float64
BOS = 0          # start symbol fed before x_1 (the vocabulary's other ids are ordinary tokens)


def modules(V=9, d=12):
    seed(0)
    parts = dict(embed=nn.Embedding(V, d), enc=nn.LSTM(d, d, batch_first=True), dec=nn.LSTM(d, d, batch_first=True),
                 out=nn.Linear(d, V))
    return {k: m.to(device(), f64) for k, m in parts.items()}


def stepwise_log_likelihood(m, x, state=None):
    """Σ_t log p(x_t | state, x_1..x_{t-1}) with the decoder LSTM run one token at a time; x: (T,)."""
    previous, total = torch.tensor([[BOS]], device=device()), 0.0
    for x_t in x.tolist():
        hidden, state = m["dec"](m["embed"](previous), state)
        total = total + torch.log_softmax(m["out"](hidden[0, -1]), dim=-1)[x_t]
        previous = torch.tensor([[x_t]], device=device())
    return total


def conditional(m):
    """The model's p(x_t | [v,] x_1, ..., x_{t-1}) as the note writes it: the decoder LSTM run from scratch on BOS
    and the context (from the encoder state v = stack(h_T, c_T) when given), softmax over the vocabulary."""
    def p(x_t, *given):
        *v, context = given
        state = (v[0][0], v[0][1]) if v else None
        inputs = torch.cat([torch.tensor([BOS], device=device()), context.long()])[None]
        hidden, _ = m["dec"](m["embed"](inputs), state)
        return torch.softmax(m["out"](hidden[0, -1]), dim=-1)[x_t.long()]
    return p


def teacher_forced_logits(m, x, state=None):
    """x: (B, T) -> logits (B, T, V) for predicting x_t from BOS, x_1..x_{t-1} in one pass."""
    inputs = torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], dim=1)
    hidden, _ = m["dec"](m["embed"](inputs), state)
    return m["out"](hidden)


@check("dai2015semi/lm-objective", tex=r"\mathcal{L}_{LM} = \sum_{t=1}^{T} \log p(x_t \mid x_1, \ldots, x_{t-1})",
       evaluates=True)
def check_lm_objective_against_cross_entropy():
    """x: (1, 10): the step-by-step sum of log-probabilities equals −F.cross_entropy(sum) of the teacher-forced
    pass; over all 8^3 sequences of length 3 the probabilities sum to 1."""
    m = modules()
    x = torch.randint(1, 9, (1, 10), generator=seed(1)).to(device())
    with torch.no_grad():
        # L_LM = Σ_{t=1}^{T} log p(x_t | x_1, …, x_{t−1}), each conditional recomputed from its prefix alone
        L_LM = evaluate("dai2015semi/lm-objective", x=x[0], T=x.shape[1], p=conditional(m))
        close(L_LM, -F.cross_entropy(teacher_forced_logits(m, x)[0], x[0], reduction="sum"), "L_LM")
        close(L_LM, stepwise_log_likelihood(m, x[0]), "L_LM vs one incremental decoder pass")
        every = torch.tensor(list(itertools.product(range(1, 9), repeat=3)), device=device())   # BOS never a target
        logits = teacher_forced_logits(m, every)
        logits[..., BOS] = float("-inf")                       # restrict the softmax to the 8 real tokens
        log_p = -F.cross_entropy(logits.transpose(1, 2), every, reduction="none").sum(1)
        close(log_p.exp().sum(), 1.0, "Σ over all length-3 sequences")


@check("dai2015semi/sa-objective", tex=r"\mathcal{L}_{SA} = \sum_{t=1}^{T} \log p(x_t \mid v, x_1, \ldots, x_{t-1})",
       evaluates=True)
def check_sa_objective_against_cross_entropy():
    """x: (1, 8). The encoder LSTM reads x into v = (h_T, c_T); the decoder reconstructs x from v. The
    step-by-step sum equals −F.cross_entropy(sum) of the teacher-forced pass; it differs from the LM's
    value (the decoder sees v); and its gradient reaches the encoder, all through v."""
    m = modules()
    x = torch.randint(1, 9, (1, 8), generator=seed(2)).to(device())
    _, v = m["enc"](m["embed"](x))                             # v: the encoder's final (h, c)
    # L_SA = Σ_{t=1}^{T} log p(x_t | v, x_1, …, x_{t−1}), v passed as stack(h_T, c_T)
    L_SA = evaluate("dai2015semi/sa-objective", x=x[0], T=x.shape[1], v=torch.stack(v), p=conditional(m))
    close(L_SA, -F.cross_entropy(teacher_forced_logits(m, x, v)[0], x[0], reduction="sum"), "L_SA")
    differs(L_SA, stepwise_log_likelihood(m, x[0]), "L_SA (decoder starts from v) vs L_LM (from zeros)")
    encoder_grads = torch.autograd.grad(L_SA, list(m["enc"].parameters()))
    v_grads = torch.autograd.grad(stepwise_log_likelihood(m, x[0], v), v)
    close(float(sum(g.abs().sum() for g in encoder_grads) > 0), 1.0, "the reconstruction loss trains the encoder",
          rtol=0, atol=0)
    close(float(sum(g.abs().sum() for g in v_grads) > 0), 1.0, "… through v", rtol=0, atol=0)


if __name__ == "__main__":
    run_checks(__name__)
