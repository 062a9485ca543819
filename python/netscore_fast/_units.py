"""Numbers in text reports with k/M/G/T units (profile summaries, layer tables, roll-ups)."""
from __future__ import annotations

from typing import Optional


def si(value: Optional[float], unit: str = "", digits: int = 2) -> str:
    """1234567 -> '1.23 M' (k, M, G, T); None or negative -> '?'."""
    if value is None or value < 0:
        return "?"
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.{digits}f} {prefix}{unit}"
    return f"{value:.0f} {unit}".rstrip() if float(value).is_integer() else f"{value:.{digits}f} {unit}".rstrip()
