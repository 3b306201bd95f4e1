"""Checks for notes/khani2024bridging.md (knowledge distillation in online ranking): the student loss with a
separate auxiliary distillation head, and the logit gradients of log-loss and of MSE on a sigmoid output
(the poster remark that MSE on sigmoids is fine).

References: F.binary_cross_entropy_with_logits for the loss value; autograd for which parameters each
term reaches; the closed-form optimum of the one-logit ("direct") variant; autograd of
F.binary_cross_entropy_with_logits and of F.mse_loss(torch.sigmoid(s), t) against the note's own LaTeX.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, figure, run_checks, seed

lam = 0.5            # λ, the distillation weight


def logloss(target, p):
    """ℓ(target, p) = −[target·log p + (1 − target)·log(1 − p)], elementwise."""
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p))


@check("khani2024bridging/aux-distillation",
       tex=r"\mathcal{L} = \ell\left(y, \sigma(s)\right) + \lambda\, \ell\left(t, \sigma(s')\right)", evaluates=True)
def check_auxiliary_head_loss_and_where_its_gradients_go():
    """Student = shared bottom + main logit s + auxiliary logit s'. The loss value matches
    F.binary_cross_entropy_with_logits; the teacher term sends no gradient to the main head, the hard-label
    term none to the auxiliary head, and the shared bottom receives the sum of both."""
    g = seed(0)
    B, d_in, d_h = 64, 6, 5
    x = torch.randn(B, d_in, generator=g, dtype=torch.float64).to(device())
    y = torch.bernoulli(torch.full((B,), 0.3, dtype=torch.float64), generator=g).to(device())
    t = torch.rand(B, generator=g, dtype=torch.float64).to(device())                    # teacher probabilities
    W = torch.randn(d_h, d_in, generator=g, dtype=torch.float64).to(device()).requires_grad_(True)
    a = torch.randn(d_h, generator=g, dtype=torch.float64).to(device()).requires_grad_(True)   # main head
    b = torch.randn(d_h, generator=g, dtype=torch.float64).to(device()).requires_grad_(True)   # aux head
    h = torch.tanh(x @ W.T)
    s, s_aux = h @ a, h @ b
    # L = ℓ(y, σ(s)) + λ ℓ(t, σ(s')), evaluated from the note with ℓ the summed log loss
    def ell(target, p):
        return F.binary_cross_entropy(p, target, reduction="sum")
    L = evaluate("khani2024bridging/aux-distillation", ell=ell, sigma=torch.sigmoid, y=y, t=t, s=s,
                 **{"lambda": lam, "s'": s_aux})
    reference = (F.binary_cross_entropy_with_logits(s, y, reduction="sum")
                 + lam * F.binary_cross_entropy_with_logits(s_aux, t, reduction="sum"))
    close(L, reference, "L (the note's formula) against F.binary_cross_entropy_with_logits")
    hard = logloss(y, torch.sigmoid(s)).sum()
    distill = lam * logloss(t, torch.sigmoid(s_aux)).sum()
    close(hard + distill, reference, "the two terms, written out, against the same reference")

    dW_d, da_d, db_d = torch.autograd.grad(distill, (W, a, b), retain_graph=True, allow_unused=True)
    dW_h, da_h, db_h = torch.autograd.grad(hard, (W, a, b), retain_graph=True, allow_unused=True)
    zero = torch.zeros(d_h, dtype=torch.float64, device=device())
    close(da_d if da_d is not None else zero, zero, "teacher term: no gradient to the main (served) head")
    close(db_h if db_h is not None else zero, zero, "hard-label term: no gradient to the auxiliary head")
    (dW_total,) = torch.autograd.grad(hard + distill, (W,))
    close(dW_total, dW_h + dW_d, "shared bottom gets both terms' gradients")
    differs(dW_d, torch.zeros_like(dW_d), "the teacher does reach the shared bottom")


@check("khani2024bridging/aux-distillation",
       tex=r"\mathcal{L} = \ell\left(y, \sigma(s)\right) + \lambda\, \ell\left(t, \sigma(s')\right)")
def check_teacher_bias_stays_out_of_the_main_logit():
    """Free logits on a data set with click rate ȳ = 0.2 and a biased teacher t = 0.35: with separate heads
    the loss is stationary at σ(s) = ȳ and σ(s') = t; with one shared logit it is stationary at
    σ(s) = (ȳ + λt)/(1 + λ) instead, so the teacher's bias would move the served prediction."""
    y = torch.cat([torch.ones(20), torch.zeros(80)]).double().to(device())
    y_bar, t = y.mean(), torch.tensor(0.35, dtype=torch.float64, device=device())

    def grad_at(p, separate):
        s = torch.logit(p.clone()).requires_grad_(True)
        s_aux = torch.logit(t.clone()).requires_grad_(True)
        teacher_logit = s_aux if separate else s
        loss = logloss(y, torch.sigmoid(s)).sum() + lam * len(y) * logloss(t, torch.sigmoid(teacher_logit))
        return torch.autograd.grad(loss, (s, s_aux), allow_unused=True)

    ds, ds_aux = grad_at(y_bar, separate=True)
    close(ds, 0.0, "separate heads: ∂L/∂s = 0 at σ(s) = ȳ", atol=1e-10)
    close(ds_aux, 0.0, "separate heads: ∂L/∂s' = 0 at σ(s') = t", atol=1e-10)
    mixed = (y_bar + lam * t) / (1 + lam)
    (ds,) = [v for v in grad_at(mixed, separate=False) if v is not None]
    close(ds, 0.0, "one logit: stationary at (ȳ + λt)/(1 + λ)", atol=1e-10)
    (ds,) = [v for v in grad_at(y_bar, separate=False) if v is not None]
    differs(ds, 0.0, "one logit is not stationary at the true rate ȳ")


@check("khani2024bridging/grad-logloss",
       tex=r"\frac{\partial}{\partial s}\, \ell_{\mathrm{BCE}}\left(t, \sigma(s)\right) = p - t", evaluates=True)
@check("khani2024bridging/grad-mse-sigmoid",
       tex=r"\frac{\partial}{\partial s} \left(\sigma(s) - t\right)^2 = 2 (p - t) \cdot p \cdot (1 - p)", evaluates=True)
def check_logit_gradients_of_logloss_and_mse_on_sigmoid():
    """Both right-hand sides, evaluated from the note at p = σ(s), against autograd of
    F.binary_cross_entropy_with_logits and F.mse_loss(torch.sigmoid(s), t) over s ∈ [−8, 8], t = 0.3;
    both vanish at p = t; MSE's gradient nearly vanishes when the student is confidently wrong."""
    t = 0.3
    s = torch.linspace(-8, 8, 161, dtype=torch.float64, device=device()).requires_grad_(True)
    target = torch.full_like(s, t)
    (g_bce,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(s, target, reduction="sum"), s)
    (g_mse,) = torch.autograd.grad(F.mse_loss(torch.sigmoid(s), target, reduction="sum"), s)
    p = torch.sigmoid(s.detach())
    bce = evaluate("khani2024bridging/grad-logloss", p=p, t=t).to(p)
    mse = evaluate("khani2024bridging/grad-mse-sigmoid", p=p, t=t).to(p)
    close(bce, g_bce, "∂ logloss/∂s against autograd")
    close(mse, g_mse, "∂ (σ(s) − t)²/∂s against autograd")
    at_t = torch.logit(torch.tensor([t], dtype=torch.float64, device=device()))
    close(evaluate("khani2024bridging/grad-logloss", p=torch.sigmoid(at_t), t=t), [0.0], "logloss stationary at p = t", atol=1e-12)
    close(evaluate("khani2024bridging/grad-mse-sigmoid", p=torch.sigmoid(at_t), t=t), [0.0], "MSE stationary at p = t", atol=1e-12)
    differs(g_bce[0].abs(), g_mse[0].abs(), "at s = −8 logloss still pulls (|p − t| ≈ 0.3), MSE barely does", at_least=0.25)
    figure("distillation-gradients", [
        {"type": "scatter", "name": "логлосс: p − t", "x": s.detach(), "y": g_bce},
        {"type": "scatter", "name": "MSE на сигмоиде: 2(p − t)p(1 − p)", "x": s.detach(), "y": g_mse, "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "логит ученика s (метка учителя t = 0.3)"}},
        "yaxis": {"title": {"text": "∂L/∂s"}},
        "height": 320, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}})


if __name__ == "__main__":
    run_checks(__name__)
