"""Harness for benchmarks/run_all.py: perftui side by side with other monitors in tmux.

Modules: `stats` (medians and spreads), `proc` (/proc parsing), `tools` (how to start, recognise,
poke and quit each monitor), `tmux` (a detached session of a fixed size), `session` (one timed run
of one monitor), `workload` (the fixed CPU-bound job for the observer effect), `headless` (record,
report, replay-load and attach costs), `results` (JSON and Markdown).
"""
