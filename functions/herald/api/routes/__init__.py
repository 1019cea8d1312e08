"""One module per group of API routes; each maps HTTP to a use case in `herald.logic` and nothing more."""
