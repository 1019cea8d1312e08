"""Herald's CDK infrastructure (never imported by the Lambda code)."""
