"""Data access: the only package that knows the DynamoDB key layout; one module per entity on a shared codec."""
