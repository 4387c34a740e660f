"""The YAML metamodel: spec, checks, field kinds, models and migrations (no web code: app/web builds the views)."""
