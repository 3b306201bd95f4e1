"""Checks for notes/he2017neural.md: MF, GMF (and its reduction to MF), the MLP tower, NeuMF's
concatenation, the pre-training initialisation of h, and the log loss with sampled negatives.

References: the full score matrix P Qᵀ, nn.Embedding + nn.Linear(bias=False) modules, an nn.Sequential ReLU
tower, torch.sigmoid, and F.binary_cross_entropy(reduction="sum").
"""
import torch
import torch.nn.functional as F
from torch import nn

from harness import check, close, device, differs, evaluate, evaluate_with, holds, holds_with, run_checks, seed

f64 = torch.float64
n_users, n_items, K = 6, 9, 4


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=f64).to(device())


def all_pairs():
    u, i = torch.meshgrid(torch.arange(n_users), torch.arange(n_items), indexing="ij")
    return u.flatten().to(device()), i.flatten().to(device())


def gmf(p_u, q_i, h, a_out):
    # ŷ_ui = a_out(hᵀ (p_u ⊙ q_i))
    return a_out((p_u * q_i) @ h)


@check("he2017neural/mf", tex=r"\hat{y}_{ui} = \mathbf{p}_u^\top \mathbf{q}_i = \sum_{k=1}^{K} p_{uk} \, q_{ik}", evaluates=True)
def check_mf_against_score_matrix():
    g = seed(0)
    P, Q = randn(g, n_users, K), randn(g, n_items, K)
    u, i = all_pairs()
    scores = P @ Q.T                                                  # the full score matrix, the reference
    # ŷ_ui = p_uᵀ q_i = Σ_{k=1}^{K} p_uk q_ik: every side evaluated from the note, ŷ the reference, for all (u, i)
    for a, b in zip(u.tolist(), i.tolist()):
        holds("he2017neural/mf", yhat=scores, p=P, q=Q, u=a + 1, i=b + 1, K=K, p_u=P[a], q_i=Q[b])


@check("he2017neural/gmf", tex=r"\hat{y}_{ui} = a_{out}\left(\mathbf{h}^\top (\mathbf{p}_u \odot \mathbf{q}_i)\right)", evaluates=True)
def check_gmf_reduces_to_mf_and_matches_modules():
    """h = 1 and identity a_out give MF (P Qᵀ); a learned h with a sigmoid matches nn.Embedding +
    nn.Linear(K, 1, bias=False) + torch.sigmoid, and is no longer MF."""
    g = seed(1)
    P, Q = randn(g, n_users, K), randn(g, n_items, K)
    u, i = all_pairs()
    ones = torch.ones(K, dtype=f64, device=device())
    close(gmf(P[u], Q[i], ones, lambda z: z), (P @ Q.T).flatten(), "GMF with h = 1, identity a_out = MF")

    user_emb, item_emb = nn.Embedding(n_users, K).to(device(), f64), nn.Embedding(n_items, K).to(device(), f64)
    out = nn.Linear(K, 1, bias=False).to(device(), f64)
    module = torch.sigmoid(out(user_emb(u) * item_emb(i)))[:, 0]
    h = out.weight[0]
    # ŷ_ui = a_out(hᵀ (p_u ⊙ q_i)), evaluated from the note with the embedding rows as columns (one per pair)
    y_hat = evaluate("he2017neural/gmf", a_out=torch.sigmoid, h=h[:, None], p_u=user_emb.weight[u].T, q_i=item_emb.weight[i].T)[0]
    close(y_hat, module, "the note's σ(hᵀ(p_u ⊙ q_i)) against the module")
    close(gmf(user_emb.weight[u], item_emb.weight[i], h, torch.sigmoid), module, "gmf() used above, against the module")
    differs(torch.logit(y_hat), (user_emb.weight @ item_emb.weight.T).flatten(), "a learned h re-weights the latent dimensions")


def tower(g, sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    net = nn.Sequential(*layers).to(device(), f64)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=f64) * 0.5)
    return net


@check("he2017neural/mlp",
       tex=r"""\begin{aligned}
\mathbf{z}_1 &= \begin{bmatrix} \mathbf{p}_u \\ \mathbf{q}_i \end{bmatrix}, \qquad
\phi_l(\mathbf{z}_{l-1}) = a_l\left(W_l^\top \mathbf{z}_{l-1} + \mathbf{b}_l\right), \quad l = 2, \ldots, L, \\
\hat{y}_{ui} &= \sigma\left(\mathbf{h}^\top \phi_L(\mathbf{z}_{L-1})\right)
\end{aligned}""", evaluates=True)
def check_mlp_tower_against_sequential():
    """A 2K → 8 → 4 → 2 ReLU tower (L = 4: layers l = 2, 3, 4) from the note's LaTeX, line by line (z_1 the
    stacked embeddings, the recursion φ_l for each layer, ŷ with φ_L the last layer), for every (u, i),
    equals nn.Sequential + sigmoid; and written layer by layer with torch."""
    g = seed(2)
    P, Q = randn(g, n_users, K), randn(g, n_items, K)
    u, i = all_pairs()
    net = tower(g, (2 * K, 8, 4, 2))
    h = randn(g, 2)
    z = torch.cat([P[u], Q[i]], -1)                                  # z_1 = [p_u; q_i]
    for linear in net[::2]:
        W_l_T, b_l = linear.weight, linear.bias                      # nn.Linear stores W_lᵀ
        z = torch.clamp_min(z @ W_l_T.T + b_l, 0.0)                  # φ_l(z_{l−1}) = ReLU(W_lᵀ z_{l−1} + b_l)
    y_hat = 1.0 / (1.0 + torch.exp(-(z @ h)))                        # ŷ = σ(hᵀ φ_L)
    with torch.no_grad():
        reference = torch.sigmoid(net(torch.cat([P[u], Q[i]], -1)) @ h)
    close(y_hat, reference, "MLP tower against nn.Sequential + sigmoid")
    layers = {l: (linear.weight.detach().T, linear.bias.detach()) for l, linear in zip((2, 3, 4), net[::2])}   # W_l, b_l

    def phi(l, z):
        # φ_l(z_{l−1}) = a_l(W_lᵀ z_{l−1} + b_l), a_l = ReLU: both sides, φ_l the tower's nn.Linear + nn.ReLU
        W_l, b_l = layers[l]
        values = {"a_l": torch.relu, "W_l": W_l, "b_l": b_l, "z_l-1": z,
                  "phi_l": lambda v: net[2 * (l - 2) + 1](net[2 * (l - 2)](v)).detach()}
        holds_with("he2017neural/mlp", values, clause=1)
        return evaluate_with("he2017neural/mlp", values, clause=1)
    note = []
    for u_k, i_k in zip(u.tolist(), i.tolist()):
        # z_1 = [p_u; q_i]
        z = evaluate_with("he2017neural/mlp", {"p_u": P[u_k], "q_i": Q[i_k]}, clause=0)
        for l in (2, 3):
            z = phi(l, z)                                            # z_l = φ_l(z_{l−1}), up to z_{L−1}
        # ŷ_ui = σ(hᵀ φ_L(z_{L−1}))
        note.append(evaluate_with("he2017neural/mlp", {"h": h, "phi_L": lambda z: phi(4, z), "z_L-1": z}))
    close(torch.stack(note), reference, "the note's tower against nn.Sequential + sigmoid")


@check("he2017neural/neumf",
       tex=r"\hat{y}_{ui} = \sigma\left(\mathbf{h}^\top \begin{bmatrix} \phi^{GMF} \\ \phi^{MLP} \end{bmatrix}\right)", evaluates=True)
@check("he2017neural/pretrain-h",
       tex=r"\mathbf{h} \leftarrow \begin{bmatrix} \alpha \, \mathbf{h}^{GMF} \\ (1 - \alpha) \, \mathbf{h}^{MLP} \end{bmatrix}",
       evaluates=True)
def check_neumf_concatenation_and_pretraining():
    """NeuMF with separate GMF/MLP embeddings: σ(hᵀ[φ_GMF; φ_MLP]) equals nn.Linear(K + 2, 1, bias=False)
    on the concatenation and σ of the two partial logits' sum; with h = [α h_GMF; (1−α) h_MLP] the logit is
    the α-average of the pre-trained GMF and MLP logits."""
    g = seed(3)
    P_G, Q_G = randn(g, n_users, K), randn(g, n_items, K)            # GMF embeddings
    P_M, Q_M = randn(g, n_users, 3), randn(g, n_items, 3)            # MLP embeddings (other size)
    net = tower(g, (6, 4, 2))
    u, i = all_pairs()
    phi_gmf = P_G[u] * Q_G[i]
    phi_mlp = net(torch.cat([P_M[u], Q_M[i]], -1))
    h = randn(g, K + 2)
    # ŷ = σ(hᵀ [φ_GMF; φ_MLP]), from the note's LaTeX for each (u, i) (the bmatrix stacks the two vectors)
    with torch.no_grad():
        y_hat = torch.stack([evaluate("he2017neural/neumf", h=h, **{"phi^GMF": a, "phi^MLP": b})
                             for a, b in zip(phi_gmf, phi_mlp)])
    head = nn.Linear(K + 2, 1, bias=False).to(device(), f64)
    with torch.no_grad():
        head.weight.copy_(h[None])
    close(y_hat, torch.sigmoid(head(torch.cat([phi_gmf, phi_mlp], -1)))[:, 0], "against nn.Linear on the concatenation")
    close(y_hat, torch.sigmoid(phi_gmf @ h[:K] + phi_mlp @ h[K:]), "concatenation = sum of partial logits")

    h_gmf, h_mlp, alpha = randn(g, K), randn(g, 2), 0.5
    # h ← [α h_GMF; (1 − α) h_MLP], from the note's LaTeX
    h_init = evaluate("he2017neural/pretrain-h", alpha=alpha, **{"h^GMF": h_gmf, "h^MLP": h_mlp})
    logit = torch.cat([phi_gmf, phi_mlp], -1).detach() @ h_init
    close(logit, alpha * (phi_gmf @ h_gmf) + (1 - alpha) * (phi_mlp @ h_mlp), "initial logit = α-average of pre-trained logits")
    differs(torch.sigmoid(logit), alpha * torch.sigmoid(phi_gmf @ h_gmf) + (1 - alpha) * torch.sigmoid(phi_mlp @ h_mlp),
            "…which is not the average of the two predicted probabilities")


@check("he2017neural/log-loss",
       tex=r"L = -\sum_{(u,i) \in \mathcal{Y} \cup \mathcal{Y}^-} \left( y_{ui} \log \hat{y}_{ui} + (1 - y_{ui}) \log\left(1 - \hat{y}_{ui}\right) \right)",
       evaluates=True)
def check_log_loss_with_sampled_negatives():
    """Observed pairs plus 4 sampled unobserved items per positive; the sum over Y ∪ Y⁻ equals
    F.binary_cross_entropy(reduction="sum") and splits into −Σ_Y log ŷ − Σ_{Y⁻} log(1 − ŷ)."""
    g = seed(4)
    P, Q = randn(g, n_users, K), randn(g, n_items, K)
    observed = torch.rand(n_users, n_items, generator=g) < 0.3
    positives = observed.nonzero().tolist()
    negatives = []
    for u, _ in positives:
        unobserved = (~observed[u]).nonzero()[:, 0]
        negatives += [(u, int(j)) for j in unobserved[torch.randint(len(unobserved), (4,), generator=g)]]
    negatives = list(dict.fromkeys(negatives))                          # Y⁻ is a set: a pair drawn twice counts once
    pairs = torch.tensor(positives + negatives, device=device())
    y = torch.cat([torch.ones(len(positives)), torch.zeros(len(negatives))]).to(f64).to(device())
    y_hat = torch.sigmoid((P[pairs[:, 0]] * Q[pairs[:, 1]]).sum(-1))
    # L = −Σ_{(u,i) ∈ Y ∪ Y⁻} (y_ui log ŷ_ui + (1 − y_ui) log(1 − ŷ_ui)), from the note's LaTeX (u, i from 0)
    L = evaluate_with("he2017neural/log-loss", {"Y": [tuple(pair) for pair in positives], "Y^-": negatives,
                                                "y": observed.to(f64).to(device()), "yhat": torch.sigmoid(P @ Q.T)},
                      index_base=0)
    close(L, F.binary_cross_entropy(y_hat, y, reduction="sum"), "log loss against F.binary_cross_entropy(sum)")
    n_pos = len(positives)
    close(L, -torch.log(y_hat[:n_pos]).sum() - torch.log(1 - y_hat[n_pos:]).sum(), "positives and negatives terms")


if __name__ == "__main__":
    run_checks(__name__)
