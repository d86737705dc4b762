"""perftui: what is holding your GPU workload back, live in the terminal."""

__version__ = "0.1.0"
