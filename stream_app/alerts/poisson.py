"""The one-sided Poisson test the NSM decline detector uses (no SciPy for one function)."""

from __future__ import annotations

import math

__all__ = ["poisson_lower_tail"]

EXACT_UP_TO = 60.0  # above this the Wilson-Hilferty form is accurate to ~1e-3 relative


def poisson_lower_tail(observed: float, expected: float) -> float:
    """P(X <= observed) for X ~ Poisson(expected): how surprising a count this low is.

    Exact summation for small ``expected``; above it the Wilson-Hilferty approximation of the
    equivalent chi-square tail, P(X <= k) = P(chi2(2(k+1)) > 2 * expected).
    """
    if expected <= 0:
        return 1.0
    k = math.floor(max(observed, 0.0))
    if k >= expected * 4 + 50:
        return 1.0
    if expected <= EXACT_UP_TO:
        term = math.exp(-expected)
        total = term
        for i in range(1, k + 1):
            term *= expected / i
            total += term
        return min(1.0, total)
    dof = 2.0 * (k + 1)
    z = ((2.0 * expected / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2))
