"""Pure bottleneck diagnosis: rules table, engine, hysteresis, advice."""
