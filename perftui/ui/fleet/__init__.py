"""The fleet screen: one row per host (perftui fleet)."""
