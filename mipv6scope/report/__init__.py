"""The report model (immutable) and the builder analyzers fill in."""
