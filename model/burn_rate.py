"""Multi-window, multi-burn-rate math (Google SRE workbook, ch. 5), without Pulumi: the
config loader checks reachability with it and components/slo.py compiles alarms from it.

    factor = budget_share x window / long_window          (30 days: 2 % in 1h -> 14.4x)
"""

from __future__ import annotations

from dataclasses import dataclass

from model.enums import Severity

DAY = 86_400


@dataclass(frozen=True)
class BurnTier:
    name: str
    budget_share: float  # of the whole window's error budget, burnt within long_window
    long_window_s: int
    severity: Severity

    @property
    def short_window_s(self) -> int:
        return self.long_window_s // 12

    def factor(self, window_days: int) -> float:
        """Burn rate at which `budget_share` of the budget is gone in `long_window_s`."""
        return self.budget_share * window_days * DAY / self.long_window_s


TIERS: tuple[BurnTier, ...] = (
    BurnTier("page-1h", 0.02, 3_600, Severity.CRITICAL),
    BurnTier("page-6h", 0.05, 21_600, Severity.CRITICAL),
    BurnTier("ticket-1d", 0.10, DAY, Severity.WARNING),
    BurnTier("ticket-3d", 0.10, 3 * DAY, Severity.WARNING),
)


def window_label(seconds: int) -> str:
    for unit, size in (("d", DAY), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def window_evaluation(seconds: int) -> tuple[int, int]:
    """(period, evaluation periods) for a window: one period up to a day, else whole days."""
    if seconds <= DAY:
        return seconds, 1
    if seconds % DAY:
        raise ValueError(f"a window over one day must be whole days, got {seconds} s")
    return DAY, seconds // DAY


@dataclass(frozen=True)
class BurnAlarm:
    """One window of one tier, as compiled: what the tests and the inventory read."""

    tier: BurnTier
    window_s: int
    factor: float
    threshold: float  # bad-event ratio
    period_s: int
    evaluation_periods: int

    @property
    def label(self) -> str:
        return window_label(self.window_s)


def compile_objective(
    error_budget: float, window_days: int
) -> list[tuple[BurnTier, BurnAlarm, BurnAlarm]]:
    """Every tier's (long, short) window alarms for an objective with this error budget."""
    if not 0 < error_budget < 1:
        raise ValueError(f"error budget must be in (0, 1), got {error_budget}")
    compiled = []
    for tier in TIERS:
        factor = tier.factor(window_days)
        threshold = error_budget * factor
        pair = []
        for window in (tier.long_window_s, tier.short_window_s):
            period, evaluations = window_evaluation(window)
            pair.append(BurnAlarm(tier, window, factor, threshold, period, evaluations))
        compiled.append((tier, pair[0], pair[1]))
    return compiled
