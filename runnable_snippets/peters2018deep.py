"""Checks for notes/peters2018deep.md: the forward and backward LM factorisations, the biLM objective, and
ELMo's softmax-weighted, γ-scaled layer mix.

References: a tiny biLM (shared token embedding Θ_x and softmax Θ_s, separate forward and backward nn.LSTM
stacks) whose conditionals are recomputed from scratch on each prefix / suffix, against one teacher-forced
pass per direction scored with F.cross_entropy; brute-force normalisation over all sequences; torch.softmax
and torch.einsum for the layer mix.
"""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
BOUNDARY = 0     # <S> before the sentence for the forward LM, </S> after it for the backward LM; never a target


def tiny_bilm(V=7, d=6, L=2):
    """Θ_x: nn.Embedding(V, d); forward and backward stacks of L single-layer nn.LSTM(d, d); Θ_s: nn.Linear(d, V)."""
    seed(0)
    parts = dict(theta_x=nn.Embedding(V, d), theta_s=nn.Linear(d, V),
                 forward=nn.ModuleList(nn.LSTM(d, d, batch_first=True) for _ in range(L)),
                 backward=nn.ModuleList(nn.LSTM(d, d, batch_first=True) for _ in range(L)))
    return {k: m.to(device(), f64) for k, m in parts.items()}


def run_stack(stack, inputs):
    """inputs: (B, n, d) -> the list of layer outputs [layer 1, ..., layer L], each (B, n, d)."""
    layers, h = [], inputs
    for lstm in stack:
        h, _ = lstm(h)
        layers.append(h)
    return layers


def log_softmax_top(m, stack, tokens):
    """tokens: (B, n) fed in the given order -> log-softmax over the vocabulary from the top layer, (B, n, V)."""
    logits = m["theta_s"](run_stack(m[stack], m["theta_x"](tokens))[-1])
    logits[..., BOUNDARY] = float("-inf")                       # the boundary token is never predicted
    return torch.log_softmax(logits, dim=-1)


def teacher_forced(m, t):
    """Summed log-likelihoods (forward, backward) of t: (B, N) in one pass per direction, via F.cross_entropy."""
    boundary = torch.full_like(t[:, :1], BOUNDARY)
    fwd_in = torch.cat([boundary, t[:, :-1]], dim=1)            # predict t_k from <S>, t_1..t_{k-1}
    bwd_in = torch.cat([boundary, t.flip(1)[:, :-1]], dim=1)    # predict t_k from </S>, t_N..t_{k+1}
    fwd = -F.cross_entropy(log_softmax_top(m, "forward", fwd_in).transpose(1, 2), t, reduction="none").sum(1)
    bwd = -F.cross_entropy(log_softmax_top(m, "backward", bwd_in).transpose(1, 2), t.flip(1), reduction="none").sum(1)
    return fwd, bwd


def flat(module):
    """A module's parameters as one vector (how Θ_x, Θ_LSTM, Θ_s are passed to the note's p)."""
    return torch.nn.utils.parameters_to_vector(module.parameters())


def unflat(module, theta):
    """The inverse of flat: {name: tensor} for torch.func.functional_call."""
    out, at = {}, 0
    for name, parameter in module.named_parameters():
        out[name] = theta[at:at + parameter.numel()].view_as(parameter)
        at += parameter.numel()
    return out


def conditional(m, stack):
    """p(t_k | context; Θ_x, Θ_LSTM, Θ_s): the stack run from scratch on the boundary token and the context
    (read towards t_k: the prefix as is, the suffix reversed), with the given parameters when passed."""
    call = torch.func.functional_call

    def p(t_k, context, *theta):
        theta_x, theta_lstm, theta_s = theta or (flat(m["theta_x"]), flat(m[stack]), flat(m["theta_s"]))
        context = context.long() if stack == "forward" else context.long().flip(0)
        tokens = torch.cat([torch.tensor([BOUNDARY], device=device()), context])[None]
        h = call(m["theta_x"], unflat(m["theta_x"], theta_x), (tokens,))
        lstm = unflat(m[stack], theta_lstm)
        for j, layer in enumerate(m[stack]):
            h, _ = call(layer, {k[len(f"{j}."):]: v for k, v in lstm.items() if k.startswith(f"{j}.")}, (h,))
        logits = call(m["theta_s"], unflat(m["theta_s"], theta_s), (h[0, -1],))
        logits[BOUNDARY] = float("-inf")                        # the boundary token is never predicted
        return torch.softmax(logits, dim=-1)[t_k.long()]
    return p


@check("peters2018deep/forward-lm", tex=r"p(t_1, t_2, \ldots, t_N) = \prod_{k=1}^{N} p(t_k \mid t_1, t_2, \ldots, t_{k-1})",
       evaluates=True)
@check("peters2018deep/backward-lm", tex=r"p(t_1, t_2, \ldots, t_N) = \prod_{k=1}^{N} p(t_k \mid t_{k+1}, t_{k+2}, \ldots, t_N)",
       evaluates=True)
@check("peters2018deep/bilm-objective",
       tex=r"\sum_{k=1}^{N} \left( \log p(t_k \mid t_1, \ldots, t_{k-1}; \Theta_x, \overrightarrow{\Theta}_{LSTM}, \Theta_s) + \log p(t_k \mid t_{k+1}, \ldots, t_N; \Theta_x, \overleftarrow{\Theta}_{LSTM}, \Theta_s) \right)",
       evaluates=True)
def check_bilm_objective_against_cross_entropy():
    """t: (1, 6). Each forward conditional is recomputed by running the forward stack on <S>, t_1..t_{k-1} only,
    each backward one on </S>, t_N..t_{k+1} only; their log-sum equals the teacher-forced F.cross_entropy
    sums, and the biLM objective is their sum. Over all 6^3 sequences both directions sum to 1, and they
    are different distributions."""
    m = tiny_bilm()
    t = torch.randint(1, 7, (1, 6), generator=seed(1)).to(device())
    N = t.shape[1]
    with torch.no_grad():
        forward_terms, backward_terms = [], []
        for k in range(N):                                      # 0-based k: token t_{k+1}
            prefix = torch.cat([torch.tensor([[BOUNDARY]], device=device()), t[:, :k]], dim=1)
            forward_terms.append(log_softmax_top(m, "forward", prefix)[0, -1, t[0, k]])     # log p(t_k | t_<k)
            suffix = torch.cat([torch.tensor([[BOUNDARY]], device=device()), t[:, k + 1:].flip(1)], dim=1)
            backward_terms.append(log_softmax_top(m, "backward", suffix)[0, -1, t[0, k]])   # log p(t_k | t_>k)
        fwd, bwd = teacher_forced(m, t)
        close(sum(forward_terms), fwd[0], "forward LM: Σ_k log p(t_k | t_<k)")
        close(sum(backward_terms), bwd[0], "backward LM: Σ_k log p(t_k | t_>k)")
        # p(t_1, …, t_N) = Π_k p(t_k | t_1, t_2, …, t_{k−1}), each conditional recomputed from its prefix
        forward_lm = evaluate("peters2018deep/forward-lm", t=t[0], N=N, p=conditional(m, "forward"))
        close(forward_lm, fwd[0].exp(), "forward LM: Π_k p(t_k | t_1..t_{k-1}) vs the teacher-forced pass")
        # p(t_1, …, t_N) = Π_k p(t_k | t_{k+1}, t_{k+2}, …, t_N), each from its suffix
        backward_lm = evaluate("peters2018deep/backward-lm", t=t[0], N=N, p=conditional(m, "backward"))
        close(backward_lm, bwd[0].exp(), "backward LM: Π_k p(t_k | t_{k+1}..t_N) vs the teacher-forced pass")
        # Σ_k ( log p(t_k | t_1..t_{k−1}; Θ_x, →Θ_LSTM, Θ_s) + log p(t_k | t_{k+1}..t_N; Θ_x, ←Θ_LSTM, Θ_s) ),
        # one p with the two directions' LSTM parameters passed after the semicolon
        both = {"forward": conditional(m, "forward"), "backward": conditional(m, "backward")}
        shared = (flat(m["theta_x"]), flat(m["forward"]), flat(m["backward"]), flat(m["theta_s"]))
        p = lambda t_k, context, theta_x, theta_lstm, theta_s: both[  # noqa: E731
            "forward" if theta_lstm.shape == shared[1].shape and bool((theta_lstm == shared[1]).all()) else "backward"
        ](t_k, context, theta_x, theta_lstm, theta_s)
        objective = evaluate("peters2018deep/bilm-objective", t=t[0], N=N, p=p, Theta_x=shared[0],
                             Thetaright_LSTM=shared[1], Thetaleft_LSTM=shared[2], Theta_s=shared[3])
        close(objective, fwd[0] + bwd[0], "biLM objective vs the two teacher-forced passes")

        every = torch.tensor(list(itertools.product(range(1, 7), repeat=3)), device=device())   # (216, 3)
        fwd_all, bwd_all = teacher_forced(m, every)
        close(fwd_all.exp().sum(), 1.0, "forward LM sums to 1 over all length-3 sequences")
        close(bwd_all.exp().sum(), 1.0, "backward LM sums to 1 over all length-3 sequences")
        differs(fwd_all.exp(), bwd_all.exp(), "forward and backward LMs are separately parameterised models")


def elmo_explicit(h, w, gamma):
    """h: (L+1, B, N, D) biLM layers, w: (L+1,), γ scalar -> (B, N, D), written as the note's two formulas."""
    # s_j = exp(w_j) / Σ_i exp(w_i)
    s = torch.exp(w) / torch.exp(w).sum()
    # ELMo_k = γ Σ_j s_j h_{k,j}
    return gamma * sum(s[j] * h[j] for j in range(h.shape[0])), s


@check("peters2018deep/elmo", tex=r"\mathrm{ELMo}_k^{task} = \gamma^{task} \sum_{j=0}^{L} s_j^{task} \, h_{k,j}^{LM}", evaluates=True)
@check("peters2018deep/layer-weights", tex=r"s_j^{task} = \frac{\exp(w_j)}{\sum_{i=0}^{L} \exp(w_i)}", evaluates=True)
def check_layer_mix_against_softmax_and_einsum():
    """Layers taken from the tiny biLM (L=2, D=2d=12): h_{k,0} = [x_k; x_k], h_{k,j} = [→h_{k,j}; ←h_{k,j}] with the
    backward states re-aligned to positions k. The mix against γ · einsum(softmax(w), h); s against
    torch.softmax (non-negative, sums to 1); with every layer equal to c the result is γ c; and the top layer
    alone (w = (−40, −40, 40)) is a special case."""
    m = tiny_bilm()
    g = seed(2)
    t = torch.randint(1, 7, (3, 5), generator=g).to(device())
    with torch.no_grad():
        x = m["theta_x"](t)
        forward_layers = run_stack(m["forward"], x)
        backward_layers = [h.flip(1) for h in run_stack(m["backward"], x.flip(1))]
        h = torch.stack([torch.cat([x, x], -1)] + [torch.cat([f, b], -1) for f, b in zip(forward_layers, backward_layers)])
    w, gamma = torch.randn(3, generator=g, dtype=f64).to(device()), 0.7
    elmo, s = elmo_explicit(h, w, gamma)
    close(s, torch.softmax(w, dim=0), "s = softmax(w)")
    # s_j = exp(w_j) / Σ_{i=0}^{L} exp(w_i), the note's formula with layers counted from 0
    s_note = torch.stack([evaluate_with("peters2018deep/layer-weights", {"w": w, "L": 2, "j": j}, index_base=0)
                          for j in range(3)])
    close(s_note, torch.softmax(w, dim=0), "s_j evaluated from the note vs torch.softmax")
    close(s.sum(), 1.0, "Σ_j s_j = 1")
    close(elmo, gamma * torch.einsum("j,jbnd->bnd", torch.softmax(w, dim=0), h), "γ Σ_j s_j h_{k,j}")
    # ELMo_k^task = γ^task Σ_{j=0}^{L} s_j^task h_{k,j}^LM, evaluated from the note's LaTeX at every position k
    h_LM = h.permute(2, 0, 1, 3)                                            # (N, L+1, B, D): axes k, j
    elmo_note = torch.stack([evaluate_with("peters2018deep/elmo", {"gamma^task": gamma, "s^task": s_note, "h^LM": h_LM,
                                                                   "L": 2, "k": k}, index_base=0)
                             for k in range(h.shape[2])], dim=1)
    close(elmo_note, gamma * torch.einsum("j,jbnd->bnd", torch.softmax(w, dim=0), h), "ELMo_k from the note vs γ · einsum(softmax(w), h)")
    c = torch.randn(12, generator=g, dtype=f64).to(device())
    constant = c.expand(3, 1, 1, 12)
    close(elmo_explicit(constant, w, gamma)[0][0, 0], gamma * c, "constant layers: γ Σ_j s_j c = γ c")
    top_only, _ = elmo_explicit(h, torch.tensor([-40.0, -40.0, 40.0], dtype=f64, device=device()), 1.0)
    close(top_only, h[-1], "w selecting the top layer gives h_{k,L}")


if __name__ == "__main__":
    run_checks(__name__)
