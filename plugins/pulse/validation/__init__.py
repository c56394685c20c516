"""Validation between landing and raw. `validate_stream()` decides, for one stream's records of
one batch, which rows are quarantined (row-level rules) and whether the batch may load at all
(batch-level rules); `validate_unconformable()` blocks a batch whose records miss contract fields.
The suites live in `expectations/`; `pulse.validation.reconcile` checks sources against each other
after load."""

from pulse.validation.rules import validate_stream, validate_unconformable

__all__ = ["validate_stream", "validate_unconformable"]
