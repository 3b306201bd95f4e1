"""Checks for notes/semi-supervised-learning.md: the total loss, FixMatch's thresholded pseudo-label loss,
the entropy and its logit gradient, UDA's KL consistency loss and its gradient, sharpening, and Mean
Teacher's EMA of the weights.

References: F.cross_entropy (reduction='sum' with ignore_index; per-sample weights), F.kl_div,
torch.distributions.Categorical.entropy, autograd, F.softmax with a temperature, and
torch.optim.swa_utils.AveragedModel with get_ema_multi_avg_fn.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from harness import check, close, device, differs, evaluate, evaluate_with, holds, run_checks, seed

f64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


@check("semi-supervised-learning/total-loss", tex=r"L = L_s + \lambda_u L_u", evaluates=True)
@check("semi-supervised-learning/pseudo-label-loss",
       tex=r"L_u = \frac{1}{\mu B} \sum_{b=1}^{\mu B} \mathbb{1}\left[\max_k q_b(k) \ge \tau\right] H\left(\hat y_b,\, p_\theta\left(\cdot \mid \mathcal{A}(u_b)\right)\right)",
       evaluates=True)
def check_fixmatch_loss():
    """B = 4 labelled, μ = 7, K = 5. Logits on the weak (z_weak) and strong (z_strong) views: (μB, K).
    L_u against F.cross_entropy(reduction='sum', ignore_index) / μB; the default 'mean' over the kept samples
    differs. L against one F.cross_entropy over labelled + unlabelled samples with per-sample weights."""
    g = seed(0)
    B, mu, K, tau, lambda_u = 4, 7, 5, 0.95, 1.0
    z_lab = randn(g, B, K)
    y = torch.randint(0, K, (B,), generator=g).to(device())
    z_weak = 4 * randn(g, mu * B, K)
    z_strong = z_weak + 2 * randn(g, mu * B, K)
    q = torch.softmax(z_weak, -1).detach()                          # q_b = p_θ(·|α(u_b)), no gradient
    confidence, y_hat = q.max(-1)                                    # max_k q_b(k), ŷ_b = argmax_k q_b(k)
    mask = (confidence >= tau).to(f64)                               # 1[max_k q_b(k) ≥ τ]
    kept = int(mask.sum())
    close(float(0 < kept < mu * B), 1.0, f"the threshold keeps some samples and drops others ({kept} of {mu * B})")
    H = -F.log_softmax(z_strong, -1).gather(1, y_hat[:, None])[:, 0]
    ignored = torch.where(mask.bool(), y_hat, torch.full_like(y_hat, -100))
    reference = F.cross_entropy(z_strong, ignored, ignore_index=-100, reduction="sum") / (mu * B)
    close((mask * H).sum() / (mu * B), reference, "Σ_b 1[...] (−log p(ŷ_b)) / μB vs F.cross_entropy(sum, ignore_index) / μB")
    # L_u = 1/(μB) Σ_{b=1}^{μB} 1[max_k q_b(k) ≥ τ] H(ŷ_b, p_θ(· | A(u_b))): u_b the b-th unlabelled example (its
    # row), A(u_b) its strong view (here its logits z_strong[b]), p_θ(· | ·) the softmax over them, q_b(k) the
    # weak view's class probabilities and H(ŷ, p) = −log p(ŷ) as torch's nll_loss
    L_u = evaluate_with("semi-supervised-learning/pseudo-label-loss", {
        "mu": mu, "B": B, "tau": tau, "yhat": y_hat, "u": torch.arange(mu * B, device=device()),
        "q": [lambda k, b=b: q[b, k.long() - 1] for b in range(mu * B)],
        "A": lambda u_b: z_strong[u_b.long()], "p_theta": lambda _, view: torch.softmax(view, -1),
        "H": lambda label, p: F.nll_loss(p.log()[None], label.long()[None])}, indices={"k": range(1, K + 1)})
    close(L_u, reference, "L_u vs F.cross_entropy(sum, ignore_index) / μB")
    differs(F.cross_entropy(z_strong, ignored, ignore_index=-100), L_u,
            "torch's default mean (over kept samples only) vs L_u")
    # L = L_s + λ_u L_u, evaluated from the note
    L_s = F.cross_entropy(z_lab, y)
    L = evaluate("semi-supervised-learning/total-loss", L_s=L_s, L_u=L_u, lambda_u=lambda_u)
    logits = torch.cat([z_lab, z_strong])
    targets = torch.cat([y, y_hat])
    weights = torch.cat([torch.full((B,), 1.0 / B, dtype=f64, device=device()), lambda_u * mask / (mu * B)])
    close(L.to(logits), (weights * F.cross_entropy(logits, targets, reduction="none")).sum(),
          "L vs one weighted cross-entropy over both batches")


@check("semi-supervised-learning/entropy", tex=r"H(p) = -\sum_{k=1}^{K} p(k) \log p(k)", evaluates=True)
@check("semi-supervised-learning/entropy-gradient",
       tex=r"\frac{\partial H(p)}{\partial z_k} = -p(k) \left(\log p(k) + H(p)\right)", evaluates=True)
def check_entropy_and_its_gradient():
    """z: (N_u = 6, K = 4). H(p) against Categorical(logits=z).entropy(); ∂H/∂z against autograd; one
    gradient-descent step on the mean entropy lowers it and raises the top class's probability. For the first two
    rows, both sides of the note's ∂H(p)/∂z_k (H the Categorical entropy of the distribution p, p(k) = softmax(z)_k,
    the left side by autograd through z) are evaluated for every k and the right side compared with autograd."""
    g = seed(1)
    z = randn(g, 6, 4).requires_grad_(True)
    p = torch.softmax(z, -1)
    # H(p) = −Σ_k p(k) log p(k), p(k) the probability of class k (1..K) in each of the 6 rows
    H = evaluate_with("semi-supervised-learning/entropy", {"p": lambda k: p[:, int(k) - 1], "K": 4}, elementwise=True)
    reference = torch.distributions.Categorical(logits=z).entropy()
    close(H, reference, "H(p) vs Categorical.entropy()")
    (grad,) = torch.autograd.grad(reference.sum(), z)
    p, H = p.detach(), H.detach()
    # ∂H/∂z_k = −p(k) (log p(k) + H(p))
    close(-p * (torch.log(p) + H[:, None]), grad, "∂H/∂z vs autograd")
    for row in range(2):
        z_row = z.detach()[row].clone().requires_grad_(True)
        p_row = torch.softmax(z_row, -1)
        distribution = {"p": lambda k: p_row[int(k) - 1], "z": z_row,
                        "H": lambda q: torch.distributions.Categorical(probs=torch.stack([q(k) for k in range(1, 5)])).entropy()}
        for k in range(1, 5):
            # ∂H(p)/∂z_k = −p(k) (log p(k) + H(p))
            holds("semi-supervised-learning/entropy-gradient", **distribution, k=k)
            note = evaluate("semi-supervised-learning/entropy-gradient", **distribution, k=k)
            close(note, grad[row, k - 1], f"the note's ∂H/∂z_{k} vs autograd of Categorical.entropy(), row {row}")
    stepped = z.detach() - 0.5 * grad
    close(float((torch.distributions.Categorical(logits=stepped).entropy() < H).all()), 1.0, "a step lowers H")
    close(float((torch.softmax(stepped, -1).max(-1).values > p.max(-1).values).all()), 1.0, "max p(k) rises")


@check("semi-supervised-learning/consistency",
       tex=r"L_u = \frac{1}{N_u} \sum_{i=1}^{N_u} D_{\mathrm{KL}}\left(p_{\tilde\theta}(\cdot \mid u_i) \,\|\, p_\theta(\cdot \mid \hat u_i)\right)",
       evaluates=True)
def check_uda_consistency_loss():
    """N_u = 5, K = 6; z: logits of the clean u_i (fixed copy θ̃, detached), z_hat: of the augmented û_i.
    L_u against F.kl_div(batchmean); its gradient w.r.t. z_hat against (p_θ(·|û) − p_θ̃(·|u)) / N_u;
    the clean branch gets no gradient."""
    g = seed(2)
    N_u, K = 5, 6
    z = randn(g, N_u, K).requires_grad_(True)
    z_hat = (z.detach() + 0.7 * randn(g, N_u, K)).requires_grad_(True)
    target = torch.softmax(z, -1).detach()                          # p_θ̃(·|u_i), stop-gradient
    log_p_hat = F.log_softmax(z_hat, -1)
    # L_u = 1/N_u Σ_{i=1}^{N_u} D_KL(p_θ̃(· | u_i) ‖ p_θ(· | û_i)): the model's outputs on u_i and û_i are the logits
    # z_i and ẑ_i, θ̃ a stop-gradient copy; D_KL from torch.distributions.kl_divergence
    L_u = evaluate("semi-supervised-learning/consistency", N_u=N_u, u=z, uhat=z_hat,
                   p_tildetheta=lambda _, u_i: torch.softmax(u_i, -1).detach(),
                   p_theta=lambda _, u_i: torch.softmax(u_i, -1),
                   D_KL=lambda p, q: torch.distributions.kl_divergence(torch.distributions.Categorical(probs=p),
                                                                       torch.distributions.Categorical(probs=q)))
    close(L_u, F.kl_div(log_p_hat, target, reduction="batchmean"), "L_u vs F.kl_div(batchmean)")
    grad_hat, grad_clean = torch.autograd.grad(L_u, [z_hat, z], allow_unused=True)
    close(grad_hat, (torch.softmax(z_hat, -1) - target).detach() / N_u, "∂L_u/∂ẑ = (p − p̃)/N_u")
    close(float(grad_clean is None), 1.0, "no gradient through the fixed copy θ̃")


@check("semi-supervised-learning/sharpen",
       tex=r"\mathrm{Sharpen}(p, T)_k = \frac{p(k)^{1/T}}{\sum_{j=1}^{K} p(j)^{1/T}}", evaluates=True)
def check_sharpening_is_a_softmax_temperature():
    """For p = softmax(z): Sharpen(p, T) = F.softmax(z / T); as T → 0 it tends to the one-hot argmax."""
    g = seed(3)
    z = 2 * randn(g, 7, 5)
    p = torch.softmax(z, -1)
    classes = torch.arange(1, 6)
    for T in (0.4, 1.0, 2.5):
        # Sharpen(p, T)_k = p(k)^{1/T} / Σ_j p(j)^{1/T}, every class k at once: p(k) is (5, 7), p(j) is (7,)
        sharpened = evaluate_with("semi-supervised-learning/sharpen", {"p": lambda k: p.T[k.long() - 1], "k": classes, "T": T,
                                                                      "K": 5}, elementwise=True).T
        close(sharpened, F.softmax(z / T, -1), f"Sharpen(p, T = {T}) vs softmax(z / T)")
    ratio = p / p.max(-1, keepdim=True).values                         # same formula, scaled to avoid 0/0
    cold = ratio ** (1 / 1e-3) / (ratio ** (1 / 1e-3)).sum(-1, keepdim=True)
    close(cold, F.one_hot(p.argmax(-1), 5).to(f64), "T → 0 gives the one-hot pseudo-label", atol=1e-6, rtol=0)


@check("semi-supervised-learning/mean-teacher",
       tex=r"\bar\theta_t = \alpha \bar\theta_{t-1} + (1 - \alpha) \theta_t", evaluates=True)
def check_mean_teacher_ema():
    """A student nn.Linear(4, 3) (15 weights as one vector) takes 6 SGD steps; the teacher from the note's
    formula (evaluated) matches AveragedModel(get_ema_multi_avg_fn(α)), which starts from the student's
    initial weights."""
    g = seed(4)
    alpha = 0.8
    student = nn.Linear(4, 3, dtype=f64).to(device())
    teacher = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(alpha))
    optimiser = torch.optim.SGD(student.parameters(), lr=0.5)
    theta_bar = parameters_to_vector(student.parameters()).detach().clone()   # θ̄_0 = θ_0
    teacher.update_parameters(student)                                          # AveragedModel copies at first
    x, y = randn(g, 16, 4), torch.randint(0, 3, (16,), generator=g).to(device())
    for t in range(1, 7):
        optimiser.zero_grad()
        F.cross_entropy(student(x), y).backward()
        optimiser.step()
        teacher.update_parameters(student)
        theta_t = parameters_to_vector(student.parameters()).detach()
        # θ̄_t = α θ̄_{t-1} + (1 − α) θ_t
        theta_bar = evaluate("semi-supervised-learning/mean-teacher",
                             **{"alpha": alpha, "thetabar_t-1": theta_bar, "theta_t": theta_t}).to(theta_t)
    close(theta_bar, parameters_to_vector(teacher.module.parameters()), "θ̄_6 vs AveragedModel with EMA")
    differs(theta_bar, theta_t, "teacher vs student weights")


if __name__ == "__main__":
    run_checks(__name__)
