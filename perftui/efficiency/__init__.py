"""Efficiency: achieved TFLOP/s, FLOPS utilization, MFU, energy, cost and scaling across runs."""
