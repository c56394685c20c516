"""The truth oracle: the exact value of every registry KPI, computed from the sandbox world."""

from pulse.sandbox.oracle.oracle import VALUE_COLUMNS, Oracle

__all__ = ["VALUE_COLUMNS", "Oracle"]
