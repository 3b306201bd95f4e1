"""Checks for notes/christiano2017deep.md: the Bradley–Terry preference probability over summed predicted
reward (Eq. 1), the cross-entropy preference loss, the 10%-random-answer noise model, and the
symmetric "common misstatement".

References: torch.sigmoid / torch.softmax of the segment returns, F.binary_cross_entropy_with_logits
(values and gradients), and a Monte Carlo simulation of the noisy human.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, run_checks, seed

k, obs_dim, act_dim, pairs = 6, 3, 2, 8


def reward_model(generator: torch.Generator):
    """r̂(o, a): a small tanh MLP on the concatenated (o, a) -> one reward per step, float64."""
    W_1 = torch.randn(obs_dim + act_dim, 16, generator=generator, dtype=torch.float64).to(device())
    W_2 = torch.randn(16, generator=generator, dtype=torch.float64).to(device())
    W_1.requires_grad_(True)
    W_2.requires_grad_(True)

    def r_hat(o, a):
        """o: (..., obs_dim), a: (..., act_dim) -> (...)."""
        return torch.tanh(torch.cat([o, a], -1) @ W_1) @ W_2 / 4
    return r_hat, [W_1, W_2]


def segments(generator: torch.Generator):
    """σ¹, σ²: observation (pairs, k, obs_dim) and action (pairs, k, act_dim) tensors for each side."""
    def one():
        return (torch.randn(pairs, k, obs_dim, generator=generator, dtype=torch.float64).to(device()),
                torch.randn(pairs, k, act_dim, generator=generator, dtype=torch.float64).to(device()))
    return one(), one()


def preference_probability(r_hat, sigma_1, sigma_2):
    """P̂[σ¹ ≻ σ²] evaluated from the note's Eq. 1: segments σ = (o, a) of k steps, (k, dim) each, or with a
    batch of pairs, (pairs, k, dim) -> (pairs,) (steps moved first, so o^j_t is step t of every pair)."""
    (o_1, a_1), (o_2, a_2) = [[z.movedim(-2, 0) for z in segment] for segment in (sigma_1, sigma_2)]
    # P̂[σ¹ ≻ σ²] = exp Σ_t r̂(o¹_t, a¹_t) / (exp Σ_t r̂(o¹_t, a¹_t) + exp Σ_t r̂(o²_t, a²_t))
    return evaluate("christiano2017deep/preference-probability", rhat=r_hat,
                    **{"o^1": o_1, "a^1": a_1, "o^2": o_2, "a^2": a_2})


@check("christiano2017deep/preference-probability",
       tex=r"\hat{P}\left[\sigma^1 \succ \sigma^2\right] = \frac{\exp \sum_{t} \hat{r}\left(o^1_t, a^1_t\right)}{\exp \sum_{t} \hat{r}\left(o^1_t, a^1_t\right) + \exp \sum_{t} \hat{r}\left(o^2_t, a^2_t\right)}",
       evaluates=True)
def check_bradley_terry_is_sigmoid_of_return_difference():
    """P̂ = sigmoid(R¹ − R²) = softmax([R¹, R²])_1; P̂[1≻2] + P̂[2≻1] = 1; a constant added to every
    per-step reward leaves P̂ unchanged (only the difference of returns matters)."""
    g = seed(0)
    r_hat, _ = reward_model(g)
    sigma_1, sigma_2 = segments(g)
    with torch.no_grad():
        P_12 = preference_probability(r_hat, sigma_1, sigma_2)
        P_21 = preference_probability(r_hat, sigma_2, sigma_1)
        shifted = preference_probability(lambda o, a: r_hat(o, a) + 3.0, sigma_1, sigma_2)
        R_1, R_2 = r_hat(*sigma_1).sum(-1), r_hat(*sigma_2).sum(-1)      # R^j = Σ_t r̂(o^j_t, a^j_t)
    close(P_12, torch.sigmoid(R_1 - R_2), "P̂[σ¹ ≻ σ²] against sigmoid(R¹ − R²)")
    close(P_12, torch.softmax(torch.stack([R_1, R_2], -1), -1)[..., 0], "P̂ against softmax over the two returns")
    close(P_12 + P_21, torch.ones_like(P_12), "P̂[1≻2] + P̂[2≻1] = 1")
    close(shifted, P_12, "P̂ unchanged by a constant shift of r̂")


@check("christiano2017deep/preference-loss",
       tex=r"\operatorname{loss}(\hat{r}) = - \sum_{(\sigma^1, \sigma^2, \mu) \in \mathcal{D}} \left[ \mu(1) \log \hat{P}\left[\sigma^1 \succ \sigma^2\right] + \mu(2) \log \hat{P}\left[\sigma^2 \succ \sigma^1\right] \right]",
       evaluates=True)
def check_preference_loss_is_bce_with_logits():
    """The loss over a database with μ(1) ∈ {0, ½, 1} (μ(2) = 1 − μ(1)) equals
    F.binary_cross_entropy_with_logits(R¹ − R², μ(1), reduction="sum"), in value and in its
    gradient with respect to the reward model's weights."""
    g = seed(1)
    r_hat, weights = reward_model(g)
    sigma_1, sigma_2 = segments(g)
    mu_1 = torch.tensor([1.0, 0.0, 0.5, 1.0, 0.0, 0.5, 1.0, 1.0], dtype=torch.float64, device=device())
    mu_2 = 1 - mu_1
    # D: triples (σ¹, σ², μ), segments named by their position in `segment` (pair p's σ¹ is p, its σ² is
    # pairs + p), μ(1), μ(2) the label's two weights; P̂ the note's Eq. 1 (evaluated) on two segments
    segment = [(o[p], a[p]) for o, a in (sigma_1, sigma_2) for p in range(pairs)]
    D = [(p, pairs + p, lambda i, p=p: (mu_1 if int(i) == 1 else mu_2)[p]) for p in range(pairs)]

    def P_hat(first, second):
        return preference_probability(r_hat, segment[int(first)], segment[int(second)])

    # loss(r̂) = −Σ_{(σ¹, σ², μ) ∈ D} [ μ(1) log P̂[σ¹ ≻ σ²] + μ(2) log P̂[σ² ≻ σ¹] ]
    loss = evaluate("christiano2017deep/preference-loss", D=D, Phat=P_hat)
    logits = r_hat(*sigma_1).sum(-1) - r_hat(*sigma_2).sum(-1)
    reference = F.binary_cross_entropy_with_logits(logits, mu_1, reduction="sum")
    grads = torch.autograd.grad(loss, weights)
    reference_grads = torch.autograd.grad(reference, weights)
    close(loss.detach(), reference.detach(), "preference loss against BCE with logits R¹ − R²")
    for name, mine, theirs in zip(("W_1", "W_2"), grads, reference_grads):
        close(mine, theirs, f"∂loss/∂{name} against BCE's gradient")


@check("christiano2017deep/noisy-preference",
       tex=r"\tilde{P}\left[\sigma^1 \succ \sigma^2\right] = 0.9 \, \hat{P}\left[\sigma^1 \succ \sigma^2\right] + 0.05",
       evaluates=True)
def check_noisy_preference_against_simulated_human():
    """A simulated human who answers at random with probability 0.1 and otherwise prefers σ¹ with
    probability P̂: 10^6 answers per pair, mean within 5 standard errors of 0.9 P̂ + 0.05.
    Also P̃[1≻2] + P̃[2≻1] = 1."""
    g = seed(2)
    P_hat = torch.tensor([0.0, 0.3, 0.8, 1.0], dtype=torch.float64)
    n = 1_000_000
    # P̃[σ¹ ≻ σ²] = 0.9 P̂[σ¹ ≻ σ²] + 0.05, evaluated from the note's LaTeX: the two segments named 1 and 2,
    # P̂ the model's probability for the four pairs (P̂[σ² ≻ σ¹] = 1 − P̂[σ¹ ≻ σ²])
    def model(first, second):
        return P_hat if int(first) == 1 else 1 - P_hat

    P_tilde = evaluate("christiano2017deep/noisy-preference", Phat=model, **{"sigma^1": 1, "sigma^2": 2})
    P_tilde_reverse = evaluate("christiano2017deep/noisy-preference", Phat=model, **{"sigma^1": 2, "sigma^2": 1})
    random_answer = torch.rand(len(P_hat), n, generator=g, dtype=torch.float64) < 0.1
    coin = torch.rand(len(P_hat), n, generator=g, dtype=torch.float64) < 0.5
    softmax_answer = torch.rand(len(P_hat), n, generator=g, dtype=torch.float64) < P_hat[:, None]
    prefers_1 = torch.where(random_answer, coin, softmax_answer).double().mean(1)
    standard_error = (P_tilde * (1 - P_tilde) / n).sqrt()
    close(prefers_1, P_tilde, "simulated frequency of σ¹ ≻ σ² against 0.9 P̂ + 0.05",
          rtol=0.0, atol=float(5 * standard_error.max()))
    close(P_tilde + P_tilde_reverse, torch.ones_like(P_hat), "P̃[1≻2] + P̃[2≻1] = 1")


@check("christiano2017deep/misstatement-symmetric",
       tex=r"P(s_i > s_j) = \frac{1}{1 + \exp\left(f_\theta(s_i) + f_\theta(s_j)\right)}", evaluates=True)
def check_symmetric_misstatement_is_not_a_preference_model():
    """The blog's 1/(1 + exp(f(s_i) + f(s_j))), evaluated from the note's LaTeX, is torch.sigmoid of
    −(f(s_i) + f(s_j)); it is symmetric, so its two directions do not sum to 1, and it differs from the
    paper's sigmoid(R^i − R^j)."""
    g = seed(3)
    R_i = torch.randn(16, generator=g, dtype=torch.float64)
    R_j = torch.randn(16, generator=g, dtype=torch.float64)

    def misstated(f_i, f_j):
        # 1 / (1 + exp(f_θ(s_i) + f_θ(s_j))), the note's LaTeX, with f_θ(s) the segment's return
        return evaluate("christiano2017deep/misstatement-symmetric", s_i=f_i, s_j=f_j, f_theta=lambda s: s)
    close(misstated(R_i, R_j), torch.sigmoid(-(R_i + R_j)), "the misstated form against torch.sigmoid(−(f_i + f_j))")
    close(misstated(R_i, R_j), misstated(R_j, R_i), "misstated form is symmetric in s_i, s_j")
    differs(misstated(R_i, R_j) + misstated(R_j, R_i), torch.ones(16, dtype=torch.float64),
            "misstated P(s_i > s_j) + P(s_j > s_i) vs 1")
    differs(misstated(R_i, R_j), torch.sigmoid(R_i - R_j), "misstated form vs sigmoid(R^i − R^j)")


if __name__ == "__main__":
    run_checks(__name__)
