"""Checks for notes/kim2017interpretability.md: the CAV as the unit normal of a linear classifier's
decision boundary, the conceptual sensitivity as a directional derivative, the TCAV score, and the
cosine-similarity misstatement.

The model is a tiny float64 MLP split at layer l: f_l: R^4 -> R^8 (tanh) and h_{l,k}: R^8 -> R (the
logit of class k through one more tanh layer). References: a boundary located by bisection on the
trained classifier's own outputs (its normal fitted by SVD), central finite differences and a Jacobian-vector
product for the directional derivative, and a count over inputs using the finite-difference sign.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, evaluate_with, holds_with, run_checks, seed

d_in, m, hidden = 4, 8, 16


def network(generator):
    """(f_l, h_lk): f_l (..., d_in) -> (..., m) activations; h_lk (..., m) -> (...) logit of class k."""
    W_1 = torch.randn(m, d_in, generator=generator, dtype=torch.float64).to(device())
    W_2 = torch.randn(hidden, m, generator=generator, dtype=torch.float64).to(device()) / m ** 0.5
    b_2 = torch.randn(hidden, generator=generator, dtype=torch.float64).to(device())
    w_k = torch.randn(hidden, generator=generator, dtype=torch.float64).to(device())

    def f_l(x):
        return torch.tanh(x @ W_1.T)

    def h_lk(a):
        return torch.tanh(a @ W_2.T + b_2) @ w_k
    return f_l, h_lk


def concept_and_random_activations(generator, f_l):
    """Activations of P_C (inputs sharing a concept pattern) and of N (random inputs): (48, m) each."""
    pattern = torch.tensor([2.5, -2.0, 1.5, 2.0], dtype=torch.float64, device=device())
    P_C = pattern + 0.2 * torch.randn(48, d_in, generator=generator, dtype=torch.float64).to(device())
    N = torch.randn(48, d_in, generator=generator, dtype=torch.float64).to(device())
    return f_l(P_C), f_l(N)


def train_cav_classifier(A_pos, A_neg, l2=1e-3):
    """Logistic regression on activations (concept = 1) with a small L2 penalty, solved by Newton's
    method; returns the decision function a -> wᵀa + b and w (m,)."""
    A = torch.cat([A_pos, A_neg])
    X = torch.cat([A, torch.ones_like(A[:, :1])], 1)                    # (n, m + 1): activations and a bias column
    y = torch.cat([torch.ones(len(A_pos)), torch.zeros(len(A_neg))]).to(A)
    theta = torch.zeros(m + 1, dtype=A.dtype, device=A.device)
    penalty = torch.full((m + 1,), 2 * l2, dtype=A.dtype, device=A.device)
    penalty[-1] = 0.0                                                   # no penalty on the bias
    for _ in range(50):
        p = torch.sigmoid(X @ theta)
        gradient = X.T @ (p - y) / len(y) + penalty * theta
        hessian = X.T @ ((p * (1 - p))[:, None] * X) / len(y) + torch.diag(penalty)
        theta = theta - torch.linalg.solve(hessian, gradient)
    w, b = theta[:m], theta[m]
    return (lambda a: a @ w + b), w


def cav(classifier):
    """v_C^l = w / ||w||: (m,), from (decision function, w)."""
    _, w = classifier
    return w / w.norm()


@check("kim2017interpretability/cav", tex=r"v_C^l = \frac{w}{\lVert w \rVert}", evaluates=True)
def check_cav_is_the_unit_normal_of_the_decision_boundary():
    """The classifier separates concept from random activations (> 95% accuracy); 24 points of its decision boundary,
    found by bisection on the classifier's outputs along random segments from a random to a concept
    activation, lie on a hyperplane whose normal (fitted by SVD) is ±v_C^l; v_C^l points to the concept."""
    g = seed(0)
    f_l, _ = network(g)
    A_pos, A_neg = concept_and_random_activations(g, f_l)
    decision, w = train_cav_classifier(A_pos, A_neg)
    # v_C^l = w / ||w||, the note's LaTeX, against the boundary's normal (below) and F.normalize
    v = evaluate("kim2017interpretability/cav", w=w.detach())
    close(v, F.normalize(w.detach(), dim=0), "the note's v_C^l against F.normalize(w)")
    with torch.no_grad():
        accuracy = ((decision(A_pos) > 0).double().mean() + (decision(A_neg) < 0).double().mean()) / 2
        close(accuracy > 0.95, True, "training accuracy of the linear concept classifier above 95%")
        # segments from correctly classified random activations to correctly classified concept ones
        lo, hi = A_neg[decision(A_neg) < 0][:24].clone(), A_pos[decision(A_pos) > 0][:24].clone()
        for _ in range(80):                                     # bisection on sign(w·a + b)
            mid = (lo + hi) / 2
            positive = decision(mid) > 0
            hi = torch.where(positive[:, None], mid, hi)
            lo = torch.where(positive[:, None], lo, mid)
        boundary = (lo + hi) / 2
        normal = torch.linalg.svd(boundary - boundary.mean(0)).Vh[-1]
        close(normal * torch.sign(normal @ v), v, "SVD normal of the boundary points against v_C^l")
        close(v.norm(), 1.0, "||v_C^l|| = 1")
        close((A_pos.mean(0) - A_neg.mean(0)) @ v > 0, True, "v_C^l points from random towards concept activations")


@check("kim2017interpretability/sensitivity",
       tex=r"S_{C,k,l}(x) = \lim_{\epsilon \to 0} \frac{h_{l,k}\left(f_l(x) + \epsilon v_C^l\right) - h_{l,k}\left(f_l(x)\right)}{\epsilon} = \nabla h_{l,k}\left(f_l(x)\right) \cdot v_C^l",
       evaluates=True)
def check_sensitivity_is_the_directional_derivative():
    """∇h_{l,k}(f_l(x)) · v (autograd, batched over 32 inputs) equals the limit (central finite differences
    with ε = 1e-5) and the Jacobian-vector product torch.autograd.functional.jvp(h_{l,k}, f_l(x), v). The note's
    gradient form (its right side) is evaluated from its LaTeX for 8 inputs against the same two references; the
    limit in the middle is evaluated too (h_{l,k} at f_l(x) + ε v for ε = 10⁻² 2^-j, Richardson-extrapolated) and
    compared with the left side S_{C,k,l}(x), passed as the Jacobian-vector product."""
    g = seed(1)
    f_l, h_lk = network(g)
    A_pos, A_neg = concept_and_random_activations(g, f_l)
    v = cav(train_cav_classifier(A_pos, A_neg))
    X_k = torch.randn(32, d_in, generator=g, dtype=torch.float64).to(device())
    a = f_l(X_k).detach().requires_grad_(True)
    (grad_h,) = torch.autograd.grad(h_lk(a).sum(), a)
    # S = ∇h_{l,k}(f_l(x)) · v_C^l
    S = grad_h @ v
    eps = 1e-5
    with torch.no_grad():
        # lim (h(f_l(x) + ε v) − h(f_l(x))) / ε, central version
        finite_difference = (h_lk(a + eps * v) - h_lk(a - eps * v)) / (2 * eps)
    _, jvp = torch.autograd.functional.jvp(h_lk, (a.detach(),), (v.expand_as(a),))
    close(S, finite_difference, "∇h·v against central finite differences", atol=1e-8, rtol=1e-7)
    close(S, jvp, "∇h·v against torch.autograd.functional.jvp")
    for x, finite_x, jvp_x in list(zip(X_k, finite_difference, jvp))[:8]:
        # S_{C,k,l}(x) = ∇h_{l,k}(f_l(x)) · v_C^l: v_C^l the CAV of layer l (a label); texeval's · is elementwise,
        # so the dot product is the sum
        S_note = evaluate("kim2017interpretability/sensitivity", **{"h_l,k": h_lk, "f_l": f_l, "x": x, "v_C^l": v})
        close(S_note.sum(), finite_x, "the note's ∇h·v against central finite differences", atol=1e-8, rtol=1e-7)
        close(S_note.sum(), jvp_x, "the note's ∇h·v against torch.autograd.functional.jvp")
        # S_{C,k,l}(x) = lim_{ε→0} (h_{l,k}(f_l(x) + ε v_C^l) − h_{l,k}(f_l(x))) / ε, S the jvp reference
        holds_with("kim2017interpretability/sensitivity", {"h_l,k": h_lk, "f_l": f_l, "x": x, "v_C^l": v,
                                                            "S_C,k,l": lambda _: jvp_x}, sides=(0, 1), atol=1e-9)


def sensitivities(h_lk, a, v):
    """S_{C,k,l}(x) for a batch of activations a (n, m) -> (n,), by autograd."""
    a = a.detach().requires_grad_(True)
    (grad_h,) = torch.autograd.grad(h_lk(a).sum(), a)
    return grad_h @ v


@check("kim2017interpretability/tcav-score",
       tex=r"\mathrm{TCAV}_{Q_{C,k,l}} = \frac{\left| \left\{ x \in X_k : S_{C,k,l}(x) > 0 \right\} \right|}{\left| X_k \right|}",
       evaluates=True)
@check("kim2017interpretability/sensitivity",
       tex=r"S_{C,k,l}(x) = \lim_{\epsilon \to 0} \frac{h_{l,k}\left(f_l(x) + \epsilon v_C^l\right) - h_{l,k}\left(f_l(x)\right)}{\epsilon} = \nabla h_{l,k}\left(f_l(x)\right) \cdot v_C^l")
def check_tcav_score():
    """TCAV from autograd sensitivities equals a one-by-one count using the sign of the finite difference;
    TCAV(−v) = 1 − TCAV(v); for a head that is linear in the activations, h(a) = uᵀa + c, every input has
    the same S = u·v, so TCAV is exactly 1 or 0."""
    g = seed(2)
    f_l, h_lk = network(g)
    A_pos, A_neg = concept_and_random_activations(g, f_l)
    v = cav(train_cav_classifier(A_pos, A_neg))
    X_k = torch.randn(200, d_in, generator=g, dtype=torch.float64).to(device())
    a = f_l(X_k)
    S = sensitivities(h_lk, a, v)
    # |{x ∈ X_k : S_{C,k,l}(x) > 0}| / |X_k|, from the note's LaTeX: the inputs counted one by one, S by autograd
    tcav = evaluate("kim2017interpretability/tcav-score", X_k=list(X_k),
                    **{"S_C,k,l": lambda x: sensitivities(h_lk, f_l(x[None]), v)[0]})
    close(tcav, (S > 0).double().mean(), "TCAV from the note against the batched autograd sensitivities")
    count = 0
    with torch.no_grad():
        for a_x in a:
            count += int(h_lk(a_x + 1e-6 * v) - h_lk(a_x - 1e-6 * v) > 0)
    close(tcav, count / len(X_k), "TCAV from autograd against a count of finite-difference signs")
    close(0.0 < float(tcav) < 1.0, True, "this non-linear head gives a score strictly between 0 and 1")
    close((sensitivities(h_lk, a, -v) > 0).double().mean(), 1 - tcav, "TCAV(−v) = 1 − TCAV(v)")

    u = torch.randn(m, generator=g, dtype=torch.float64).to(device())
    for direction in (v, -v):
        S_linear = sensitivities(lambda act: act @ u + 0.3, a, direction)
        close(S_linear, (u @ direction).expand(len(a)), "S = u·v for a linear head")
        close((S_linear > 0).double().mean(), float(u @ direction > 0), "TCAV ∈ {0, 1} for a linear head")


@check("kim2017interpretability/misstatement-cosine",
       tex=r"\mathrm{TCAV}_{C,l}(x) = \frac{A_l(x) \cdot \mathrm{CAV}_C}{\lVert A_l(x) \rVert \, \lVert \mathrm{CAV}_C \rVert}",
       evaluates=True)
@check("kim2017interpretability/tcav-score",
       tex=r"\mathrm{TCAV}_{Q_{C,k,l}} = \frac{\left| \left\{ x \in X_k : S_{C,k,l}(x) > 0 \right\} \right|}{\left| X_k \right|}")
def check_cosine_similarity_is_not_the_tcav_score():
    """Inputs whose activations point along the concept (cosine ≈ 1) for a class whose logit *decreases*
    along the concept, h(a) = −3 v·a + tanh(a)·r: every cosine is positive, yet TCAV = 0."""
    g = seed(3)
    v = F.normalize(torch.randn(m, generator=g, dtype=torch.float64), dim=0).to(device())
    r = 0.1 * torch.randn(m, generator=g, dtype=torch.float64).to(device())
    A = 2.0 * v + 0.2 * torch.randn(100, m, generator=g, dtype=torch.float64).to(device())

    def h_lk(a):
        return -3.0 * a @ v + torch.tanh(a) @ r
    # A_l(x) · CAV_C / (||A_l(x)|| ||CAV_C||), · the dot product; here the inputs x are the activations A_l(x)
    cosine = torch.stack([evaluate_with("kim2017interpretability/misstatement-cosine",
                                        {"A_l": lambda x: x, "x": a_x, "CAV_C": v}, dot=True) for a_x in A])
    close(cosine, F.cosine_similarity(A, v[None], dim=1), "the blog's score against F.cosine_similarity")
    fraction_positive_cosine = (cosine > 0).double().mean()
    tcav = (sensitivities(h_lk, A, v) > 0).double().mean()
    close(tcav, 0.0, "TCAV score of a concept that lowers the logit")
    differs(fraction_positive_cosine, tcav, "fraction of inputs with positive cosine vs the TCAV score", at_least=0.5)


if __name__ == "__main__":
    run_checks(__name__)
