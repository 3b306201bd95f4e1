"""Checks for notes/yang2019xlnet.md: BERT's independence approximation, the permutation LM objective, the
target-aware softmax, the two attention streams and their masks, partial prediction, and how much context
a token sees.

References: a random joint distribution over all V^T sequences with conditionals from brute-force
marginalisation; a tiny two-stream attention model evaluated (a) with permutation masks through
F.scaled_dot_product_attention and (b) by brute force on explicit context sets; enumeration of all T!
orders; masks built from sets by brute force; causal attention on the permuted sequence; torch.softmax.
"""
import itertools
import math

import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, evaluate_with, holds_with, run_checks, seed

f64 = torch.float64
V, d = 5, 8


# --- a consistent joint distribution -----------------------------------------------------------------------

def joint(g, T, V_=3):
    """A random distribution over all V_^T sequences, as a (V_,)*T tensor."""
    return torch.softmax(2 * torch.randn(V_ ** T, generator=g, dtype=f64), 0).reshape((V_,) * T)


def marginal(p, x, keep):
    """P(x_keep) by summing out every other position; keep: set of positions."""
    drop = [k for k in range(p.dim()) if k not in keep]
    q = p.sum(drop) if drop else p
    return q[tuple(x[k] for k in sorted(keep))] if keep else q.sum()


def conditional(p, x, i, S):
    """p(x_i | x_S) = P(x_i, x_S) / P(x_S)."""
    return marginal(p, x, set(S) | {i}) / marginal(p, x, set(S))


# --- permutation masks -----------------------------------------------------------------------------------

def masks(z):
    """z: a permutation of range(T). content[i, j] = rank(j) ≤ rank(i); query[i, j] = rank(j) < rank(i)."""
    z = torch.as_tensor(z)
    rank = torch.empty_like(z)
    rank[z] = torch.arange(len(z))
    return rank[None, :] <= rank[:, None], rank[None, :] < rank[:, None]


def masks_from_sets(z):
    """The same masks from the definitions: position z_t sees the set {z_1..z_t} (content) / {z_1..z_{t-1}} (query)."""
    T = len(z)
    content, query = torch.zeros(T, T, dtype=torch.bool), torch.zeros(T, T, dtype=torch.bool)
    for t, i in enumerate(z):
        for j in z[:t + 1]:
            content[i, j] = True
        for j in z[:t]:
            query[i, j] = True
    return content, query


# --- a tiny two-stream model ------------------------------------------------------------------------------

def parameters(T):
    g = seed(0)
    shapes = dict(E=(V, d), P=(T, d), w=(d,), mem=(d,), W_q=(d, d), W_k=(d, d), W_v=(d, d))
    return {k: (0.5 * torch.randn(*s, generator=g, dtype=f64)).to(device()) for k, s in shapes.items()}


def attend(Q_in, KV, mask, p):
    """Q_in: (n, d) queries, KV: (m, d) content states, mask: (n, m) bool -> (n, d)."""
    return F.scaled_dot_product_attention((Q_in @ p["W_q"])[None], (KV @ p["W_k"])[None], (KV @ p["W_v"])[None],
                                          attn_mask=mask[None].to(device()))[0]


def two_stream(x, z, p, layers=1, memory=True):
    """x: (T,) tokens, z: order. h^(0) = e(x) + pos, g^(0) = w + pos. Each layer:
    g_{z_t} <- g_{z_t} + Attention(Q = g_{z_t}, KV = h_{z<t}), h_{z_t} <- h_{z_t} + Attention(Q = h_{z_t}, KV = h_{z≤t}).
    A memory slot (always visible) stands in for Transformer-XL's cached segment, so z_1 has a context."""
    content, query = masks(z)
    h = p["E"][x] + p["P"]
    g = p["w"] + p["P"]
    for _ in range(layers):
        KV = torch.cat([p["mem"][None], h]) if memory else h
        ones = torch.ones(len(x), 1, dtype=torch.bool)
        c_mask = torch.cat([ones, content], 1) if memory else content
        q_mask = torch.cat([ones, query], 1) if memory else query
        g, h = g + attend(g, KV, q_mask, p), h + attend(h, KV, c_mask, p)
    return h, g


def query_state(x, i, S, p):
    """g_θ(x_S, i): the one-layer query stream of target i, attending explicitly over [memory; h_j for j in S]."""
    h = p["E"][x] + p["P"]
    g_i = p["w"] + p["P"][i]
    KV = torch.stack([p["mem"]] + [h[j] for j in sorted(S)])
    scores = (g_i @ p["W_q"]) @ (KV @ p["W_k"]).T / math.sqrt(d)
    return g_i + torch.softmax(scores, 0) @ (KV @ p["W_v"])


def log_p_brute_force(x, i, S, p):
    """log p(x_i | x_S) of the one-layer model, attending explicitly over [memory; h_j for j in S]."""
    g_out = query_state(x, i, S, p)
    # p(X_{z_t} = x | x_{z<t}) = exp(e(x)ᵀ g) / Σ_x' exp(e(x')ᵀ g)
    return torch.log(torch.exp(p["E"] @ g_out)[x[i]] / torch.exp(p["E"] @ g_out).sum())


@check("yang2019xlnet/bert-independence",
       tex=r"\log p_\theta(\bar{\mathbf{x}} \mid \hat{\mathbf{x}}) \approx \sum_{t=1}^{T} m_t \log p_\theta(x_t \mid \hat{\mathbf{x}})",
       evaluates=True)
def check_independence_approximation():
    """Two masked tokens ([New, York]) with a joint p(a, b | context) over 5×5 values: the sum of the two
    marginal log-probabilities is exact for an independent joint and wrong for a dependent one."""
    g = seed(1)
    a, b = 2, 3                                                        # the true masked tokens
    dependent = torch.softmax(3 * torch.randn(V * V, generator=g, dtype=f64), 0).reshape(V, V)
    independent = torch.outer(dependent.sum(1), dependent.sum(0))
    # x̂ = [MASK, is, a, MASK]: x_t is passed with its position, as the row (t, token), and m_t marks the masks
    x = torch.tensor([[1, a], [2, 4], [3, 1], [4, b]], dtype=f64)
    m = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=f64)
    for joint_ab, name in ((independent, "independent"), (dependent, "dependent")):
        exact = torch.log(joint_ab[a, b])

        def p_theta(x_t, xhat, joint_ab=joint_ab):               # p_θ(x_t | x̂): a masked token's marginal
            t, token = int(x_t[0]), int(x_t[1])
            if t == 1:
                return joint_ab.sum(1)[token]
            return joint_ab.sum(0)[token] if t == 4 else torch.tensor(1.0, dtype=f64)   # a visible token: 1
        # Σ_{t=1}^{T} m_t log p_θ(x_t | x̂): each masked token from its own marginal
        approximation = evaluate("yang2019xlnet/bert-independence", x=x, xhat=x, m=m, T=4, p_theta=p_theta)
        close(approximation, torch.log(joint_ab.sum(1)[a]) + torch.log(joint_ab.sum(0)[b]), f"{name}: Σ log marginals")
        if name == "independent":
            close(approximation, exact, "independent tokens: the approximation is exact")
        else:
            differs(approximation, exact, "dependent tokens: Σ log marginals vs log joint")


@check("yang2019xlnet/permutation-objective",
       tex=r"\max_\theta \; \mathbb{E}_{\mathbf{z} \sim \mathcal{Z}_T} \left[ \sum_{t=1}^{T} \log p_\theta(x_{z_t} \mid \mathbf{x}_{\mathbf{z}_{<t}}) \right]")
def check_permutation_objective():
    """(a) Conditionals of one joint distribution (T = 4, V = 3): every one of the 24 orders gives log p(x), so
    the expectation is log p(x). (b) The one-layer two-stream model on T = 4 tokens: the average over all 24
    orders, each computed in one masked pass, equals the explicit expectation Σ_i Σ_S |S|!(T−1−|S|)!/T! ·
    log p(x_i | x_S) with every conditional computed by brute force on its context set S."""
    T = 4
    g = seed(2)
    p_joint = joint(g, T)
    x = [0, 2, 1, 2]
    log_px = torch.log(p_joint[tuple(x)])
    for z in itertools.permutations(range(T)):
        total = sum(torch.log(conditional(p_joint, x, z[t], z[:t])) for t in range(T))
        close(total, log_px, f"order {z}: Σ_t log p(x_z_t | x_z<t) = log p(x)")

    params = parameters(T)
    tokens = torch.tensor([3, 0, 4, 1], device=device())
    per_order = []
    for z in itertools.permutations(range(T)):
        _, g_out = two_stream(tokens, list(z), params)
        log_probs = torch.log_softmax(g_out @ params["E"].T, -1)[torch.arange(T), tokens]
        # Σ_t log p(x_{z_t} | x_{z<t}): every position is the target once per order
        per_order.append(log_probs.sum())
    objective = torch.stack(per_order).mean()                          # E_z, uniform over the T! orders
    explicit = 0.0
    for i in range(T):
        others = [j for j in range(T) if j != i]
        for size in range(T):
            weight = math.factorial(size) * math.factorial(T - 1 - size) / math.factorial(T)
            for S in itertools.combinations(others, size):
                explicit = explicit + weight * log_p_brute_force(tokens, i, S, params)
    close(objective, explicit, "mean over all orders vs explicit expectation over context sets")


@check("yang2019xlnet/target-aware",
       tex=r"p_\theta(X_{z_t} = x \mid \mathbf{x}_{\mathbf{z}_{<t}}) = \frac{\exp\left(e(x)^\top g_\theta(\mathbf{x}_{\mathbf{z}_{<t}}, z_t)\right)}{\sum_{x'} \exp\left(e(x')^\top g_\theta(\mathbf{x}_{\mathbf{z}_{<t}}, z_t)\right)}",
       evaluates=True)
def check_target_aware_softmax():
    """Orders (2, 0, 3, 1, 4) and (2, 0, 3, 4, 1): the formula against torch.softmax of the query stream's logits;
    targets 1 and 4 after the same context {2, 0, 3} get different distributions from the target-aware g,
    but identical ones from a position-blind representation (query started from w only)."""
    T = 5
    params = parameters(T)
    tokens = torch.tensor([1, 4, 0, 3, 2], device=device())
    context = {2, 0, 3}
    p_target = {}
    for z, target in (([2, 0, 3, 1, 4], 1), ([2, 0, 3, 4, 1], 4)):
        _, g_out = two_stream(tokens, z, params)
        # p(X_{z_t} = x | x_{z<t}) = exp(e(x)ᵀ g) / Σ_x' exp(e(x')ᵀ g)
        p_formula = torch.exp(g_out @ params["E"].T) / torch.exp(g_out @ params["E"].T).sum(-1, keepdim=True)
        close(p_formula, torch.softmax(g_out @ params["E"].T, -1), "target-aware softmax")
        close(log_p_brute_force(tokens, target, context, params), torch.log(p_formula[target, tokens[target]]),
              f"target {target}: masked pass vs brute force on its context set")
        p_target[target] = p_formula[target]
        # the note's formula for every candidate x: x_{z<t} the context as rows (position, token) (positions from
        # 1), g_θ(x_{z<t}, z_t) the query stream computed on that explicit context set, e(x) = E[x], Σ_x' over V
        t, z_1 = 4, torch.tensor(z, dtype=f64) + 1
        rows = torch.stack([torch.arange(1, T + 1, dtype=f64), tokens.double().cpu()], 1).to(device())
        evaluated = torch.stack([evaluate_with("yang2019xlnet/target-aware", {
            "x": x, "x_z_<t": rows[z_1[:t - 1].long() - 1], "z": z_1, "t": t, "e": lambda v: params["E"][v.long()],
            "g_theta": lambda context, z_t: query_state(tokens, int(z_t) - 1, (context[:, 0].long() - 1).tolist(), params)},
            indices={"x'": range(V)}) for x in range(V)])
        close(evaluated, p_formula[target], f"p(X_z_t = x | x_z<t) for every x, target {target}, from the note")
    differs(p_target[1], p_target[4], "targets 1 and 4 after the same context: different distributions")
    blind = dict(params, P=params["P"].clone())
    h = blind["E"][tokens] + blind["P"]
    KV = torch.stack([blind["mem"]] + [h[j] for j in sorted(context)])
    q = blind["w"]                                                     # h_θ(x_{z<t}): no target position
    out = q + torch.softmax((q @ blind["W_q"]) @ (KV @ blind["W_k"]).T / math.sqrt(d), 0) @ (KV @ blind["W_v"])
    blind_1 = blind_4 = torch.softmax(blind["E"] @ out, 0)             # the same vector for either target
    close(blind_1, blind_4, "position-blind parameterisation: one distribution for every target")


@check("yang2019xlnet/query-stream",
       tex=r"g_{z_t}^{(m)} \leftarrow \operatorname{Attention}\left(Q = g_{z_t}^{(m-1)},\; KV = \mathbf{h}_{\mathbf{z}_{<t}}^{(m-1)}; \theta\right)")
@check("yang2019xlnet/content-stream",
       tex=r"h_{z_t}^{(m)} \leftarrow \operatorname{Attention}\left(Q = h_{z_t}^{(m-1)},\; KV = \mathbf{h}_{\mathbf{z}_{\le t}}^{(m-1)}; \theta\right)")
def check_two_streams_and_their_masks():
    """Masks from ranks against masks from the sets {z_1..z_t}, {z_1..z_{t-1}} for all 24 orders of 4 and a
    random order of 9; reordered by z they are tril and strict tril. The content stream (one layer, no memory)
    equals causal attention on the permuted sequence. In a two-layer model the query stream at z_t ignores
    x_{z_t} and later tokens but uses earlier ones; the content stream at z_t uses x_{z_t}."""
    for z in [list(z) for z in itertools.permutations(range(4))] + [torch.randperm(9, generator=seed(3)).tolist()]:
        content, query = masks(z)
        brute_content, brute_query = masks_from_sets(z)
        close(content.double(), brute_content.double(), f"content mask {z}", rtol=0, atol=0)
        close(query.double(), brute_query.double(), f"query mask {z}", rtol=0, atol=0)
        n = len(z)
        close(content[z][:, z].double(), torch.ones(n, n).tril().double(), "content mask reordered = tril", rtol=0, atol=0)
        close(query[z][:, z].double(), torch.ones(n, n).tril(-1).double(), "query mask reordered = strict tril", rtol=0, atol=0)

    T = 6
    params = parameters(T)
    tokens = torch.tensor([1, 4, 0, 3, 2, 2], device=device())
    z = [3, 1, 5, 0, 4, 2]
    h1, _ = two_stream(tokens, z, params, memory=False)
    h0 = (params["E"][tokens] + params["P"])[z]                        # rows in factorisation order
    causal = h0 + F.scaled_dot_product_attention((h0 @ params["W_q"])[None], (h0 @ params["W_k"])[None],
                                                 (h0 @ params["W_v"])[None], is_causal=True)[0]
    close(h1[z], causal, "content stream = causal attention over the permuted sequence")

    h2, g2 = two_stream(tokens, z, params, layers=2)
    t = 3                                                              # target z_t = position 0
    for s, role in ((t, "itself"), (t + 1, "a later token"), (t - 1, "an earlier token")):
        changed = tokens.clone()
        changed[z[s]] = (changed[z[s]] + 1) % V
        h2c, g2c = two_stream(changed, z, params, layers=2)
        if s >= t:
            close(g2c[z[t]], g2[z[t]], f"query stream at z_t ignores {role}")
        else:
            differs(g2c[z[t]], g2[z[t]], f"query stream at z_t uses {role}")
        if s == t:
            differs(h2c[z[t]], h2[z[t]], "content stream at z_t uses x_{z_t}")


@check("yang2019xlnet/partial-prediction",
       tex=r"\mathbb{E}_{\mathbf{z} \sim \mathcal{Z}_T} \left[ \log p_\theta(\mathbf{x}_{\mathbf{z}_{>c}} \mid \mathbf{x}_{\mathbf{z}_{\le c}}) \right] = \mathbb{E}_{\mathbf{z} \sim \mathcal{Z}_T} \left[ \sum_{t=c+1}^{|\mathbf{z}|} \log p_\theta(x_{z_t} \mid \mathbf{x}_{\mathbf{z}_{<t}}) \right]",
       evaluates=True)
def check_partial_prediction():
    """Joint over 3^4 sequences, c = 2: for every order, log p(x_{z>c} | x_{z≤c}) by marginalisation equals the
    sum of the last T − c conditionals, hence the two expectations agree."""
    T, c = 4, 2
    p_joint = joint(seed(4), T)
    x = [1, 1, 0, 2]
    left, right = [], []
    for z in itertools.permutations(range(T)):
        left.append(torch.log(marginal(p_joint, x, set(range(T))) / marginal(p_joint, x, set(z[:c]))))
        right.append(sum(torch.log(conditional(p_joint, x, z[t], z[:t])) for t in range(c, T)))
    close(torch.stack(left), torch.stack(right), "per order")
    close(torch.stack(left).mean(), torch.stack(right).mean(), "expectations")

    def p_theta(targets, context):
        """p_θ(targets | context) of the joint by marginalisation; tokens as rows (position from 1, token)."""
        targets, context = targets.reshape(-1, 2), context.reshape(-1, 2)
        keep, given = set((targets[:, 0].long() - 1).tolist()), set((context[:, 0].long() - 1).tolist())
        return marginal(p_joint, x, keep | given) / marginal(p_joint, x, given)
    # both sides evaluated from the note over all 24 orders z (lists of positions from 1, so |z| is T), x as rows
    rows = torch.tensor([[t + 1, token] for t, token in enumerate(x)], dtype=f64)
    orders = [[i + 1 for i in z] for z in itertools.permutations(range(T))]
    holds_with("yang2019xlnet/partial-prediction", {"z": orders, "x": rows, "c": c, "p_theta": p_theta})
    close(evaluate("yang2019xlnet/partial-prediction", z=orders, x=rows, c=c, p_theta=p_theta),
          torch.stack(left).mean(), "the right side vs the per-order marginal ratios above")


@check("yang2019xlnet/mean-context", tex=r"\mathbb{E}\left[\, |\mathbf{z}_{<t}| \,\right] = \frac{T - 1}{2}", evaluates=True)
@check("yang2019xlnet/mean-context-predicted",
       tex=r"\mathbb{E}\left[\, |\mathbf{z}_{<t}| \;\middle|\; t > c \,\right] = \frac{c + T - 1}{2}", evaluates=True)
def check_context_sizes():
    """All 720 orders of T = 6 tokens: for every token, the number of context tokens its query mask allows
    averages (T − 1)/2; among orders in which it is a target (rank ≥ c = 4, K = 3) it averages (c + T − 1)/2.
    With K = 6 (T = 600, c = 500) a target sees 1099/1198 ≈ 91.7% of the other tokens on average, by
    enumeration of the targets' ranks, close to the large-T limit 1 − 1/(2K) = 11/12."""
    T, c = 6, 4
    seen, seen_when_predicted = torch.zeros(T, dtype=f64), [[] for _ in range(T)]
    orders = list(itertools.permutations(range(T)))
    for z in orders:
        _, query = masks(z)
        sizes = query.sum(1).double()                                  # |z_<t| for each original position
        seen += sizes
        for t, i in enumerate(z):
            if t >= c:                                                 # z_{>c} (1-based t > c)
                seen_when_predicted[i].append(float(sizes[i]))
    close(seen / len(orders), evaluate("yang2019xlnet/mean-context", T=T).expand(T), "every token: (T − 1)/2")
    predicted = torch.tensor([sum(v) / len(v) for v in seen_when_predicted], dtype=f64)
    close(predicted, evaluate("yang2019xlnet/mean-context-predicted", T=T, c=c).expand(T), "targets: (c + T − 1)/2")
    fraction = evaluate("yang2019xlnet/mean-context-predicted", T=600, c=500) / 599
    close(600 / (600 - 500), 6.0, "K = |z| / (|z| − c) = 6", rtol=0, atol=0)
    ranks = torch.arange(500, 600, dtype=f64)                          # 0-based ranks of the 100 targets = |z_<t|
    close(fraction, (ranks / 599).mean(), "K = 6, T = 600: share of the other tokens a target sees, enumerated",
          rtol=0, atol=1e-12)
    close(fraction, 1 - 1 / (2 * 6), "about 92%: 1 − 1/(2K) = 11/12 as T grows", rtol=0, atol=1e-3)


if __name__ == "__main__":
    run_checks(__name__)
