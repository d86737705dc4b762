"""The Prometheus exporter: a face that reads the MetricStore and writes the text format through
`prometheus_client` (perftui's own names, and dcgm-exporter's under `--compat dcgm`)."""
