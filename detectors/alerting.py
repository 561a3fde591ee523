"""Turning a score into an alert is a separate step (river's ``ThresholdFilter`` idea) with
hysteresis: an alert opens when the score reaches ``on`` and closes only after ``hold`` consecutive
points below ``off``, so a score wobbling around one threshold does not open and close in a loop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HysteresisAlert:
    on: float = 0.9
    off: float = 0.6
    hold: int = 5
    active: bool = False
    _below: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.off <= self.on <= 1:
            raise ValueError(f"need 0 <= off ({self.off}) <= on ({self.on}) <= 1")

    def update(self, score: float) -> bool:
        """Feed one score; return whether the alert is active after it."""
        if not self.active:
            if score >= self.on:
                self.active, self._below = True, 0
        elif score < self.off:
            self._below += 1
            if self._below >= self.hold:
                self.active = False
        else:
            self._below = 0
        return self.active
