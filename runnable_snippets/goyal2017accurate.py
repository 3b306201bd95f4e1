"""Checks for notes/goyal2017accurate.md: the linear scaling rule (reference rate, and k small SGD steps vs one
large step, both against torch.optim.SGD), gradual warmup plus step decay against SequentialLR(LinearLR,
MultiStepLR), the weight-decay step and the momentum forms against torch.optim.SGD, and the seed's schedule.
"""
import warnings

import torch

from harness import check, close, device, differs, evaluate, evaluate_with, figure, run_checks, seed

f64 = torch.float64


def linear_regression(g, batches=8, n=16, d=5):
    """(X, y): (batches, n, d) inputs and (batches, n) targets for l(x, w) = ½ (xᵀw − y)²."""
    X = torch.randn(batches, n, d, generator=g, dtype=f64).to(device())
    y = torch.randn(batches, n, generator=g, dtype=f64).to(device())
    return X, y


def grad_sum(X, y, w):
    """Σ_x ∇l(x, w) over the rows of X: (n, d) -> (d,)."""
    return X.T @ (X @ w - y)


def loss(x, w):
    """l(x, w) = ½ (xᵀw − y)² for one example x = (input, target): (d + 1,), as the note's l(x, w) takes it."""
    return 0.5 * (x[:-1] @ w - x[-1]) ** 2


def examples(X, y):
    """The minibatch 𝓑 as rows x = (input, target): (n, d), (n,) -> (n, d + 1)."""
    return torch.cat([X, y[..., None]], -1)


def sgd_steps(w0, batches, lr, **options):
    """torch.optim.SGD on the mean loss of each (X, y) in turn; returns the final weights."""
    w = w0.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w], lr=lr, **options)
    for X, y in batches:
        optimizer.zero_grad()
        (0.5 * ((X @ w - y) ** 2).mean()).backward()
        optimizer.step()
    return w.detach()


@check("goyal2017accurate/linear-scaling", tex=r"\eta = 0.1 \cdot \frac{kn}{256}", evaluates=True)
@check("goyal2017accurate/small-steps",
       tex=r"w_{t+k} = w_t - \eta \frac{1}{n} \sum_{j<k} \sum_{x \in \mathcal{B}_j} \nabla l(x, w_{t+j})", evaluates=True)
@check("goyal2017accurate/large-step",
       tex=r"\hat w_{t+1} = w_t - \hat\eta \frac{1}{kn} \sum_{j<k} \sum_{x \in \mathcal{B}_j} \nabla l(x, w_t)",
       evaluates=True)
def check_linear_scaling_rule():
    """Linear least squares, k = 8 minibatches of n = 16, d = 5. Both update formulas equal torch.optim.SGD
    (mean loss); with η̂ = kη the one large step matches the k small steps up to O(η²): the gap shrinks
    100× when η shrinks 10×. The reference rate is 0.1 at kn = 256 and 3.2 at kn = 8192. Both formulas are also
    evaluated from the note's LaTeX (j from 0, ∇l(x, w) by autograd with respect to w, per example x of 𝓑_j): the
    small-step sum over torch's own iterates w_{t+j} lands on torch's w_{t+k}, the large step on torch's one step."""
    close(evaluate("goyal2017accurate/linear-scaling", k=1, n=256), 0.1, "η at kn = 256")
    close(evaluate("goyal2017accurate/linear-scaling", k=256, n=32), 3.2, "η at kn = 8192 (256 workers × 32)")
    g = seed(0)
    k, n = 8, 16
    X, y = linear_regression(g, k, n)
    w_t = torch.randn(5, generator=g, dtype=f64).to(device())
    gaps = []
    for eta in (1e-2, 1e-3):
        w = w_t.clone()
        for j in range(k):
            # w_{t+k} = w_t − η (1/n) Σ_{j<k} Σ_{x∈B_j} ∇l(x, w_{t+j}), one minibatch at a time
            w = w - eta / n * grad_sum(X[j], y[j], w)
        close(w, sgd_steps(w_t, zip(X, y), eta), f"k small steps vs torch SGD (η = {eta:g})")
        eta_hat = k * eta
        # ŵ_{t+1} = w_t − η̂ (1/(kn)) Σ_{j<k} Σ_{x∈B_j} ∇l(x, w_t)
        w_hat = w_t - eta_hat / (k * n) * sum(grad_sum(X[j], y[j], w_t) for j in range(k))
        close(w_hat, sgd_steps(w_t, [(X.reshape(k * n, -1), y.reshape(-1))], eta_hat),
              f"one large step vs torch SGD (η̂ = {eta_hat:g})")
        close(w_hat, w, f"large step ≈ k small steps (η = {eta:g})", atol=50 * eta ** 2, rtol=0)
        minibatches = examples(X, y)                                          # 𝓑_j: (k, n, d + 1)
        iterates = [w_t]                                                      # w_{t+j}: torch SGD's, j = 0..k
        for j in range(k):
            iterates.append(sgd_steps(iterates[-1], [(X[j], y[j])], eta))
        # w_{t+k} = w_t − η (1/n) Σ_{j<k} Σ_{x∈𝓑_j} ∇l(x, w_{t+j})
        w_note = evaluate_with("goyal2017accurate/small-steps", {"w": torch.stack(iterates), "t": 0, "k": k, "n": n,
                                                                 "eta": eta, "B": minibatches, "l": loss},
                               index_base=0, gradient_argument=2)
        close(w_note, iterates[-1], f"the note's k small steps vs torch SGD's w_(t+k) (η = {eta:g})")
        # ŵ_{t+1} = w_t − η̂ (1/(kn)) Σ_{j<k} Σ_{x∈𝓑_j} ∇l(x, w_t)
        w_hat_note = evaluate_with("goyal2017accurate/large-step", {"w_t": w_t, "k": k, "n": n, "etahat": eta_hat,
                                                                    "B": minibatches, "l": loss},
                                   index_base=0, gradient_argument=2)
        close(w_hat_note, sgd_steps(w_t, [(X.reshape(k * n, -1), y.reshape(-1))], eta_hat),
              f"the note's large step vs torch SGD (η̂ = {eta_hat:g})")
        gaps.append(float((w_hat - w).norm()))
    close(gaps[0] / gaps[1], 100.0, "gap is second order in η", rtol=0.1)


def goyal_schedule(eta, k, iterations_per_epoch, epochs=90):
    """Rates set by SequentialLR(LinearLR warmup over 5 epochs, MultiStepLR /10 at epochs 30, 60, 80)
    on SGD with base rate kη, one value per iteration."""
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=k * eta, momentum=0.9)
    warmup = 5 * iterations_per_epoch
    linear = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / k, end_factor=1.0, total_iters=warmup)
    steps = torch.optim.lr_scheduler.MultiStepLR(optimizer, [e * iterations_per_epoch - warmup for e in (30, 60, 80)], 0.1)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [linear, steps], milestones=[warmup])
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs * iterations_per_epoch):
            rates.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
    return torch.tensor(rates, dtype=f64)


@check("goyal2017accurate/warmup", tex=r"\eta(e) = \eta + (k - 1)\, \eta \cdot \frac{e}{5}", evaluates=True)
@check("goyal2017accurate/misstatement-schedule",
       tex=r"\eta = \begin{cases} \frac{\eta_{base}}{5} \cdot \frac{epoch}{5}, & epoch \le 5 \\ \eta_{base} \left(1 - \frac{epoch}{total\ epochs}\right), & epoch > 5 \end{cases}")
def check_warmup_and_step_schedule():
    """kn = 8192 (k = 32), η = 0.1, 90 epochs of 10 iterations: the note's warmup (then /10 at epochs 30, 60, 80)
    against SequentialLR(LinearLR(start_factor=1/k), MultiStepLR); the seed's schedule peaks at 0.0933."""
    eta, k, ipe = 0.1, 32, 10
    rates = goyal_schedule(eta, k, ipe)
    e = torch.arange(90 * ipe, dtype=f64) / ipe                 # epoch, fractional per iteration
    # η(e) = η + (k − 1) η e / 5 during the first 5 epochs
    warm = evaluate("goyal2017accurate/warmup", eta=eta, k=k, e=e[e < 5])
    close(warm, rates[e < 5], "warmup vs LinearLR", rtol=1e-9, atol=1e-12)
    close(evaluate("goyal2017accurate/warmup", eta=eta, k=k, e=5.0), k * eta, "η(5) = kη = 3.2")
    decay = (e >= 30).to(f64) + (e >= 60).to(f64) + (e >= 80).to(f64)
    after = k * eta * 0.1 ** decay                               # kη, divided by 10 at epochs 30, 60, 80
    close(after[e >= 5], rates[e >= 5], "step decay vs MultiStepLR", rtol=1e-9, atol=1e-12)
    # the seed's piecewise formula, per whole epoch 1..90
    epoch = torch.arange(1, 91, dtype=f64)
    eta_base = 0.1
    post = torch.where(epoch <= 5, eta_base / 5 * epoch / 5, eta_base * (1 - epoch / 90))
    close(post[4], 0.02, "seed's formula at epoch 5")
    close(post[5], 0.1 * (1 - 6 / 90), "seed's formula at epoch 6 (a jump to 0.0933)")
    close(post.max(), post[5], "its maximum is at epoch 6, below η_base")
    differs(post, rates[(epoch.long() - 1) * ipe], "seed's schedule vs linear warmup + step decay", at_least=0.1)
    every = slice(None, None, 2)
    figure("warmup-schedule", [
        {"type": "scatter", "name": "Goyal et al.: warmup 0.1 → 3.2, then /10 at 30, 60, 80", "x": e[every], "y": rates[every]},
        {"type": "scatter", "name": "seed post's formula (η_base = 0.1)", "x": epoch, "y": post, "line": {"dash": "dash"}},
    ], {"xaxis": {"title": {"text": "epoch"}}, "yaxis": {"title": {"text": "learning rate"}, "type": "log"},
        "height": 320, "margin": {"l": 70, "r": 10, "t": 10, "b": 50}, "legend": {"x": 0.35, "y": 0.98}})


@check("goyal2017accurate/weight-decay-step",
       tex=r"w_{t+1} = w_t - \eta \lambda w_t - \eta \frac{1}{n} \sum_{x \in \mathcal{B}} \nabla l(x, w_t)", evaluates=True)
def check_weight_decay_step_and_loss_scaling():
    """One step on n = 16 examples with λ = 1e-4 against torch.optim.SGD(weight_decay=λ); scaling the loss by
    k = 8 differs from scaling the rate by k (the decay term is not scaled), and agrees when λ = 0. The step is
    the note's, evaluated from its LaTeX (∇l(x, w_t) by autograd with respect to w, l's second argument)."""
    g = seed(1)
    X, y = linear_regression(g, 1, 16)
    w_t = torch.randn(5, generator=g, dtype=f64).to(device())
    eta, lam, k, n = 0.05, 1e-4, 8, 16
    # w_{t+1} = w_t − η λ w_t − η (1/n) Σ_{x∈𝓑} ∇l(x, w_t)
    w_next = evaluate_with("goyal2017accurate/weight-decay-step", {"w_t": w_t, "eta": eta, "lambda": lam, "n": n,
                                                                   "B": examples(X[0], y[0]), "l": loss},
                           gradient_argument=2)
    close(w_next, sgd_steps(w_t, zip(X, y), eta, weight_decay=lam), "weight-decay step vs torch SGD")
    scaled_rate = sgd_steps(w_t, zip(X, y), k * eta, weight_decay=lam)
    # loss × k (via √k X and √k y, so ½ (xᵀw − y)² grows k-fold): the decay term η λ w_t is not scaled
    scaled_loss = sgd_steps(w_t, zip(k ** 0.5 * X, k ** 0.5 * y), eta, weight_decay=lam)
    differs(scaled_loss, scaled_rate, "loss × k vs learning rate × k (λ > 0)", at_least=1e-6)
    close(scaled_loss - scaled_rate, (k - 1) * eta * lam * w_t, "the difference is (k − 1) η λ w_t")
    close(sgd_steps(w_t, zip(k ** 0.5 * X, k ** 0.5 * y), eta), sgd_steps(w_t, zip(X, y), k * eta),
          "without weight decay the two are the same")


@check("goyal2017accurate/momentum",
       tex=r"u_{t+1} = m u_t + \frac{1}{n} \sum_{x \in \mathcal{B}} \nabla l(x, w_t), \qquad w_{t+1} = w_t - \eta u_{t+1}",
       evaluates=True)
@check("goyal2017accurate/momentum-correction",
       tex=r"v_{t+1} = m \frac{\eta_{t+1}}{\eta_t} v_t + \eta_{t+1} \frac{1}{n} \sum_{x \in \mathcal{B}} \nabla l(x, w_t)",
       evaluates=True)
def check_momentum_forms_under_warmup():
    """8 steps with m = 0.9 while the rate warms up from 0.01 to 0.08: the u-form equals torch.optim.SGD
    (momentum, its lr changed every step); the v-form matches it only with the momentum correction, evaluated from
    the note's LaTeX (∇l(x, w_t) by autograd with respect to w)."""
    g = seed(2)
    X, y = linear_regression(g, 8, 16)
    w0 = torch.randn(5, generator=g, dtype=f64).to(device())
    m, n = 0.9, 16
    etas = [0.01 * (t + 1) for t in range(8)]
    w = w0.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([w], lr=etas[0], momentum=m)
    w_u, u = w0.clone(), torch.zeros_like(w0)
    w_v, v = w0.clone(), torch.zeros_like(w0)
    w_plain, v_plain = w0.clone(), torch.zeros_like(w0)
    for t, (Xb, yb) in enumerate(zip(X, y)):
        eta, eta_prev = etas[t], etas[max(t - 1, 0)]
        # u_{t+1} = m u_t + (1/n) Σ ∇l(x, w_t);  w_{t+1} = w_t − η u_{t+1}
        u = m * u + grad_sum(Xb, yb, w_u) / n
        w_u = evaluate("goyal2017accurate/momentum", w_t=w_u, eta=eta, **{"u_t+1": u})      # second clause
        # v_{t+1} = m (η_{t+1}/η_t) v_t + η_{t+1} (1/n) Σ ∇l(x, w_t);  w_{t+1} = w_t − v_{t+1}
        v = evaluate_with("goyal2017accurate/momentum-correction",
                          {"m": m, "eta_t+1": eta, "eta_t": eta_prev, "v_t": v, "n": n, "B": examples(Xb, yb), "l": loss,
                           "w_t": w_v}, gradient_argument=2).to(w_v)
        w_v = w_v - v
        v_plain = m * v_plain + eta * grad_sum(Xb, yb, w_plain) / n     # without the correction
        w_plain = w_plain - v_plain
        for group in optimizer.param_groups:
            group["lr"] = eta
        optimizer.zero_grad()
        (0.5 * ((Xb @ w - yb) ** 2).mean()).backward()
        optimizer.step()
    close(w_u, w.detach(), "u-form vs torch.optim.SGD(momentum=0.9)")
    close(w_v, w.detach(), "v-form with momentum correction vs torch SGD")
    differs(w_plain, w.detach(), "v-form without the correction", at_least=1e-4)


if __name__ == "__main__":
    run_checks(__name__)
