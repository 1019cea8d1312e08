"""Fault tests: Herald under failing receivers, crashing handlers, AWS errors and hostile input."""
