"""Data access: each entity module against the real table layout in moto."""
