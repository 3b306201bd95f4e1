"""Checks for notes/leike2018scalable.md: the Bradley–Terry preference probability over summed predicted
rewards (as in Christiano et al. 2017), its logistic form, and maximum-likelihood recovery of rewards from
simulated comparisons on a toy bandit.

References: torch.sigmoid and torch.softmax of the segment returns, evaluation of the note's own logistic
formula, and the Newton-solved Bradley–Terry likelihood against the known true rewards (within five
standard errors from the inverse Fisher information).
"""
import torch

from harness import check, close, device, evaluate, figure, holds, run_checks, seed

k, obs_dim, act_dim, pairs = 5, 3, 2, 16


def reward_model(generator):
    """r̂(o, a): a small tanh MLP on the concatenated (o, a) -> one reward per step, float64."""
    W_1 = torch.randn(obs_dim + act_dim, 16, generator=generator, dtype=torch.float64).to(device())
    w_2 = torch.randn(16, generator=generator, dtype=torch.float64).to(device()) / 4

    def r_hat(o, a):
        """o (..., obs_dim), a (..., act_dim) -> (...)."""
        return torch.tanh(torch.cat([o, a], -1) @ W_1) @ w_2
    return r_hat


def segment(generator):
    """σ = (o, a): observations (pairs, k, obs_dim), actions (pairs, k, act_dim)."""
    return (torch.randn(pairs, k, obs_dim, generator=generator, dtype=torch.float64).to(device()),
            torch.randn(pairs, k, act_dim, generator=generator, dtype=torch.float64).to(device()))


@check("leike2018scalable/preference-probability",
       tex=r"\hat{P}\left[\sigma^1 \succ \sigma^2\right] = \frac{\exp \sum_{t} \hat{r}\left(o^1_t, a^1_t\right)}{\exp \sum_{t} \hat{r}\left(o^1_t, a^1_t\right) + \exp \sum_{t} \hat{r}\left(o^2_t, a^2_t\right)}",
       evaluates=True)
@check("leike2018scalable/sigmoid-form",
       tex=r"\hat{P}\left[\sigma^1 \succ \sigma^2\right] = \frac{\exp R_1}{\exp R_1 + \exp R_2} = \frac{1}{1 + \exp\left(-(R_1 - R_2)\right)}",
       evaluates=True)
def check_bradley_terry_is_a_sigmoid_of_the_return_difference():
    """The ratio of exponentiated summed rewards equals torch.softmax over the two returns, torch.sigmoid of
    their difference and the note's logistic formula; P̂[1 ≻ 2] + P̂[2 ≻ 1] = 1; a constant added to the
    per-step reward changes nothing."""
    g = seed(0)
    r_hat = reward_model(g)
    sigma_1, sigma_2 = segment(g), segment(g)
    R_1, R_2 = r_hat(*sigma_1).sum(-1), r_hat(*sigma_2).sum(-1)          # R_j = Σ_t r̂(o^j_t, a^j_t)
    # P̂[σ¹ ≻ σ²] = exp Σ_t r̂(o¹_t, a¹_t) / (exp Σ_t r̂(o¹_t, a¹_t) + exp Σ_t r̂(o²_t, a²_t)), evaluated from the
    # note's LaTeX with the steps first (o^j_t is step t of every pair)
    steps = {f"{name}^{j}": z.movedim(-2, 0) for j, segment in ((1, sigma_1), (2, sigma_2)) for name, z in zip("oa", segment)}
    P_12 = evaluate("leike2018scalable/preference-probability", rhat=r_hat, **steps)
    close(P_12, torch.softmax(torch.stack([R_1, R_2], -1), -1)[..., 0], "against softmax of the two returns")
    # P̂[σ¹ ≻ σ²] = exp R_1 / (exp R_1 + exp R_2) = 1 / (1 + exp(−(R_1 − R_2))): every side evaluated from the note's
    # LaTeX, P̂ on the left torch.sigmoid of the difference of the segments' returns
    holds("leike2018scalable/sigmoid-form", R_1=R_1, R_2=R_2, Phat=lambda first, second: torch.sigmoid(first - second),
          **{"sigma^1": R_1, "sigma^2": R_2})
    P_note = evaluate("leike2018scalable/sigmoid-form", R_1=R_1, R_2=R_2)
    close(P_note, torch.softmax(torch.stack([R_1, R_2], -1), -1)[..., 0], "the note's logistic form against torch.softmax")
    P_21 = torch.exp(R_2) / (torch.exp(R_1) + torch.exp(R_2))
    close(P_12 + P_21, torch.ones_like(P_12), "P̂[1 ≻ 2] + P̂[2 ≻ 1] = 1")
    shifted_1, shifted_2 = (r_hat(*sigma_1) + 0.8).sum(-1), (r_hat(*sigma_2) + 0.8).sum(-1)
    close(torch.exp(shifted_1) / (torch.exp(shifted_1) + torch.exp(shifted_2)), P_12, "a constant reward shift changes nothing")


@check("leike2018scalable/sigmoid-form",
       tex=r"\hat{P}\left[\sigma^1 \succ \sigma^2\right] = \frac{\exp R_1}{\exp R_1 + \exp R_2} = \frac{1}{1 + \exp\left(-(R_1 - R_2)\right)}")
def check_reward_recovery_from_simulated_preferences():
    """8-armed bandit with true rewards r; 20,000 comparisons of random arm pairs, each answered by a
    simulated user with probability from the note's formula (evaluated, and compared with torch.sigmoid in
    the check above). Maximum likelihood (Newton's method, arm 0
    fixed at 0 to remove the constant) recovers r − r_0 within 5 standard errors, and the learned reward
    picks the truly best arm."""
    g = seed(1)
    K, n = 8, 20000
    r = torch.randn(K, generator=g, dtype=torch.float64)
    i = torch.randint(0, K, (n,), generator=g)
    j = (i + torch.randint(1, K, (n,), generator=g)) % K                   # a different arm
    p = evaluate("leike2018scalable/sigmoid-form", R_1=r[i], R_2=r[j])
    y = (torch.rand(n, generator=g, dtype=torch.float64) < p).double()    # 1 if the user prefers arm i
    X = torch.zeros(n, K, dtype=torch.float64)
    X[torch.arange(n), i] = 1.0
    X[torch.arange(n), j] = -1.0
    X = X[:, 1:]                                                           # gauge: r̂_0 = 0
    theta = torch.zeros(K - 1, dtype=torch.float64)
    for _ in range(25):
        q = torch.sigmoid(X @ theta)
        hessian = X.T @ ((q * (1 - q))[:, None] * X)
        theta = theta + torch.linalg.solve(hessian, X.T @ (y - q))
    standard_error = torch.linalg.inv(hessian).diagonal().sqrt()
    r_hat = torch.cat([torch.zeros(1, dtype=torch.float64), theta])
    truth = r - r[0]
    close(r_hat[1:], truth[1:], "learned rewards against the true ones (up to the constant)",
          atol=float(5 * standard_error.max()), rtol=0)
    close(int(r_hat.argmax()), int(r.argmax()), "the learned reward picks the best arm")
    figure("reward-model-recovery", [
        {"type": "scatter", "mode": "markers", "x": truth, "y": r_hat, "name": "arms",
         "error_y": {"type": "data", "array": torch.cat([torch.zeros(1, dtype=torch.float64), standard_error]).tolist()}},
        {"type": "scatter", "mode": "lines", "x": [float(truth.min()), float(truth.max())],
         "y": [float(truth.min()), float(truth.max())], "name": "learned = true"},
    ], {"xaxis": {"title": "true reward r − r₀"}, "yaxis": {"title": "maximum-likelihood reward r̂ − r̂₀"},
        "title": "Bradley–Terry reward model on a toy 8-armed bandit (20,000 simulated comparisons)"})


if __name__ == "__main__":
    run_checks(__name__)
