"""Adapters: thin wrappers over AWS services (boto3 clients, SQS queues, KMS sealing), nothing Herald-specific in their rules."""
