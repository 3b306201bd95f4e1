"""Checks for notes/bolukbasi2016man.md: the gender subspace by PCA of the defining sets, direct and
indirect bias, neutralise, equalise, and the blog's mean-direction and equalise misstatements.

The embedding is synthetic (dimension 12, unit vectors): ten definitional pairs that differ along a
hidden gender direction g_0 plus noise, and "neutral" words with some leakage along g_0. References:
torch.linalg.eigh of C against torch.linalg.svd of the centred rows, cosines computed in a rotated
basis where g is the first axis (Householder reflection), and the geometric properties the steps promise.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, differs, evaluate, evaluate_with, run_checks, seed

dim = 12


def embedding(generator):
    """(pairs (10, 2, dim), neutral (30, dim), g_0 (dim,)): unit vectors, float64."""
    g_0 = F.normalize(torch.randn(dim, generator=generator, dtype=torch.float64), dim=0)
    base = torch.randn(10, dim, generator=generator, dtype=torch.float64)
    alpha = 0.8 + 0.4 * torch.rand(10, 1, generator=generator, dtype=torch.float64)
    noise = 0.15 * torch.randn(10, 2, dim, generator=generator, dtype=torch.float64)
    pairs = torch.stack([base + alpha * g_0, base - alpha * g_0], 1) + noise
    neutral = torch.randn(30, dim, generator=generator, dtype=torch.float64) + 0.7 * torch.randn(30, 1, generator=generator, dtype=torch.float64) * g_0
    return F.normalize(pairs, dim=-1).to(device()), F.normalize(neutral, dim=-1).to(device()), g_0.to(device())


def gender_direction(pairs):
    """g: the top principal component of C = Σ_i Σ_{w ∈ D_i} (w − μ_i)ᵀ(w − μ_i) / |D_i|, by eigh: (dim,)."""
    mu = pairs.mean(1, keepdim=True)                                   # μ_i for each defining set
    centred = pairs - mu
    C = torch.einsum("ndi,ndj->ij", centred, centred) / pairs.shape[1]
    return torch.linalg.eigh(C).eigenvectors[:, -1], C


def aligned(u, v):
    """u with its sign flipped to agree with v (principal directions are defined up to sign)."""
    return u * torch.sign(u @ v)


def householder_to_first_axis(g):
    """An orthogonal Q (dim, dim) with Q g = e_1."""
    e_1 = torch.zeros_like(g)
    e_1[0] = 1.0
    u = F.normalize(g - e_1, dim=0)
    return torch.eye(len(g), dtype=g.dtype, device=g.device) - 2 * torch.outer(u, u)


def neutralize(w, B):
    """w := (w − w_B)/||w − w_B|| for rows w (..., dim) and an orthonormal basis B (k, dim) of the subspace."""
    w_B = (w @ B.T) @ B
    return (w - w_B) / (w - w_B).norm(dim=-1, keepdim=True)


def equalize(E, B):
    """w := ν + sqrt(1 − ||ν||²) (w_B − μ_B)/||w_B − μ_B|| for every row of the equality set E (|E|, dim)."""
    mu = E.mean(0)
    mu_B = (mu @ B.T) @ B
    nu = mu - mu_B
    w_B = (E @ B.T) @ B
    return nu + (1 - nu @ nu).sqrt() * (w_B - mu_B) / (w_B - mu_B).norm(dim=-1, keepdim=True), nu


@check("bolukbasi2016man/gender-pca",
       tex=r"C = \sum_{i=1}^{n} \sum_{w \in D_i} \frac{(\vec{w} - \mu_i)^\top (\vec{w} - \mu_i)}{|D_i|}", evaluates=True)
def check_gender_direction_by_pca():
    """The top eigenvector of C (eigh) equals the top right-singular vector of the stacked rows
    (w − μ_i)/sqrt(|D_i|) (svd) and of the ten pair differences w_a − w_b; it recovers the hidden g_0."""
    g_ = seed(0)
    pairs, _, g_0 = embedding(g_)
    g, C = gender_direction(pairs)
    rows = ((pairs - pairs.mean(1, keepdim=True)) / pairs.shape[1] ** 0.5).reshape(-1, dim)
    close(rows.T @ rows, C, "C as a Gram matrix of the centred rows")
    # C = Σ_i Σ_{w ∈ D_i} (w − μ_i)ᵀ(w − μ_i) / |D_i|, the paper's row vectors: (w − μ_i)ᵀ(w − μ_i) is an outer product
    C_note = evaluate_with("bolukbasi2016man/gender-pca",
                           {"D": [list(pair) for pair in pairs], "mu": pairs.mean(1), "n": len(pairs)}, row_vectors=True)
    close(C_note, rows.T @ rows, "the note's C against the Gram matrix of the centred rows")
    # defining sets of 2, 3 and 4 words (a pair alone is symmetric about its mean): C against Σ_i torch.cov
    sets = [list(pairs[0]), [pairs[1, 0], pairs[1, 1], pairs[2, 0]], [pairs[3, 0], pairs[3, 1], pairs[4, 0], pairs[5, 1]]]
    C_sets = evaluate_with("bolukbasi2016man/gender-pca", {"D": sets, "mu": torch.stack([torch.stack(D).mean(0) for D in sets]),
                                                          "n": len(sets)}, row_vectors=True)
    close(C_sets, sum(torch.cov(torch.stack(D).T, correction=0) for D in sets), "C for sets of 2, 3, 4 words vs Σ torch.cov")
    g_svd = torch.linalg.svd(rows).Vh[0]
    close(aligned(g_svd, g), g, "top component: svd of the centred rows against eigh of C")
    g_diff = torch.linalg.svd(pairs[:, 0] - pairs[:, 1]).Vh[0]
    close(aligned(g_diff, g), g, "top component: svd of the pair differences (no global centring)")
    close(abs(float(g @ g_0)) > 0.95, True, "|cos(g, g_0)| > 0.95")
    eigenvalues = torch.linalg.eigvalsh(C)
    close(eigenvalues[-1] / eigenvalues.sum() > 0.5, True, "the first component explains most of the variance")


@check("bolukbasi2016man/misstatement-mean-direction",
       tex=r"\vec{b} = \frac{1}{|S|} \sum_{(w_a, w_b) \in S} \frac{\vec{w}_a - \vec{w}_b}{\lVert \vec{w}_a - \vec{w}_b \rVert}",
       evaluates=True)
@check("bolukbasi2016man/gender-pca",
       tex=r"C = \sum_{i=1}^{n} \sum_{w \in D_i} \frac{(\vec{w} - \mu_i)^\top (\vec{w} - \mu_i)}{|D_i|}")
def check_mean_of_normalised_differences_is_not_the_principal_component():
    """The blog's b (normalised to unit length) is close to the PCA direction g but not equal to it."""
    g_ = seed(0)
    pairs, _, _ = embedding(g_)
    g, _ = gender_direction(pairs)
    differences = pairs[:, 0] - pairs[:, 1]
    # b = (1/|S|) Σ (w_a − w_b)/||w_a − w_b||
    b = evaluate("bolukbasi2016man/misstatement-mean-direction", S=[(w_a, w_b) for w_a, w_b in pairs])
    close(b, F.normalize(differences, dim=1).mean(0), "the blog's b against the mean of F.normalize(w_a − w_b)")
    b = b / b.norm()
    close(float(b @ aligned(g, b)) > 0.9, True, "the two directions are close (cos > 0.9)")
    differs(b, aligned(g, b), "mean of normalised differences vs first principal component", at_least=1e-3)


@check("bolukbasi2016man/direct-bias",
       tex=r"\mathrm{DirectBias}_c = \frac{1}{|N|} \sum_{w \in N} \left| \cos(\vec{w}, g) \right|^{c}", evaluates=True)
@check("bolukbasi2016man/neutralize",
       tex=r"\vec{w} := \frac{\vec{w} - \vec{w}_B}{\lVert \vec{w} - \vec{w}_B \rVert}", evaluates=True)
def check_direct_bias_and_neutralize():
    """DirectBias_c with F.cosine_similarity equals the same average computed in a basis where g is the
    first axis (cos = first coordinate / norm). Neutralising makes every word orthogonal to the
    subspace (k = 1 and k = 2) and unit length, so DirectBias_c drops from > 0 to 0 for every c > 0;
    without the re-normalisation (the blog's form) the vectors are shorter than 1."""
    g_ = seed(1)
    pairs, N, _ = embedding(g_)
    g, C = gender_direction(pairs)
    Q = householder_to_first_axis(g)
    for c in (0.5, 1.0, 2.0, 4.0):
        # (1/|N|) Σ_{w ∈ N} |cos(w, g)|^c, with cos(w, g) the cosine similarity
        direct_bias = evaluate("bolukbasi2016man/direct-bias", N=list(N), g=g, c=c)
        close(direct_bias, (F.cosine_similarity(N, g.expand_as(N), dim=1).abs() ** c).mean(), f"DirectBias_{c} vs F.cosine_similarity")
        rotated = N @ Q.T
        close(direct_bias, ((rotated[:, 0] / rotated.norm(dim=1)).abs() ** c).mean(), f"DirectBias_{c} in a rotated basis")
        close(direct_bias > 0.01, True, f"DirectBias_{c} before neutralising is positive")
    B_1 = g[None]
    B_2 = torch.linalg.eigh(C).eigenvectors[:, -2:].T                    # k = 2: top two components
    for B in (B_1, B_2):
        neutral = neutralize(N, B)
        # w := (w − w_B) / ||w − w_B||, the note's LaTeX word by word, against F.normalize of the residual of
        # torch.linalg.lstsq (projection onto the subspace's complement computed by least squares, not by w_B)
        residual = N - (torch.linalg.lstsq(B.T, N.T).solution.T @ B)
        note = torch.stack([evaluate("bolukbasi2016man/neutralize", wvec=w, wvec_B=(w @ B.T) @ B) for w in N])
        close(note, F.normalize(residual, dim=1), f"the note's neutralise against F.normalize(lstsq residual), k={len(B)}")
        close(neutral, note, f"the neutralise used below against the note's, k={len(B)}")
        close(neutral @ B.T, torch.zeros(len(N), len(B), dtype=N.dtype, device=N.device), f"w · b_j = 0, k={len(B)}", atol=1e-12)
        close(neutral.norm(dim=1), torch.ones(len(N), dtype=N.dtype, device=N.device), f"||w|| = 1, k={len(B)}")
    neutral = neutralize(N, B_1)
    for c in (0.5, 1.0, 2.0):
        close((F.cosine_similarity(neutral, g.expand_as(neutral), dim=1).abs() ** c).mean(), 0.0,
              f"DirectBias_{c} after neutralising", atol=1e-6)
    projected_only = N - (N @ g)[:, None] * g                              # the blog's form, no re-normalisation
    differs(projected_only.norm(dim=1), torch.ones(len(N), dtype=N.dtype), "||w − w_B|| vs 1", at_least=1e-2)


@check("bolukbasi2016man/indirect-bias",
       tex=r"\beta(w, v) = \left( w \cdot v - \frac{w_\perp \cdot v_\perp}{\lVert w_\perp \rVert_2 \lVert v_\perp \rVert_2} \right) \Big/ \left( w \cdot v \right)",
       evaluates=True)
def check_indirect_bias():
    """β from w_g = (w·g) g, w_⊥ = w − w_g equals β computed in the rotated basis (w_⊥ = drop the first
    coordinate); β = 0 for words without a gender component; β = 1 when w_⊥ ⟂ v_⊥."""
    g_ = seed(2)
    pairs, N, _ = embedding(g_)
    g, _ = gender_direction(pairs)

    def beta(w, v):
        w_perp, v_perp = w - (w @ g) * g, v - (v @ g) * g
        # β(w, v) = (w·v − w⊥·v⊥ / (||w⊥||₂ ||v⊥||₂)) / (w·v), with · the dot product
        return evaluate_with("bolukbasi2016man/indirect-bias", {"w": w, "v": v, "w_perp": w_perp, "v_perp": v_perp}, dot=True)

    Q = householder_to_first_axis(g)
    for i in range(0, 20, 2):
        w, v = N[i], N[i + 1]
        w_r, v_r = Q @ w, Q @ v
        reference = (w_r @ v_r - (w_r[1:] @ v_r[1:]) / (w_r[1:].norm() * v_r[1:].norm())) / (w_r @ v_r)
        close(beta(w, v), reference, f"β for neutral words {i}, {i + 1}")
    w, v = neutralize(N[:2], g[None])
    close(beta(w, v), 0.0, "β = 0 without gender components", atol=1e-12)
    w_perp = F.normalize(N[0] - (N[0] @ g) * g, dim=0)
    other = N[1] - (N[1] @ g) * g - ((N[1] - (N[1] @ g) * g) @ w_perp) * w_perp
    w, v = 0.6 * g + 0.8 * w_perp, 0.5 * g + 0.75 ** 0.5 * F.normalize(other, dim=0)
    close(beta(w, v), 1.0, "β = 1 when all similarity comes from the gender direction")


@check("bolukbasi2016man/equalize",
       tex=r"\vec{w} := \nu + \sqrt{1 - \lVert \nu \rVert^{2}} \, \frac{\vec{w}_B - \mu_B}{\lVert \vec{w}_B - \mu_B \rVert}",
       evaluates=True)
@check("bolukbasi2016man/neutralize",
       tex=r"\vec{w} := \frac{\vec{w} - \vec{w}_B}{\lVert \vec{w} - \vec{w}_B \rVert}")
def check_equalize_makes_neutral_words_equidistant():
    """For a pair and for a 3-word equality set, with the members equalised by the note's formula evaluated
    from its LaTeX: members are unit vectors with the same gender-free part ν, a pair's gender components
    are opposite, and every neutralised word has the same distance to all members (torch.cdist; not so
    before equalising)."""
    g_ = seed(3)
    pairs, N, _ = embedding(g_)
    g, _ = gender_direction(pairs)
    B = g[None]
    neutral = neutralize(N, B)
    third = F.normalize(pairs[3, 0] + 0.3 * pairs[4, 1], dim=0)
    for E in (pairs[0], torch.stack([pairs[1, 0], pairs[1, 1], third])):
        distances_before = torch.cdist(neutral, E)
        _, nu = equalize(E, B)
        mu_B = (E.mean(0) @ B.T) @ B
        # w := ν + sqrt(1 − ||ν||²) (w_B − μ_B) / ||w_B − μ_B||, the note's LaTeX for every member w
        new = torch.stack([evaluate("bolukbasi2016man/equalize", nu=nu, wvec_B=(w @ B.T) @ B, mu_B=mu_B) for w in E])
        close(new, equalize(E, B)[0], f"the equalise used below against the note's, |E|={len(E)}")
        close(new.norm(dim=1), torch.ones(len(E), dtype=E.dtype, device=E.device), f"||w|| = 1, |E|={len(E)}")
        close(new - (new @ g)[:, None] * g, nu.expand_as(new), f"w − w_B = ν for every member, |E|={len(E)}")
        distances = torch.cdist(neutral, new)
        close(distances, distances[:, :1].expand_as(distances), f"neutral words equidistant from all members, |E|={len(E)}")
        differs(distances_before, distances_before[:, :1].expand_as(distances_before), "distances before equalising")
    mu_B = (pairs[0].mean(0) @ g) * g
    nu = pairs[0].mean(0) - mu_B
    new = torch.stack([evaluate("bolukbasi2016man/equalize", nu=nu, wvec_B=(w @ g) * g, mu_B=mu_B) for w in pairs[0]])
    close(new[0] @ g, -(new[1] @ g), "a pair's gender components are opposite")


@check("bolukbasi2016man/misstatement-equalize",
       tex=r"\vec{w}_{a,\mathrm{new}} = \nu + \sqrt{\lVert \vec{w}_a \rVert^{2} - \lVert \mu_B \rVert^{2}} \, \frac{\vec{w}_{aB} - \mu_B}{\lVert (\vec{w}_a - \nu) - \mu_B \rVert}")
@check("bolukbasi2016man/equalize",
       tex=r"\vec{w} := \nu + \sqrt{1 - \lVert \nu \rVert^{2}} \, \frac{\vec{w}_B - \mu_B}{\lVert \vec{w}_B - \mu_B \rVert}")
def check_blog_equalize_leaves_the_unit_sphere():
    """The blog's corrected component gives vectors whose norms differ from 1 (the paper's are exactly 1)."""
    g_ = seed(4)
    pairs, _, _ = embedding(g_)
    g, _ = gender_direction(pairs)
    B = g[None]
    norms_blog, norms_paper = [], []
    for w_a, w_b in pairs:
        mu = (w_a + w_b) / 2
        mu_B = (mu @ g) * g
        nu = mu - mu_B
        w_aB = (w_a @ g) * g
        # ν + sqrt(||w_a||² − ||μ_B||²) (w_aB − μ_B) / ||(w_a − ν) − μ_B||
        blog = nu + (w_a @ w_a - mu_B @ mu_B).sqrt() * (w_aB - mu_B) / ((w_a - nu) - mu_B).norm()
        norms_blog.append(blog.norm())
        norms_paper.append(equalize(torch.stack([w_a, w_b]), B)[0][0].norm())
    norms_blog, norms_paper = torch.stack(norms_blog), torch.stack(norms_paper)
    close(norms_paper, torch.ones_like(norms_paper), "paper's equalise: unit norms")
    differs(norms_blog, norms_paper, "blog's equalise: norms differ from 1", at_least=1e-2)


if __name__ == "__main__":
    run_checks(__name__)
