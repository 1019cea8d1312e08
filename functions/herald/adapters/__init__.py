"""Adapters: thin wrappers over AWS services (boto3 clients, SQS queues, KMS sealing, STS's account), nothing Herald-specific in their rules."""
