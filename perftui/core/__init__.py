"""Metric specs, units and plain data classes. No I/O, no UI."""
