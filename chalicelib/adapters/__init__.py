"""Adapters to the outside world: DynamoDB, SQS, tokens, clocks."""
