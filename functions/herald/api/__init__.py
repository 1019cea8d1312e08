"""Herald's HTTP API: Powertools REST resolver, pydantic request models, one error format."""
