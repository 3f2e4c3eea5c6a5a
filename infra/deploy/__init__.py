"""One command to a party in AWS: `make deploy`, `make plan`, `make destroy` (docs/deploy.md).

boto3 only (no AWS CLI). Modules: stacks (what is deployed, in which order, and where
every parameter comes from), template (the API stack from `chalice package`), cfn
(change sets), preflight, cost, orchestrator (the steps), __main__ (the command line).
"""
