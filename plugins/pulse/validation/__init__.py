"""Validation between landing and raw. `validate_stream()` decides, for one stream's records of
one batch, which rows are quarantined (row-level rules) and whether the batch may load at all
(batch-level rules)."""

from pulse.validation.rules import validate_stream

__all__ = ["validate_stream"]
