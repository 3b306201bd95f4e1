"""Checks for notes/singh2023better.md (Semantic IDs in ranking): the row index of an N-gram piece of a
Semantic ID and the bag-of-embeddings feature built from the pieces.

References: numpy's ravel_multi_index for the base-K index and an exhaustive enumeration of all K^N
pieces for the bijection; nn.EmbeddingBag(mode="sum") for the pooled feature, and autograd against
counted gradients for which table rows a pooled feature updates.
"""
import itertools

import numpy as np
import torch

from harness import check, close, device, evaluate, run_checks, seed

L, K, N = 8, 6, 2          # levels of the Semantic ID, codes per level, codes per piece
D = 4                      # embedding width


def piece_index(piece, K):
    """piece: (..., N) long codes c_a..c_{a+N-1} -> (...,) row index Σ_j c_{a+j} K^j."""
    powers = K ** torch.arange(piece.shape[-1], device=piece.device)
    # idx(c_a, …, c_{a+N−1}) = Σ_{j=0}^{N−1} c_{a+j} K^j
    return (piece * powers).sum(-1)


def pieces_of(sid, starts, N):
    """sid: (B, L) codes -> (B, M, N) pieces starting at the given level offsets."""
    return torch.stack([sid[:, a:a + N] for a in starts], 1)


@check("singh2023better/ngram-index", tex=r"\mathrm{idx}(c_a, \dots, c_{a+N-1}) = \sum_{j=0}^{N-1} c_{a+j} K^{j}", evaluates=True)
def check_ngram_index_is_a_bijection():
    """Over all K^N possible pieces (K=6, N=3 and N=2) the index equals numpy's ravel_multi_index of the
    reversed piece (c_a has weight 1) and takes every value 0..K^N−1 exactly once: no collisions."""
    for n in (2, 3):
        pieces = torch.tensor(list(itertools.product(range(K), repeat=n)), device=device())   # (K^n, n)
        # idx(c_a, …, c_{a+N−1}) = Σ_{j=0}^{N−1} c_{a+j} K^j, evaluated from the note for all pieces at once:
        # c's rows are the levels (c_{a+j} is row a + j, levels numbered from 1), its columns the K^n pieces
        idx = evaluate("singh2023better/ngram-index", c=pieces.T.double(), a=1, N=n, K=K)
        reference = np.ravel_multi_index(tuple(pieces.cpu().numpy()[:, ::-1].T), (K,) * n)
        close(idx.double(), torch.as_tensor(reference, dtype=torch.float64, device=idx.device),
              f"the note's idx against np.ravel_multi_index (N={n})")
        close(piece_index(pieces, K).double(), idx.double(), f"piece_index() used below agrees (N={n})")
        close(torch.sort(idx).values.double(), torch.arange(K ** n, device=idx.device).double(),
              f"every row 0..K^{n}−1 used exactly once")


@check("singh2023better/ngram-index", tex=r"\mathrm{idx}(c_a, \dots, c_{a+N-1}) = \sum_{j=0}^{N-1} c_{a+j} K^{j}")
@check("singh2023better/bag-of-embeddings", tex=r"\mathbf{e}_v = \sum_{m=1}^{M} E_m\left[\mathrm{idx}_m(v)\right]", evaluates=True)
def check_bag_of_embeddings_against_embedding_bag():
    """e_v = Σ_m E_m[idx_m(v)] with one table per piece position equals nn.EmbeddingBag(mode="sum")
    over the stacked tables (row offset m·K^N), for non-overlapping and overlapping bigram pieces."""
    g = seed(0)
    sid = torch.randint(0, K, (16, L), generator=g).to(device())
    for starts in (range(0, L, N), range(0, L - N + 1)):            # (c1c2)(c3c4)… and (c1c2)(c2c3)…
        M = len(starts)
        tables = torch.randn(M, K ** N, D, generator=g, dtype=torch.float64).to(device())   # E_1..E_M
        idx = piece_index(pieces_of(sid, starts, N), K)                                       # (B, M)
        # e_v = Σ_m E_m[idx_m(v)]
        e_v = sum(tables[m][idx[:, m]] for m in range(M))
        bag = torch.nn.EmbeddingBag(M * K ** N, D, mode="sum", dtype=torch.float64).to(device())
        with torch.no_grad():
            bag.weight.copy_(tables.reshape(M * K ** N, D))
        flat = (idx + torch.arange(M, device=idx.device) * K ** N).reshape(-1)
        offsets = torch.arange(0, flat.numel(), M, device=idx.device)
        close(e_v, bag(flat, offsets), f"Σ_m E_m[idx_m] against nn.EmbeddingBag (M={M})")
        # e_v = Σ_{m=1}^{M} E_m[idx_m(v)], evaluated from the note for every video v: E_m the m-th table's lookup
        # (nn.Embedding), idx_m(v) the row of v's m-th piece
        lookups = [torch.nn.Embedding.from_pretrained(tables[m]) for m in range(M)]
        E = [lambda row, table=table: table(row.long()) for table in lookups]
        idx_m = [lambda v, m=m: idx[int(v) - 1, m] for m in range(M)]
        e_note = torch.stack([evaluate("singh2023better/bag-of-embeddings", E=E, idx=idx_m, M=M, v=v)
                              for v in range(1, len(sid) + 1)])
        close(e_note, bag(flat, offsets), f"the note's Σ_m E_m[idx_m(v)] against nn.EmbeddingBag (M={M})")


@check("singh2023better/bag-of-embeddings", tex=r"\mathbf{e}_v = \sum_{m=1}^{M} E_m\left[\mathrm{idx}_m(v)\right]")
def check_items_sharing_a_piece_share_its_gradient():
    """A new video whose first piece matches trained videos hits the same row of E_1: the gradient of a
    linear loss Σ_v w·e_v on E_1 is, row by row, w times the number of videos whose first piece uses
    that row (computed by counting, compared with autograd)."""
    g = seed(1)
    sid = torch.randint(0, K, (32, L), generator=g).to(device())
    sid[16:, :N] = sid[:16, :N]                 # the second half shares its first piece with the first
    starts = range(0, L, N)
    M = len(starts)
    tables = torch.randn(M, K ** N, D, generator=g, dtype=torch.float64).to(device()).requires_grad_(True)
    w = torch.randn(D, generator=g, dtype=torch.float64).to(device())
    idx = piece_index(pieces_of(sid, starts, N), K)
    e_v = sum(tables[m][idx[:, m]] for m in range(M))
    (e_v @ w).sum().backward()
    counts = torch.bincount(idx[:, 0], minlength=K ** N).double()
    close(tables.grad[0], counts[:, None] * w[None, :], "∂/∂E_1 = (videos using the row) · w")
    shared = idx[:16, 0]
    close(counts[shared], 2 * torch.bincount(shared, minlength=K ** N).double()[shared],
          "each shared first-piece row is used twice as often once the new videos arrive")


if __name__ == "__main__":
    run_checks(__name__)
