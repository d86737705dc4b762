"""Pure parts of the serving source: server profiles, histogram quantiles, rates, SLO shares. No I/O."""
