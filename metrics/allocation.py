"""Split a published total over counties exactly, in proportion to weights."""

from __future__ import annotations

from collections.abc import Sequence


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` that add up to ``total`` exactly
    (largest remainder; ties go to the earlier weight)."""
    if total < 0 or not weights or any(weight < 0 for weight in weights) or sum(weights) <= 0:
        raise ValueError("allocate needs total >= 0 and non-negative weights with a positive sum")
    scale = total / sum(weights)
    exact = [weight * scale for weight in weights]
    shares = [int(value) for value in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares
