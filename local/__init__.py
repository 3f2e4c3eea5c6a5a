"""The local stack: embedded PostgreSQL, the AWS emulator, the gateway, the event runner.

Nothing here ships in the Lambda package.
"""
