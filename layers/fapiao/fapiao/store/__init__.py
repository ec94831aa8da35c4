"""The AWS adapters of the ports (``fapiao.ports``): DynamoDB, S3, Step Functions, EventBridge."""
