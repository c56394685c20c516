"""What each stream's contract cannot say, written by hand: allowed values, plausible ranges,
orderings, which timestamps may lie in the future and which dates may not. `pulse validation
suites --write` turns these and the contracts into `expectations/<source>.<stream>.json`."""

from __future__ import annotations

from pulse.validation.suites import StreamRules

RULES: dict[str, StreamRules] = {}
