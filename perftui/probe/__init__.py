"""The client-side probe: a controlled load (open or closed loop) whose latencies it measures exactly.

schedule (arrival times) → client (aiohttp requests, SSE parsing) → results (percentiles with
bootstrap confidence intervals, goodput) → live (per-second `probe.*` values into a MetricStore).
The HTTP client (`aiohttp`) is an optional dependency: `pip install 'perftui[probe]'`.
"""
