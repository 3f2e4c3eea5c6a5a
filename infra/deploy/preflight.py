"""Checks before anything is created: each one names what is wrong and what to do.

Credentials and account (STS), the region offers Aurora DSQL (a ListClusters call),
AppSync Events (ListApis) and the configured Bedrock model with access granted
(GetFoundationModelAvailability, GetFoundationModel for on-demand use), the hosted
login's domain prefix is free or already ours (DescribeUserPoolDomain), and the tools
the deploy runs are here (chalice, the built web app).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from infra.deploy.stacks import ROOT


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _error(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'Error')}: {info.get('Message', '')}".strip()
    return str(error)


def identity(sts: Any) -> dict[str, str]:
    """{"Account", "Arn"} of the caller; raises a readable RuntimeError without credentials."""
    try:
        found = sts.get_caller_identity()
    except NoCredentialsError as error:
        raise RuntimeError("no AWS credentials found: set AWS_PROFILE (aws configure / aws sso login) "
                           "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from error
    except (ClientError, BotoCoreError) as error:
        raise RuntimeError(f"the AWS credentials do not work ({_error(error)})") from error
    return {"Account": found["Account"], "Arn": found["Arn"]}


def check_service(name: str, region: str, call: Callable[[], Any]) -> Check:
    try:
        call()
    except EndpointConnectionError:
        return Check(name, False, f"{name} is not offered in {region} (no endpoint); choose a region that has "
                                  "it, e.g. AWS_REGION=us-east-1")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            return Check(name, False, f"this identity may not use {name} ({_error(error)})")
        if code in ("UnrecognizedClientException", "InvalidAction", "UnknownOperationException"):
            return Check(name, False, f"{name} is not offered in {region} ({_error(error)})")
        return Check(name, False, f"{name}: {_error(error)}")
    except BotoCoreError as error:
        return Check(name, False, f"{name}: {error}")
    return Check(name, True, f"offered in {region}")


def check_bedrock(bedrock: Any, model_id: str, region: str, name: str = "Bedrock model") -> Check:
    if not model_id:
        return Check(name, True, "none configured (photo prompts use the offline writer)")
    try:
        available = bedrock.get_foundation_model_availability(modelId=model_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "ValidationException"):
            return Check(name, False, f"{model_id} is not offered in {region}; set BEDROCK_MODEL_ID to one that "
                                      "is, or BEDROCK_REGION to a region that has it")
        return Check(name, False, f"{model_id}: {_error(error)}")
    except EndpointConnectionError:
        return Check(name, False, f"Bedrock is not offered in {region}; set BEDROCK_REGION")
    if available.get("regionAvailability") != "AVAILABLE":
        return Check(name, False, f"{model_id} is not available in {region}")
    if available.get("authorizationStatus") != "AUTHORIZED" or \
            available.get("entitlementAvailability") != "AVAILABLE":
        return Check(name, False, f"no access to {model_id} yet: request it in the Bedrock console "
                                  f"(Model access, region {region}) and run again")
    agreement = available.get("agreementAvailability", {}).get("status", "AVAILABLE")
    if agreement not in ("AVAILABLE", "NOT_AVAILABLE"):  # NOT_AVAILABLE: the model needs no agreement
        return Check(name, False, f"the {model_id} agreement is {agreement}; accept it in the Bedrock console")
    try:
        model = bedrock.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
    except ClientError as error:
        return Check(name, False, f"{model_id}: {_error(error)}")
    if "ON_DEMAND" not in model.get("inferenceTypesSupported", []):
        profiles = [p["inferenceProfileId"]
                    for p in bedrock.list_inference_profiles().get("inferenceProfileSummaries", [])
                    if any(m.get("modelArn", "").endswith(f"/{model_id}") for m in p.get("models", []))]
        hint = f"use an inference profile: BEDROCK_MODEL_ID={profiles[0]}" if profiles else \
            "no inference profile offers it here"
        return Check(name, False, f"{model_id} cannot be called on demand in {region}; {hint}")
    return Check(name, True, f"{model_id}, access granted")


def check_domain(cognito: Any, prefix: str, account: str, our_pool: str = "") -> Check:
    name = "hosted-login domain"
    try:
        found = cognito.describe_user_pool_domain(Domain=prefix).get("DomainDescription", {})
    except ClientError as error:
        return Check(name, False, f"{prefix}: {_error(error)}")
    owner = found.get("UserPoolId")
    if not owner:
        return Check(name, True, f"{prefix} is free")
    if our_pool and owner == our_pool:
        return Check(name, True, f"{prefix} is already this stage's")
    whose = "another user pool of this account" if found.get("AWSAccountId") == account else "someone else"
    return Check(name, False, f"the domain prefix {prefix} belongs to {whose}; choose another with "
                              "DOMAIN_PREFIX=<lowercase letters, digits, hyphens>")


def check_tools(dist: Path = ROOT / "frontend" / "dist") -> list[Check]:
    checks = []
    chalice = Path(sys.executable).parent / "chalice"
    checks.append(Check("chalice", chalice.is_file(), str(chalice) if chalice.is_file() else
                        f"{chalice} is missing: run `make venv`"))
    index = dist / "index.html"
    checks.append(Check("web app build", index.is_file(), str(dist) if index.is_file() else
                        f"{index} is missing: run `make frontend` (make deploy does)"))
    return checks
