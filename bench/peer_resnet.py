#!/usr/bin/env python3
"""numpy peer of the finite ResNet engine (MATH §1), for `npm run bench`.

Same algorithm as src/resnet/engine.ts: forward pass over layers, then the
backward pass fused with the GD update (each weight is updated after its last
use), tanh activation, residual scale α/(LM), mean-field rates, frozen
embeddings unless etaE / etaO are given. Everything is timed as a whole
process by the caller (interpreter start-up and numpy import included).

  python3 bench/peer_resnet.py L M D N K            # random problem (numpy RNG), prints a JSON line
  python3 bench/peer_resnet.py --check problem.json # explicit weights/data, prints losses and final weights

Weights use the MATH layout: U[l], V[l] are D × M (columns = units).
"""
import json
import sys
import time

t_start = time.perf_counter()
import numpy as np  # noqa: E402


def train(WE, WU, U, V, X, Y, K, etaU, etaV, etaE=0.0, etaO=0.0, alpha=1.0):
    """X: d_in × N, Y: d_out × N; WE: D × d_in; WU: D × d_out; U, V: L × D × M (updated in place)."""
    L, D, M = U.shape
    N = X.shape[1]
    c = alpha / (L * M)
    ru, rv = etaU / (alpha * N), etaV / (alpha * N)
    H = np.empty((L + 1, N, D))  # h_ℓ, rows = data points
    S = np.empty((L, N, M))
    dS = np.empty((L, N, M))
    losses = np.empty(K)
    for k in range(K):
        # forward
        H[0] = (WE @ X).T
        for l in range(L):
            p = (H[l] @ U[l]) / D  # N × M
            s = np.tanh(p)
            S[l] = s
            dS[l] = 1.0 - s * s
            H[l + 1] = H[l] + c * (s @ V[l].T)
        F = (H[L] @ WU).T / D  # d_out × N
        R = F - Y
        losses[k] = 0.5 * np.sum(R * R) / N
        # backward fused with the update
        b = (WU @ R).T  # N × D
        if etaO != 0.0:
            WU -= (etaO / (alpha * N)) * (H[L].T @ R.T)
        for l in range(L - 1, -1, -1):
            g = dS[l] * ((b @ V[l]) / D)  # N × M
            V[l] -= rv * (b.T @ S[l])
            b_prev = b + c * (g @ U[l].T)
            U[l] -= ru * (H[l].T @ g)
            b = b_prev
        if etaE != 0.0:
            WE -= (etaE / (alpha * N)) * (b.T @ X.T)
    return losses


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as fh:
            pb = json.load(fh)
        WE = np.array(pb["WE"], dtype=float)
        WU = np.array(pb["WU"], dtype=float)
        U = np.array(pb["U"], dtype=float)
        V = np.array(pb["V"], dtype=float)
        X = np.array(pb["X"], dtype=float)
        Y = np.array(pb["Y"], dtype=float)
        losses = train(WE, WU, U, V, X, Y, pb["K"], pb["etaU"], pb["etaV"], pb.get("etaE", 0.0), pb.get("etaO", 0.0), pb.get("alpha", 1.0))
        json.dump({"loss": losses.tolist(), "U": U.tolist(), "V": V.tolist(), "WE": WE.tolist(), "WU": WU.tolist()}, sys.stdout)
        return
    L, M, D, N, K = (int(a) for a in sys.argv[1:6])
    d_in, d_out = 10, 2
    rng = np.random.default_rng(1)
    X = rng.standard_normal((d_in, N))
    T = rng.standard_normal((d_out, d_in)) / np.sqrt(d_in)
    Y = T @ X
    WE = rng.standard_normal((D, d_in))
    WU = rng.standard_normal((D, d_out))
    # per layer, like the engine's streams: U_ℓ then V_ℓ, N(0, D)
    U = np.empty((L, D, M))
    V = np.empty((L, D, M))
    sd = np.sqrt(D)
    for l in range(L):
        U[l] = rng.standard_normal((D, M)) * sd
        V[l] = rng.standard_normal((D, M)) * sd
    t_init = time.perf_counter()
    losses = train(WE, WU, U, V, X, Y, K, 1.0, 1.0)
    t_end = time.perf_counter()
    print(json.dumps({"loss0": float(losses[0]), "lossK": float(losses[-1]), "initS": t_init - t_start, "trainS": t_end - t_init}))


main()
