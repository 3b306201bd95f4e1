"""Checks for notes/rendle2010factorization.md: the degree-2 factorization machine (Eq. 1), its O(kn)
rewriting (Lemma 3.1), the SGD gradient of a factor (Eq. 4) and the reduction to biased matrix
factorization.

References: an explicit double loop over pairs, the Hessian of the model in x (a degree-2 polynomial
is fixed by its value, gradient and Hessian at 0), autograd, and a user × item table of biased MF.
"""
import torch

from harness import check, close, device, evaluate, evaluate_with, holds, run_checks, seed


def fm_parameters(n: int, k: int, generator: torch.Generator):
    """w_0: (), w: (n,), V: (n, k), all float64 on device()."""
    w_0 = torch.randn((), generator=generator, dtype=torch.float64)
    w = torch.randn(n, generator=generator, dtype=torch.float64)
    V = torch.randn(n, k, generator=generator, dtype=torch.float64)
    return w_0.to(device()), w.to(device()), V.to(device())


def sparse_x(n: int, generator: torch.Generator, batch: int = 1):
    """x: (batch, n) with about half of the entries exactly zero."""
    x = torch.randn(batch, n, generator=generator, dtype=torch.float64)
    keep = torch.rand(batch, n, generator=generator) < 0.5
    return (x * keep).to(device())


def fm(x, w_0, w, V):
    """The degree-2 FM, vectorised: x (batch, n) -> ŷ (batch,). Pair weights are the strict upper
    triangle of V Vᵀ, so only pairs i < j enter."""
    # ŷ(x) = w_0 + Σ_i w_i x_i + Σ_i Σ_{j>i} ⟨v_i, v_j⟩ x_i x_j
    W_pairs = torch.triu(V @ V.T, diagonal=1)
    return w_0 + x @ w + torch.einsum("bi,ij,bj->b", x, W_pairs, x)


def pairwise_double_loop(x, V):
    """Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j by explicit Python loops over pairs and factors, for one x: (n,)."""
    n, k = V.shape
    total = torch.zeros((), dtype=V.dtype, device=V.device)
    for i in range(n):
        for j in range(i + 1, n):
            total = total + sum(V[i, f] * V[j, f] for f in range(k)) * x[i] * x[j]
    return total


@check("rendle2010factorization/fm-model",
       tex=r"\hat{y}(\mathbf{x}) = w_0 + \sum_{i=1}^{n} w_i x_i + \sum_{i=1}^{n} \sum_{j=i+1}^{n} \langle \mathbf{v}_i, \mathbf{v}_j \rangle \, x_i x_j",
       evaluates=True)
def check_fm_model_against_double_loop_and_hessian():
    """The model equals w_0 + Σ w_i x_i + the pair double loop; as a polynomial in x it has value w_0
    and gradient w at 0 and Hessian V Vᵀ with a zero diagonal (no x_i² terms)."""
    g = seed(0)
    n, k = 7, 3
    w_0, w, V = fm_parameters(n, k, g)
    x = sparse_x(n, g, batch=5)
    loop = torch.stack([w_0 + sum(w[i] * x_b[i] for i in range(n)) + pairwise_double_loop(x_b, V) for x_b in x])
    # ŷ(x) = w_0 + Σ_i w_i x_i + Σ_i Σ_{j>i} ⟨v_i, v_j⟩ x_i x_j, from the note's LaTeX: x_i is feature i of the 5 rows
    y_hat = evaluate_with("rendle2010factorization/fm-model", {"w_0": w_0, "w": w, "x": x.T, "v": V, "n": n},
                          elementwise=True)
    close(y_hat, loop, "ŷ(x) from the note against the explicit double loop over pairs")
    close(fm(x, w_0, w, V), loop, "vectorised ŷ(x) against the explicit double loop over pairs")

    zero = torch.zeros(n, dtype=torch.float64, device=device(), requires_grad=True)
    y_0 = fm(zero[None], w_0, w, V)[0]
    (gradient,) = torch.autograd.grad(y_0, zero)
    hessian = torch.autograd.functional.hessian(lambda x_: fm(x_[None], w_0, w, V)[0], zero.detach())
    close(y_0.detach(), w_0, "ŷ(0) = w_0")
    for name, at in (("value", zero.detach()), ("value at a sparse x", x[0])):
        close(evaluate_with("rendle2010factorization/fm-model", {"w_0": w_0, "w": w, "x": at, "v": V, "n": n}, elementwise=True),
              w_0 + at @ w + 0.5 * at @ hessian @ at, f"the note's ŷ(x) = the quadratic fixed by autograd's Hessian ({name})")
    close(gradient, w, "∂ŷ/∂x at 0 = w")
    close(hessian, V @ V.T - torch.diag((V * V).sum(1)), "∂²ŷ/∂x_i∂x_j = ⟨v_i, v_j⟩ off the diagonal, 0 on it")


@check("rendle2010factorization/pairwise-linear-time",
       tex=r"\sum_{i=1}^{n} \sum_{j=i+1}^{n} \langle \mathbf{v}_i, \mathbf{v}_j \rangle \, x_i x_j = \frac{1}{2} \sum_{f=1}^{k} \left[ \left( \sum_{i=1}^{n} v_{i,f} \, x_i \right)^{2} - \sum_{i=1}^{n} v_{i,f}^{2} \, x_i^{2} \right]",
       evaluates=True)
def check_linear_time_form_equals_pairwise_sum():
    """Lemma 3.1 for several ranks k, on sparse x (batch, n) with exact zeros and on a dense x."""
    g = seed(1)
    n = 10
    for k in (1, 2, 5, 16):
        _, _, V = fm_parameters(n, k, g)
        x = torch.cat([sparse_x(n, g, batch=4), torch.randn(1, n, generator=g, dtype=torch.float64).to(device())])
        # ½ Σ_f [ (Σ_i v_{i,f} x_i)² − Σ_i v_{i,f}² x_i² ]      — O(kn), from the note's LaTeX (x_i: feature i of 5 rows)
        linear_time = evaluate_with("rendle2010factorization/pairwise-linear-time", {"v": V, "x": x.T, "n": n, "k": k},
                                    elementwise=True)
        pairwise = torch.stack([pairwise_double_loop(x_b, V) for x_b in x])   # O(kn²)
        close(linear_time, pairwise, f"O(kn) form against the pairwise sum, k={k}")
        # both sides of the identity as the note writes them
        holds("rendle2010factorization/pairwise-linear-time", v=V, x=x[0], n=n, k=k)


@check("rendle2010factorization/grad-factor",
       tex=r"\frac{\partial \hat{y}(\mathbf{x})}{\partial v_{i,f}} = x_i \sum_{j=1}^{n} v_{j,f} \, x_j - v_{i,f} \, x_i^{2}",
       evaluates=True)
def check_factor_gradient_against_autograd():
    """∂ŷ/∂v_{i,f} for every (i, f) against autograd; also ∂ŷ/∂w_0 = 1 and ∂ŷ/∂w_i = x_i."""
    g = seed(2)
    n, k = 9, 4
    w_0, w, V = fm_parameters(n, k, g)
    x = sparse_x(n, g)[0]
    w_0, w, V = (t.clone().requires_grad_(True) for t in (w_0, w, V))
    dw_0, dw, dV = torch.autograd.grad(fm(x[None], w_0, w, V)[0], (w_0, w, V))
    V = V.detach()
    cached = x @ V                                         # Σ_j v_{j,f} x_j for each f, shape (k,)
    # ∂ŷ/∂v_{i,f} = x_i Σ_j v_{j,f} x_j − v_{i,f} x_i², from the note's LaTeX for every (i, f)
    grad_V = torch.stack([torch.stack([evaluate("rendle2010factorization/grad-factor", x=x, v=V, i=i, f=f, n=n)
                                       for f in range(1, k + 1)]) for i in range(1, n + 1)])
    close(dV, grad_V, "∂ŷ/∂V (n, k) against autograd")
    close(x[:, None] * cached[None, :] - V * (x ** 2)[:, None], grad_V, "the cached Σ_j v_{j,f} x_j form")
    close(dw_0, torch.ones((), dtype=torch.float64, device=device()), "∂ŷ/∂w_0 = 1")
    close(dw, x, "∂ŷ/∂w_i = x_i")


@check("rendle2010factorization/mf-special-case",
       tex=r"\hat{y}(\mathbf{x}) = w_0 + w_u + w_i + \langle \mathbf{v}_u, \mathbf{v}_i \rangle", evaluates=True)
def check_one_hot_user_item_is_biased_matrix_factorization():
    """With x = one-hot(user u) ⊕ one-hot(item i), the FM over all |U|·|I| pairs equals the biased MF
    table w_0 + b_u + b_i + P Qᵀ, where b, P are the user rows and b, Q the item rows of w, V."""
    g = seed(3)
    n_users, n_items, k = 4, 5, 3
    w_0, w, V = fm_parameters(n_users + n_items, k, g)
    users, items = torch.meshgrid(torch.arange(n_users), torch.arange(n_items), indexing="ij")
    x = torch.zeros(n_users * n_items, n_users + n_items, dtype=torch.float64, device=device())
    x[torch.arange(len(x)), users.flatten()] = 1.0
    x[torch.arange(len(x)), n_users + items.flatten()] = 1.0
    y_fm = fm(x, w_0, w, V).reshape(n_users, n_items)
    b_user, b_item = w[:n_users], w[n_users:]
    P, Q = V[:n_users], V[n_users:]
    # ŷ = w_0 + w_u + w_i + ⟨v_u, v_i⟩, from the note's LaTeX for every (u, i) at once
    y_mf = evaluate("rendle2010factorization/mf-special-case", w_0=w_0, w_u=b_user[:, None], w_i=b_item[None, :],
                    v_u=P[:, None, :], v_i=Q[None, :, :])
    close(y_fm, y_mf, "FM on one-hot user ⊕ item against biased MF, all (u, i)")


if __name__ == "__main__":
    run_checks(__name__)
