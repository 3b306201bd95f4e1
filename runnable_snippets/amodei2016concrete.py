"""Checks for notes/amodei2016concrete.md: Krakovna et al.'s reachability, relative reachability and
side-effect-penalised reward (the later formalisation of the paper's impact regulariser), on a tiny
"vase" gridworld, and the blog's next-state-distance misstatement.

The gridworld has 2 × 3 cells; a vase stands on cell (0, 1) and breaks, irreversibly, when the agent steps
there. States are (row, column, vase intact); actions are no-op, up, down, left, right (deterministic).
References: breadth-first-search distances (reachability γ_r^distance), the closed form of a slippery
corridor's expected discounted hitting time, reachable-set counts, and brute force over all action
sequences for the penalised policy.
"""
import functools
import itertools
from collections import deque

import torch

from harness import check, close, differs, evaluate, run_checks

ROWS, COLS, VASE, GOAL = 2, 3, (0, 1), (0, 2)
MOVES = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]                       # no-op, up, down, left, right
STATES = [(r, c, v) for r in range(ROWS) for c in range(COLS) for v in (1, 0)]
INDEX = {s: i for i, s in enumerate(STATES)}


def step(state, action):
    """Deterministic transition: move if inside the grid; stepping onto the vase's cell breaks it."""
    r, c, intact = state
    dr, dc = MOVES[action]
    nr, nc = r + dr, c + dc
    if not (0 <= nr < ROWS and 0 <= nc < COLS):
        nr, nc = r, c
    return (nr, nc, 0 if (nr, nc) == VASE else intact)


def transition_table():
    """next_state[s, a] as state indices: (|S|, |A|)."""
    return torch.tensor([[INDEX[step(s, a)] for a in range(len(MOVES))] for s in STATES])


def reachability(gamma_r, iterations=50):
    """R(x; y) = max_π E[γ_r^{N_π(x; y)}] by value iteration: R(y; y) = 1, R(x; y) = γ_r max_a R(T(x, a); y)."""
    T = transition_table()
    n = len(STATES)
    R = torch.eye(n, dtype=torch.float64)
    for _ in range(iterations):
        R = torch.maximum(torch.eye(n, dtype=torch.float64), gamma_r * R[T].amax(1))
    return R


def bfs_distances():
    """Shortest number of steps from every state to every state (inf if unreachable): (|S|, |S|)."""
    n = len(STATES)
    rows = []
    for source in STATES:
        distance = {source: 0}
        queue = deque([source])
        while queue:
            s = queue.popleft()
            for a in range(len(MOVES)):
                t = step(s, a)
                if t not in distance:
                    distance[t] = distance[s] + 1
                    queue.append(t)
        rows.append([float(distance.get(t, float("inf"))) for t in STATES])
    return torch.tensor(rows, dtype=torch.float64).reshape(n, n)


def d_RR(R, s_t, s_baseline):
    """(1/|S|) Σ_s max(R(s'_t; s) − R(s_t; s), 0)."""
    return torch.clamp(R[INDEX[s_baseline]] - R[INDEX[s_t]], min=0).sum() / len(STATES)


def d_RR_note(R, s_t, s_baseline):
    """The note's d_RR(s_t; s'_t) evaluated from its LaTeX: states as their indices, S all of them,
    R(x; y) read from the reachability table R."""
    # d_RR(s_t; s'_t) = 1/|S| Σ_{s ∈ S} max(R(s'_t; s) − R(s_t; s), 0)
    return evaluate("amodei2016concrete/relative-reachability", S=list(range(len(STATES))), s_t=INDEX[s_t],
                    **{"s_t'": INDEX[s_baseline]}, R=lambda x, y: R[x.long(), y.long()])


START = (0, 0, 1)


@check("amodei2016concrete/reachability", tex=r"R(x; y) = \max_{\pi} \mathbb{E}\left[ \gamma_r^{N_\pi(x; y)} \right]")
def check_reachability_against_shortest_paths_and_a_slippery_corridor():
    """Deterministic gridworld: value iteration gives γ_r^{BFS distance} (0 if unreachable) for γ_r = 0.9,
    and 1/0 reachability for γ_r = 1. Slippery corridor (each move succeeds with probability q):
    R(0; n) = (γ_r q / (1 − γ_r (1 − q)))^n, the expectation of γ_r^N for a sum of n geometric waits."""
    D = bfs_distances()
    for gamma_r in (0.9, 1.0):
        expected = torch.where(torch.isinf(D), torch.zeros_like(D), gamma_r ** D.clamp(max=1e6))
        close(reachability(gamma_r), expected, f"value iteration against γ_r^distance, γ_r={gamma_r}")
    broken = [INDEX[s] for s in STATES if s[2] == 0]
    intact = [INDEX[s] for s in STATES if s[2] == 1]
    close(reachability(1.0)[broken][:, intact], torch.zeros(len(broken), len(intact), dtype=torch.float64),
          "no intact-vase state is reachable once the vase is broken")

    L, q, gamma_r = 6, 0.7, 0.9
    R = torch.eye(L, dtype=torch.float64)
    for _ in range(400):
        # actions left / right / no-op; a move succeeds with probability q, else the agent stays
        right = q * R[torch.clamp(torch.arange(L) + 1, max=L - 1)] + (1 - q) * R
        left = q * R[torch.clamp(torch.arange(L) - 1, min=0)] + (1 - q) * R
        R = torch.maximum(torch.eye(L, dtype=torch.float64), gamma_r * torch.maximum(torch.maximum(left, right), R))
    per_step = gamma_r * q / (1 - gamma_r * (1 - q))
    close(R[0], per_step ** torch.arange(L, dtype=torch.float64), "slippery corridor: R(0; n) in closed form")


@check("amodei2016concrete/relative-reachability",
       tex=r"d_{RR}(s_t; s'_t) = \frac{1}{|\mathcal{S}|} \sum_{s \in \mathcal{S}} \max\left( R(s'_t; s) - R(s_t; s), 0 \right)",
       evaluates=True)
def check_relative_reachability_penalises_only_irreversible_change():
    """Baseline = the state before the step (no-op baseline in a static world). With γ_r = 1: a reversible
    move costs 0; breaking the vase costs |reach(s') ∖ reach(s)| / |S| = 5/12, counted by BFS. With γ_r = 0.9
    the reversible move costs a little, at most 1 − γ_r."""
    D = bfs_distances()
    reach = {s: {t for t in STATES if D[INDEX[s], INDEX[t]] < float("inf")} for s in STATES}
    moved, broke = step(START, 2), step(START, 4)                          # down (reversible), right (vase)
    R_1 = reachability(1.0)
    close(d_RR_note(R_1, moved, START), 0.0, "reversible move, γ_r = 1")
    lost = len(reach[START] - reach[broke]) / len(STATES)
    close(d_RR_note(R_1, broke, START), lost, "breaking the vase: fraction of states made unreachable")
    close(lost, 5 / 12, "five intact-vase states are lost")
    for s_t in STATES:                                                     # every state against the BFS count
        close(d_RR_note(R_1, s_t, START), len(reach[START] - reach[s_t]) / len(STATES), f"d_RR({s_t}; start), γ_r = 1")
    penalty = d_RR_note(reachability(0.9), moved, START)
    close(bool(0 < penalty <= 1 - 0.9), True, "discounted reachability: 0 < d_RR ≤ 1 − γ_r for a reversible move")


@functools.cache
def d_RR_undiscounted(x, y):
    """d_RR(STATES[x]; STATES[y]) with γ_r = 1, evaluated from the note once per pair of states."""
    return d_RR_note(reachability(1.0), STATES[x], STATES[y])


@functools.cache
def optimal_first_action_and_value(beta, gamma=0.95):
    """Value iteration on r'(s, a) = r(s, a) − β d_RR(s_{t+1}; s'_{t+1}) with the no-op baseline s'_{t+1} = s_t,
    reward 1 for entering the goal (terminal), γ_r = 1; returns (greedy first action from START, V(START))."""
    R_1 = reachability(1.0)
    T = transition_table()

    def penalised(s, a):
        t = step(s, a)
        # r'(s_t, a_t) = r(s_t, a_t) − β d_RR(s_{t+1}; s'_{t+1}), the baseline s'_{t+1} = s_t (no-op), evaluated from
        # the note with its d_RR evaluated from the note too
        return evaluate("amodei2016concrete/penalized-reward", s_t=INDEX[s], a_t=a, beta=beta,
                        **{"s_t+1": INDEX[t], "s_t+1'": INDEX[s]},
                        r=lambda x, a_: torch.tensor(float(step(STATES[int(x)], int(a_))[:2] == GOAL)),
                        d_RR=lambda x, y: d_RR_undiscounted(int(x), int(y)))

    table = {(s, a): penalised(s, a) for s in STATES for a in range(len(MOVES))}

    def reward(s, a):
        return table[(s, a)]

    terminal = torch.tensor([(s[0], s[1]) == GOAL for s in STATES])
    r = torch.tensor([[float(reward(s, a)) for a in range(len(MOVES))] for s in STATES], dtype=torch.float64)
    V = torch.zeros(len(STATES), dtype=torch.float64)
    for _ in range(100):
        Q = r + gamma * V[T]
        V = torch.where(terminal, torch.zeros_like(V), Q.amax(1))
    Q = r + gamma * V[T]
    return int(Q[INDEX[START]].argmax()), float(V[INDEX[START]]), reward


def brute_force_value(reward, gamma=0.95, horizon=5):
    """max over all 5^horizon action sequences of Σ_t γ^t r'(s_t, a_t), stopping at the goal."""
    best, best_first = -float("inf"), None
    for actions in itertools.product(range(len(MOVES)), repeat=horizon):
        s, total = START, 0.0
        for t, a in enumerate(actions):
            total += gamma ** t * reward(s, a)
            s = step(s, a)
            if (s[0], s[1]) == GOAL:
                break
        if total > best + 1e-12:
            best, best_first = total, actions[0]
    return best, best_first


@check("amodei2016concrete/penalized-reward", tex=r"r'(s_t, a_t) = r(s_t, a_t) - \beta \, d_{RR}(s_{t+1}; s'_{t+1})", evaluates=True)
@check("amodei2016concrete/relative-reachability",
       tex=r"d_{RR}(s_t; s'_t) = \frac{1}{|\mathcal{S}|} \sum_{s \in \mathcal{S}} \max\left( R(s'_t; s) - R(s_t; s), 0 \right)")
def check_penalty_makes_the_agent_walk_around_the_vase():
    """Without the penalty the shortest path (through the vase, 2 steps) is optimal; with β = 1 the optimal
    policy detours (4 steps) and keeps the vase. Value iteration agrees with brute force over all action
    sequences, in value and in the first action."""
    for beta, first_move in ((0.0, 4), (1.0, 2)):                          # 4 = right (vase), 2 = down (detour)
        action, value, reward = optimal_first_action_and_value(beta)
        best, best_first = brute_force_value(reward)
        close(value, best, f"V(start) against brute force, β={beta}")
        close(action, best_first, f"first action against brute force, β={beta}")
        close(action, first_move, f"first action, β={beta}")
        D = bfs_distances()
        reach = {s: {t for t in STATES if D[INDEX[s], INDEX[t]] < float("inf")} for s in STATES}
        for s in STATES:                                                   # r' against reward − β · (states lost) / |S|
            for a in range(len(MOVES)):
                t = step(s, a)
                expected = float((t[0], t[1]) == GOAL) - beta * len(reach[s] - reach[t]) / len(STATES)
                close(reward(s, a), expected, f"r'({s}, {a}), β={beta}, against BFS reachable sets")
    close(optimal_first_action_and_value(0.0)[1], 0.95, "β = 0: return γ^1 of the 2-step path")
    close(optimal_first_action_and_value(1.0)[1], 0.95 ** 3, "β = 1: return γ^3 of the 4-step detour")


@check("amodei2016concrete/misstatement-next-state",
       tex=r"\sum_{s'} \left| P(s' \mid do(a)) - P(s' \mid do(\varnothing)) \right|")
def check_next_state_distance_cannot_tell_reversible_from_irreversible():
    """Σ_s' |P(s'|do(a)) − P(s'|do(∅))| is 2 for every deterministic move, reversible or vase-breaking;
    relative reachability is 0 for the reversible move and 5/12 for breaking the vase."""
    T = transition_table()
    n = len(STATES)

    def next_state_distance(s, a):
        p_action = torch.zeros(n, dtype=torch.float64)
        p_noop = torch.zeros(n, dtype=torch.float64)
        p_action[T[INDEX[s], a]] = 1.0
        p_noop[T[INDEX[s], 0]] = 1.0
        return (p_action - p_noop).abs().sum()
    reversible, irreversible = next_state_distance(START, 2), next_state_distance(START, 4)
    close(reversible, irreversible, "the same value for both moves")
    R_1 = reachability(1.0)
    differs(reversible, d_RR(R_1, step(START, 2), START), "next-state distance vs relative reachability, reversible move")


if __name__ == "__main__":
    run_checks(__name__)
