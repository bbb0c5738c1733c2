"""Argument checks shared by every public entry point.

Each check raises ``ValueError`` (bad value) or ``TypeError`` (bad type) with a message that names
the argument, quotes the value received and says what is allowed, e.g.::

    ValueError: gamma must be >= 0, got -1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["check_choice", "check_int", "check_float", "check_range"]


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; otherwise raise ``ValueError``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_int(name: str, value: Any, *, min: int | None = None, max: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer (not a bool) within ``[min, max]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        if not (hasattr(value, "__index__") and not isinstance(value, bool)):
            raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
        value = value.__index__()
    if min is not None and value < min:
        raise ValueError(f"{name} must be >= {min}, got {value!r}")
    if max is not None and value > max:
        raise ValueError(f"{name} must be <= {max}, got {value!r}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
) -> float:
    """Return ``value`` as ``float`` if it is a finite real number in the given interval.

    ``min_open`` / ``max_open`` exclude the bound itself (``min_open=True`` means ``value > min``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name} must be a number, got nan")
    if min is not None and (v <= min if min_open else v < min):
        raise ValueError(f"{name} must be {'>' if min_open else '>='} {min}, got {value!r}")
    if max is not None and (v >= max if max_open else v > max):
        raise ValueError(f"{name} must be {'<' if max_open else '<='} {max}, got {value!r}")
    return v


def check_range(name: str, value: Any, *, min: float | None = None, max: float | None = None) -> tuple[float, float]:
    """Return ``(low, high)`` for a two-element range with ``min <= low <= high <= max``."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (low, high) pair, got {value!r}") from None
    low = check_float(f"{name}[0]", low, min=min, max=max)
    high = check_float(f"{name}[1]", high, min=min, max=max)
    if low > high:
        raise ValueError(f"{name} must satisfy low <= high, got {value!r}")
    return low, high
