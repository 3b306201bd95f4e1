"""Checks for notes/wang2019neural.md: NGCF's messages, self-connection, aggregation, its matrix form and
Laplacian, the self-message misstatement, the concatenated prediction and the BPR loss.

The graph: 3 users × 4 items with 6 interactions, small enough to write every message by hand. References:
a per-node loop over neighbours (column-vector W's, as in the paper) against the dense matrix form (row
embeddings, right-multiplied by Wᵀ), F.leaky_relu, F.logsigmoid / F.softplus for BPR.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64
R = torch.tensor([[1, 1, 0, 0],
                  [0, 1, 1, 1],
                  [1, 0, 0, 1]], dtype=f64)        # users × items
N, M = R.shape
d = 5
slope = 0.2                                        # LeakyReLU negative slope used here


def randn(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=f64) * scale).to(device())


def neighbours():
    """Adjacency lists over the N + M nodes (users 0..N−1, items N..N+M−1)."""
    nbrs = {u: [N + i for i in range(M) if R[u, i]] for u in range(N)}
    nbrs.update({N + i: [u for u in range(N) if R[u, i]] for i in range(M)})
    return nbrs


def laplacian():
    """L = D^{−1/2} A D^{−1/2} with A = [[0, R], [Rᵀ, 0]], both from the note's LaTeX; D the degree matrix."""
    # A = [0 R; Rᵀ 0]
    A = evaluate_with("wang2019neural/laplacian", {"R": R.to(device())})
    D = torch.diag(A.sum(1))
    # L = D^{−1/2} A D^{−1/2} (D^{−1/2} of the diagonal, positive D)
    return evaluate_with("wang2019neural/laplacian", {"A": A, "D": D}, clause=0)


def per_node_layer(E, W_1, W_2, self_message=True):
    """E: (N+M, d) rows; W_1, W_2: (d', d) act on column vectors as in the paper."""
    nbrs = neighbours()
    out = []
    for u in range(N + M):
        e_u = E[u]
        total = W_1 @ e_u if self_message else torch.zeros(W_1.shape[0], dtype=f64, device=E.device)   # m_{u←u} = W_1 e_u
        for i in nbrs[u]:
            p_ui = 1.0 / (len(nbrs[u]) * len(nbrs[i])) ** 0.5
            # m_{u←i} = 1/√(|N_u||N_i|) (W_1 e_i + W_2 (e_i ⊙ e_u))
            total = total + p_ui * (W_1 @ E[i] + W_2 @ (E[i] * e_u))
        out.append(F.leaky_relu(total, slope))     # e_u^{(l)} = LeakyReLU(m_{u←u} + Σ_i m_{u←i})
    return torch.stack(out)


def per_node_layer_from_note(E, W_1, W_2):
    """The same layer with each message m_{u←i}, self-message m_{u←u} and the propagation rule evaluated from the note's LaTeX."""
    nbrs = neighbours()
    nodes = range(N + M)
    none = torch.zeros(W_1.shape[0], dtype=f64, device=E.device)

    def message(u, i):
        if i == u:   # m_{u←u} = W_1 e_u
            return evaluate_with("wang2019neural/self-message", {"W_1": W_1, "e_u": E[u]})
        if i in nbrs[u]:   # m_{u←i} = 1/√(|N_u||N_i|) (W_1 e_i + W_2 (e_i ⊙ e_u))
            return evaluate_with("wang2019neural/message", {"W_1": W_1, "W_2": W_2, "e_i": E[i], "e_u": E[u],
                                                            "N_u": set(nbrs[u]), "N_i": set(nbrs[i])})
        return none

    m = torch.stack([torch.stack([message(u, i) for i in nodes]) for u in nodes])     # m_{u←i}: (N+M, N+M, d')
    # e_u^(l) = LeakyReLU(m_{u←u}^(l) + Σ_{i ∈ N_u} m_{u←i}^(l)), evaluated from the note (nodes numbered from 0)
    return torch.stack([evaluate_with("wang2019neural/propagation", {"m^(l)": m, "u": u, "N": [nbrs[a] for a in nodes],
                                                                      "LeakyReLU": lambda x: F.leaky_relu(x, slope)},
                                      index_base=0) for u in nodes])


def matrix_layer(E, W_1, W_2):
    L = laplacian()
    I = torch.eye(N + M, dtype=f64, device=device())
    # E^{(l)} = LeakyReLU((L + I) E W_1 + (L E ⊙ E) W_2), row convention: right-multiply by W_1ᵀ, W_2ᵀ
    return F.leaky_relu((L + I) @ E @ W_1.T + ((L @ E) * E) @ W_2.T, slope)


@check("wang2019neural/message",
       tex=r"\mathbf{m}_{u \leftarrow i} = \frac{1}{\sqrt{|\mathcal{N}_u| |\mathcal{N}_i|}} \left( W_1 \mathbf{e}_i + W_2 \left( \mathbf{e}_i \odot \mathbf{e}_u \right) \right)", evaluates=True)
@check("wang2019neural/self-message", tex=r"\mathbf{m}_{u \leftarrow u} = W_1 \mathbf{e}_u", evaluates=True)
@check("wang2019neural/propagation",
       tex=r"\mathbf{e}_u^{(l)} = \operatorname{LeakyReLU}\left( \mathbf{m}_{u \leftarrow u}^{(l)} + \sum_{i \in \mathcal{N}_u} \mathbf{m}_{u \leftarrow i}^{(l)} \right)", evaluates=True)
@check("wang2019neural/matrix-form",
       tex=r"E^{(l)} = \operatorname{LeakyReLU}\left( (\mathcal{L} + I) E^{(l-1)} W_1^{(l)} + \left( \mathcal{L} E^{(l-1)} \odot E^{(l-1)} \right) W_2^{(l)} \right)", evaluates=True)
def check_matrix_form_against_per_node_messages():
    """Three stacked layers (d = 5 → 5 → 4 → 3): the per-node message loop equals the matrix form."""
    g = seed(0)
    E_loop = E_matrix = randn(g, N + M, d)
    for d_in, d_out in ((d, 5), (5, 4), (4, 3)):
        W_1, W_2 = randn(g, d_out, d_in, scale=0.5), randn(g, d_out, d_in, scale=0.5)
        # E^(l) = LeakyReLU((L + I) E^(l−1) W_1^(l) + (L E^(l−1) ⊙ E^(l−1)) W_2^(l)), evaluated from the note
        # (rows are nodes, so the paper's W's act from the right as their transposes)
        E_note = evaluate_with("wang2019neural/matrix-form", {
            "L": laplacian(), "I": torch.eye(N + M, dtype=f64, device=device()), "E^(l-1)": E_matrix,
            "W_1^(l)": W_1.T, "W_2^(l)": W_2.T, "LeakyReLU": lambda x: F.leaky_relu(x, slope)})
        close(per_node_layer_from_note(E_loop, W_1, W_2), matrix_layer(E_loop, W_1, W_2),
              f"the note's messages and self-message, summed per node, against the Laplacian form in torch, layer {d_in}→{d_out}")
        E_loop, E_matrix = per_node_layer(E_loop, W_1, W_2), matrix_layer(E_matrix, W_1, W_2)
        close(E_note, E_loop, f"the note's matrix form against the per-node loop over neighbours, layer {d_in}→{d_out}")
        close(E_loop, E_matrix, f"per-node loop against the matrix form, layer {d_in}→{d_out}")


@check("wang2019neural/laplacian",
       tex=r"\mathcal{L} = D^{-\frac{1}{2}} A D^{-\frac{1}{2}}, \qquad A = \begin{bmatrix} 0 & R \\ R^\top & 0 \end{bmatrix}",
       evaluates=True)
def check_laplacian_entries():
    """L from the note's LaTeX: L_ui = 1/√(|N_u||N_i|) on edges (adjacency lists built from R) and 0 elsewhere;
    L is symmetric with spectrum in [−1, 1]."""
    L = laplacian()
    nbrs = neighbours()
    expected = torch.zeros(N + M, N + M, dtype=f64)
    for a in range(N + M):
        for b in nbrs[a]:
            expected[a, b] = 1.0 / (len(nbrs[a]) * len(nbrs[b])) ** 0.5
    close(L, expected, "D^{−½} A D^{−½} against 1/√(|N_u||N_i|) per edge")
    eigenvalues = torch.linalg.eigvalsh(L)
    close(eigenvalues.abs().max(), 1.0, "largest |eigenvalue| of the normalised adjacency is 1")


@check("wang2019neural/misstatement-no-self-message",
       tex=r"\mathbf{e}_i^{(l+1)} = \operatorname{LeakyReLU}\left( \sum_{j \in \mathcal{N}_i} \frac{1}{\sqrt{|\mathcal{N}_i| |\mathcal{N}_j|}} \left( W_1 \mathbf{e}_j^{(l)} + W_2 \left( \mathbf{e}_j^{(l)} \odot \mathbf{e}_i^{(l)} \right) \right) \right)",
       evaluates=True)
def check_dropping_the_self_message_differs():
    """Without m_{u←u} the layer equals the matrix form with L in place of L + I, and differs from NGCF."""
    g = seed(1)
    E, W_1, W_2 = randn(g, N + M, d), randn(g, d, d, scale=0.5), randn(g, d, d, scale=0.5)
    wrong = per_node_layer(E, W_1, W_2, self_message=False)
    L = laplacian()
    without_I = F.leaky_relu(L @ E @ W_1.T + ((L @ E) * E) @ W_2.T, slope)
    close(wrong, without_I, "the misstated rule is the matrix form without +I")
    # e_i^(l+1) = LeakyReLU(Σ_{j ∈ N_i} 1/√(|N_i||N_j|) (W_1 e_j^(l) + W_2 (e_j^(l) ⊙ e_i^(l)))), evaluated from the
    # note for every node (numbered from 0; N_j the neighbour list of the bound j)
    nbrs = neighbours()
    misstated = torch.stack([evaluate_with("wang2019neural/misstatement-no-self-message",
                                           {"e^(l)": E, "W_1": W_1, "W_2": W_2, "i": i, "N": [nbrs[a] for a in range(N + M)],
                                            "LeakyReLU": lambda x: F.leaky_relu(x, slope)}, index_base=0)
                             for i in range(N + M)])
    close(misstated, without_I, "the note's misstated rule against the Laplacian matrix form without +I")
    differs(wrong, matrix_layer(E, W_1, W_2), "dropping the self-message changes the layer")


@check("wang2019neural/prediction", tex=r"\hat{y}_{\mathrm{NGCF}}(u, i) = {\mathbf{e}_u^*}^\top \mathbf{e}_i^*", evaluates=True)
def check_prediction_on_concatenated_layers():
    """Scores from e* = e^(0) ∥ e^(1) ∥ e^(2) ∥ e^(3) equal the sum of per-layer inner products and differ
    from scoring with the last layer only."""
    g = seed(2)
    layers = [randn(g, N + M, d)]
    for _ in range(3):
        layers.append(matrix_layer(layers[-1], randn(g, d, d, scale=0.5), randn(g, d, d, scale=0.5)))
    E_star = torch.cat(layers, -1)
    # ŷ(u, i) = e_u*ᵀ e_i*, evaluated from the note for every (user, item) pair
    scores = torch.stack([torch.stack([evaluate_with("wang2019neural/prediction", {"e_u^*": E_star[u], "e_i^*": E_star[N + i]})
                                       for i in range(M)]) for u in range(N)])
    close(scores, sum(E_l[:N] @ E_l[N:].T for E_l in layers), "concatenation = Σ_l per-layer inner products")
    differs(scores, layers[-1][:N] @ layers[-1][N:].T, "last-layer-only scores are a different model")


@check("wang2019neural/bpr-loss",
       tex=r"\mathrm{Loss} = -\sum_{(u, i, j) \in O} \ln \sigma\left(\hat{y}_{ui} - \hat{y}_{uj}\right) + \lambda \lVert \Theta \rVert_2^2", evaluates=True)
def check_bpr_loss_against_logsigmoid():
    """All (u, observed i, unobserved j) triples of the toy graph; −ln σ(Δ) against −F.logsigmoid and
    F.softplus(−Δ); λ‖Θ‖² over the embedding table and the W's."""
    g = seed(3)
    E = randn(g, N + M, d)
    W_1, W_2 = randn(g, d, d, scale=0.5), randn(g, d, d, scale=0.5)
    E_star = torch.cat([E, matrix_layer(E, W_1, W_2)], -1)
    y = E_star[:N] @ E_star[N:].T
    triples = [(u, i, j) for u in range(N) for i in range(M) for j in range(M) if R[u, i] and not R[u, j]]
    lam = 1e-4
    # Loss = Σ_{(u,i,j) ∈ O} −ln σ(ŷ_ui − ŷ_uj) + λ ‖Θ‖₂², evaluated from the note; O's triples numbered from 1
    O = [(u + 1, i + 1, j + 1) for u, i, j in triples]
    Theta = torch.cat([E.flatten(), W_1.flatten(), W_2.flatten()])
    loss = evaluate("wang2019neural/bpr-loss", O=O, yhat=y, sigma=torch.sigmoid, Theta=Theta, **{"lambda": lam})
    u, i, j = (torch.tensor(c, device=device()) for c in zip(*triples))
    diff = y[u, i] - y[u, j]
    # the penalty's reference: the squared L2 norm of all parameters flattened into one vector
    penalty = lam * torch.linalg.vector_norm(torch.cat([E.flatten(), W_1.flatten(), W_2.flatten()])) ** 2
    close(loss, -F.logsigmoid(diff).sum() + penalty, "BPR against −F.logsigmoid + λ‖Θ‖² (vector_norm)")
    close(loss, F.softplus(-diff).sum() + penalty, "BPR against F.softplus(−Δ) + λ‖Θ‖² (vector_norm)")


if __name__ == "__main__":
    run_checks(__name__)
