"""One thin module per Lambda function: AWS event → core call → response."""
