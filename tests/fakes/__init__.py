"""Fakes for what this machine lacks (an NVIDIA GPU): see fake_nvml.py."""
