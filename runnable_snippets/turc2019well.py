"""Checks for notes/turc2019well.md: the distillation loss (cross-entropy against the teacher's soft labels)
against F.cross_entropy with probability targets and F.kl_div, and its gradient with autograd.
"""
import torch
import torch.nn.functional as F

from harness import check, close, device, evaluate, evaluate_with, run_checks, seed

f64 = torch.float64


def transfer_set(g, size=32, classes=5):
    """Student and teacher logits for an unlabelled transfer set U: (size, classes) each."""
    student = torch.randn(size, classes, generator=g, dtype=f64).to(device())
    teacher = (3 * torch.randn(size, classes, generator=g, dtype=f64)).to(device())
    return student, teacher


@check("turc2019well/distillation-loss",
       tex=r"\mathcal{L}_{KD} = -\sum_{x \in \mathcal{U}} \sum_{c} P_t(c \mid x) \log P_s(c \mid x)",
       evaluates=True)
def check_distillation_loss_against_torch():
    """|U| = 32, 5 classes: the double sum against F.cross_entropy(student_logits, teacher_probs, reduction="sum");
    its gradient with respect to the student's logits is P_s − P_t (autograd)."""
    g = seed(0)
    z, v = transfer_set(g)
    z.requires_grad_(True)
    P_t = torch.softmax(v, -1)
    # L_KD = −Σ_{x∈U} Σ_c P_t(c|x) log P_s(c|x), x an example of the transfer set U (its row), c a class
    L_KD = evaluate_with("turc2019well/distillation-loss",
                         {"U": list(range(len(z))), "P_t": lambda c, x: P_t[x.long(), c.long()],
                          "P_s": lambda c, x: torch.softmax(z[x.long()], -1)[c.long()]}, indices={"c": range(5)})
    close(L_KD, F.cross_entropy(z, P_t, reduction="sum"), "L_KD vs F.cross_entropy with soft targets")
    (grad,) = torch.autograd.grad(L_KD, z)
    close(grad, torch.softmax(z, -1).detach() - P_t, "∂L_KD/∂z = P_s − P_t")
    # with a one-hot teacher the loss is the ordinary cross-entropy with hard labels
    hard = F.one_hot(v.argmax(-1), 5).to(f64)
    close(-(hard * torch.log_softmax(z, -1)).sum(), F.cross_entropy(z, v.argmax(-1), reduction="sum"),
          "one-hot teacher gives the hard-label cross-entropy")


@check("turc2019well/cross-entropy-kl", tex=r"H(P_t, P_s) = \mathrm{KL}(P_t \parallel P_s) + H(P_t)",
       evaluates=True)
def check_cross_entropy_is_kl_plus_teacher_entropy():
    """Per example: H(P_t, P_s) = KL(P_t‖P_s) + H(P_t), with KL from F.kl_div; the two losses have the
    same gradient with respect to the student's logits."""
    g = seed(1)
    z, v = transfer_set(g)
    z.requires_grad_(True)
    P_t = torch.softmax(v, -1)
    log_P_s = torch.log_softmax(z, -1)
    H_ts = -(P_t * log_P_s).sum(-1)                                  # H(P_t, P_s), (32,)
    KL = F.kl_div(log_P_s, P_t, reduction="none").sum(-1)           # KL(P_t ‖ P_s), (32,)
    H_t = -(P_t * P_t.log()).sum(-1)                                 # H(P_t)
    close(H_ts, KL + H_t, "H(P_t, P_s) = KL(P_t‖P_s) + H(P_t)")
    # H(P_t, P_s) = KL(P_t ∥ P_s) + H(P_t), with KL from F.kl_div and H the entropy of torch's Categorical
    split = evaluate("turc2019well/cross-entropy-kl", P_t=P_t, P_s=log_P_s.exp(),
                     KL=lambda p, q: F.kl_div(q.log(), p, reduction="none").sum(-1),
                     H=lambda p: torch.distributions.Categorical(probs=p).entropy())
    close(split, F.cross_entropy(z, P_t, reduction="none"), "KL(P_t‖P_s) + H(P_t) vs F.cross_entropy with soft targets")
    (grad_ce,) = torch.autograd.grad(H_ts.sum(), z, retain_graph=True)
    (grad_kl,) = torch.autograd.grad(F.kl_div(log_P_s, P_t, reduction="sum"), z)
    close(grad_ce, grad_kl, "same gradient for cross-entropy and KL")


if __name__ == "__main__":
    run_checks(__name__)
