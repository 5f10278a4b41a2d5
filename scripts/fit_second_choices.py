"""Fit the realignment of the iowa-2020 scenarios to the certified 2020 first->final moves.

    python scripts/fit_second_choices.py [--results RESULTS.csv] [--ridge 0.03]

Prints ``election.second_choices`` and ``election.leave_after_nonviable`` as TOML lines
for the ``[election]`` tables of scenarios/iowa-2020.toml and well-prepared.toml.

The model it fits is the truth's realignment (``simulator.truth._realign``): a
non-viable group that breaks up sends a ``leave`` fraction of its members home and the
rest to the remaining groups in proportion to size x weight ``w[from, to]``. From the
certified data, in the units with D >= 2 whose final alignment does not exceed T and
whose first alignment is not empty: the members who left each non-viable group j are
``out_j = max(first_j - final_j, 0)``, each group c that ends with members gained
``max(final_c - first_c, 0)``. ``leave`` is the share of the out-movers found in no
gain; the weights minimise, by nonlinear least squares (scipy), the squared error of
every group's gain against

    (1 - leave) * sum over j of  out_j * first_c * w[j, c] / sum over v != j of first_v * w[j, v]

(v, c: the groups present in both alignments). Log-weights are fitted for every pair of
MAJOR candidates plus, per MAJOR source, one weight for all other candidates; a small
ridge penalty pulls each log-weight to 0 (each source's scale is free). Printed weights
are rescaled so that the "other candidates" weight is 1, the default for unnamed pairs.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from caucus_rehearsal import rules

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "scenarios" / "data" / "iowa-2020-results.csv"
MAJOR = ("Biden", "Buttigieg", "Klobuchar", "Sanders", "Warren", "Yang", "Steyer")
"""Candidates whose weights are fitted, as sources and as targets (2020: each had at
least 2,600 first-alignment supporters in non-viable groups, or won delegates)."""

Floats = npt.NDArray[np.float64]


def load(path: Path) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64],
                               npt.NDArray[np.int64]]:
    """Candidates, first and final alignment (units x candidates) and D per unit (tier D
    for satellites)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cands = [h.removeprefix("final_") for h in rows[0] if h.startswith("final_")]
    first = np.array([[int(r[f"first_{c}"]) for c in cands] for r in rows], dtype=np.int64)
    final = np.array([[int(r[f"final_{c}"]) for c in cands] for r in rows], dtype=np.int64)
    d = np.array([rules.satellite_delegates(int(t)) if r["satellite"] == "1"
                  else int(r["delegates_total"]) for r, t in zip(rows, first.sum(1), strict=True)],
                 dtype=np.int64)
    return cands, first, final, d


def fit(cands: list[str], first: npt.NDArray[np.int64], final: npt.NDArray[np.int64],
        d: npt.NDArray[np.int64], ridge: float) -> tuple[dict[tuple[str, str], float], float,
                                                          dict[str, float]]:
    """(weights for the MAJOR pairs, leave fraction, fit summary)."""
    t = first.sum(axis=1)
    viable = np.array([rules.viable(f, int(a), int(n)) for f, a, n in
                       zip(first.tolist(), t.tolist(), d.tolist(), strict=True)])
    clean = (d >= 2) & (t > 0) & (final.sum(axis=1) <= t)
    # Members who left a non-viable group, and members a group gained.
    out_ = np.where(~viable & clean[:, None], np.maximum(first - final, 0), 0)
    source = out_ > 0
    target = (final > 0) & (first > 0) & clean[:, None]
    moved = np.maximum(final - first, 0) * target
    movers = float(out_.sum())
    leave = 1.0 - float(np.maximum(final - first, 0)[clean].sum()) / movers
    major = [cands.index(c) for c in MAJOR if c in cands]
    units = np.flatnonzero(source.any(axis=1) & target.any(axis=1))
    src, tgt, size = source[units], target[units], first[units].astype(float)
    outs = out_[units].astype(float)
    k = len(cands)
    rest = [c for c in range(k) if c not in major]
    pairs = [(j, c) for j in major for c in major if j != c]
    n_pairs = len(pairs)

    def matrix(theta: Floats) -> Floats:
        # theta: one log-weight per major pair, then one per major source for all the
        # other candidates (its "rest" weight); the sources outside MAJOR keep weight 1.
        w = np.ones((k, k))
        for (j, c), x in zip(pairs, theta[:n_pairs], strict=True):
            w[j, c] = np.exp(x)
        for j, x in zip(major, theta[n_pairs:], strict=True):
            w[j, rest] = np.exp(x)
        np.fill_diagonal(w, 0.0)
        return w

    def predict(theta: Floats) -> Floats:
        w = matrix(theta)
        tsize = size * tgt  # [unit, to]
        gain = np.zeros_like(tsize)
        for j in range(k):
            has = src[:, j]
            if not has.any():
                continue
            share = tsize[has] * w[j][None, :]
            share[:, j] = 0.0
            total = share.sum(axis=1, keepdims=True)
            ok = total[:, 0] > 0
            gain[np.flatnonzero(has)[ok]] += (
                outs[has, j][ok, None] * share[ok] / total[ok])
        return (1.0 - leave) * gain

    observed = moved[units].astype(float)

    def residual(theta: Floats) -> Floats:
        err = (predict(theta) - observed)[tgt]
        return np.concatenate([err, np.sqrt(ridge) * theta])

    start = np.zeros(n_pairs + len(major))
    res = least_squares(residual, start, method="trf")
    before = float(np.sqrt(np.mean(residual(start)[: int(tgt.sum())] ** 2)))
    after = float(np.sqrt(np.mean(res.fun[: int(tgt.sum())] ** 2)))
    w = matrix(res.x)
    # Rescaled per source so that its "rest" weight is 1 (the scale of a row is free).
    weights = {(cands[j], cands[c]): float(w[j, c] / w[j, rest[0]]) for j, c in pairs}
    pred, obs = predict(res.x).sum(axis=0), observed.sum(axis=0)
    for c in major:
        print(f"# gain {cands[c]}: observed {obs[c]:.0f}, fitted {pred[c]:.0f}", file=sys.stderr)
    summary = {"units": float(len(units)), "movers": movers, "rmse_uniform": before,
               "rmse_fitted": after}
    return weights, leave, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--ridge", type=float, default=0.03,
                        help="penalty on each squared log-weight (head counts squared)")
    args = parser.parse_args(argv)
    if not args.results.is_file():
        print(f"fit_second_choices: no such file {args.results}", file=sys.stderr)
        return 2
    weights, leave, summary = fit(*load(args.results), ridge=args.ridge)
    print(f"# fitted on {summary['units']:.0f} units, {summary['movers']:.0f} members of "
          f"non-viable groups that broke up; gain RMSE per target group "
          f"{summary['rmse_uniform']:.2f} (all weights 1) -> {summary['rmse_fitted']:.2f}")
    print(f"leave_after_nonviable = {leave:.3f}")
    body = ", ".join(f'"{a}>{b}" = {w:.3g}' for (a, b), w in sorted(weights.items()))
    print(f"second_choices = {{{body}}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
