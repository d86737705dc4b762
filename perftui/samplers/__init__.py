"""Samplers: one module per source. No UI imports here, ever."""
