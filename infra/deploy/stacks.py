"""The stacks `make deploy` creates, in order, and where each parameter comes from.

Every parameter is either a stage option (`Opt`: the stage name, the hosted-login
domain prefix, whether the API cache runs) or an output of a stack deployed before it
(`Out`). Nothing is copied by hand: the orchestrator reads outputs from CloudFormation
and writes them to the generated stage config (.local/deploy/<stage>/stage.json).

The API stack is Chalice's template (`chalice package --merge-template
infra/api-merge.json`) with infra/realtime.yaml merged in (see template.py), so the
realtime authorizer's ARN and the AppSync URLs are template references instead of a
second deploy. Its environment variables are stack parameters fed from the outputs
below; `.chalice/config.json` stays the source for everything that is not generated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
APP = "drink-assistant"
STAGES = ("dev", "prod")
API_STAGE = "api"


@dataclass(frozen=True)
class Out:
    """An output of an earlier stack, optionally formatted ("{}/auth/callback")."""

    stack: str
    output: str
    fmt: str = "{}"


@dataclass(frozen=True)
class Opt:
    """A stage option (Options below)."""

    name: str


Source = Out | Opt


@dataclass(frozen=True)
class StackSpec:
    key: str
    # None: the API stack, whose template is generated (template.py).
    template: Path | None
    params: dict[str, Source]
    description: str
    # Buckets (output names) emptied before the stack is deleted; `retained` ones
    # survive the stack (DeletionPolicy: Retain) and are deleted after it.
    buckets: tuple[str, ...] = ()
    retained_buckets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Options:
    """What a stage chooses (defaults per stage; `make deploy` flags override)."""

    stage: str
    region: str
    account: str
    domain_prefix: str = ""
    api_cache: bool = False
    admin_email: str = ""
    admin_password: str = ""
    bedrock_model_id: str = ""
    bedrock_region: str = ""
    # The drink pictures' image model, when the stage generates pictures (IMAGE_GENERATION=on).
    image_model_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        if name == "stage":
            return self.stage
        if name == "domain_prefix":
            return self.domain_prefix or default_domain_prefix(self.stage, self.account)
        if name == "api_cache":
            return "true" if self.api_cache else "false"
        if name in self.extra:
            return self.extra[name]
        raise KeyError(name)


def default_domain_prefix(stage: str, account: str) -> str:
    # Unique per region and account; Cognito refuses prefixes containing "aws",
    # "amazon" or "cognito".
    return f"{APP}-{stage}-{account}"


def stack_name(stage: str, key: str) -> str:
    return f"{APP}-{stage}-{key}"


def web_origin(outputs: dict[str, dict[str, str]]) -> str:
    return outputs.get("web", {}).get("WebUrl", "")


# The API's environment variables that come from other stacks, and the stack parameter
# each becomes. API_ID is the API stack's own output: known from its first deploy on,
# and only needed when the stage cache runs (the flush is a no-op while it is empty).
API_ENV: dict[str, tuple[str, Source]] = {
    "DSQL_ENDPOINT": ("EnvDsqlEndpoint", Out("database", "DsqlEndpoint")),
    "DSQL_READER_ROLE_ARN": ("EnvDsqlReaderRoleArn", Out("database", "ReaderRoleArn")),
    "DSQL_WRITER_ROLE_ARN": ("EnvDsqlWriterRoleArn", Out("database", "WriterRoleArn")),
    "AUTH_ISSUER": ("EnvAuthIssuer", Out("auth", "AuthIssuer")),
    "AUTH_CLIENT_ID": ("EnvAuthClientId", Out("auth", "AuthClientId")),
    "MEDIA_BUCKET": ("EnvMediaBucket", Out("media", "MEDIABUCKET")),
    "IMAGE_BASE_URL": ("EnvImageBaseUrl", Out("media", "IMAGEBASEURL")),
    "EVENT_BUS_NAME": ("EnvEventBusName", Out("events", "EventBusName")),
    "CORS_ALLOW_ORIGIN": ("EnvCorsAllowOrigin", Out("web", "WebUrl")),
    "JOIN_BASE_URL": ("EnvJoinBaseUrl", Out("web", "WebUrl")),
    "API_ID": ("EnvApiId", Out("api", "ApiId")),
}
# Set by template.py from the merged realtime resources, never parameters.
API_REALTIME_ENV = ("REALTIME_HTTP_URL", "REALTIME_WS_URL")
# Parameters of infra/api-merge.json the deploy sets when the merged template has them.
API_MERGE_PARAMS: dict[str, Source] = {"ApiCacheEnabled": Opt("api_cache")}


STACKS: tuple[StackSpec, ...] = (
    StackSpec("artifacts", INFRA / "deploy" / "artifacts.yaml", {"Stage": Opt("stage")},
              "bucket for the Lambda package and large templates", buckets=("ArtifactsBucket",)),
    StackSpec(
        "web", INFRA / "web.yaml",
        {
            "Stage": Opt("stage"),
            "ApiUrl": Out("api", "EndpointURL"),
            "HostedUiDomain": Out("auth", "HostedUiDomain"),
            "RealtimeHttpUrl": Out("api", "REALTIMEHTTPURL"),
            "RealtimeWsUrl": Out("api", "REALTIMEWSURL"),
            "ImageBaseUrl": Out("media", "IMAGEBASEURL"),
            "MediaBucket": Out("media", "MEDIABUCKET"),
        },
        "web app bucket + CloudFront (its URL first; its CSP once the API exists)",
        buckets=("WebBucket",),
    ),
    StackSpec("database", INFRA / "database.yaml", {"Stage": Opt("stage")},
              "Aurora DSQL cluster, reader/writer IAM roles"),
    StackSpec(
        "auth", INFRA / "auth.yaml",
        {
            "Stage": Opt("stage"),
            "DomainPrefix": Opt("domain_prefix"),
            "CallbackUrls": Out("web", "WebUrl", "{}/auth/callback"),
            "LogoutUrls": Out("web", "WebUrl", "{}/"),
        },
        "Cognito user pool, admin group, hosted login, web client",
    ),
    StackSpec("media", INFRA / "media.yaml",
              {"Stage": Opt("stage"), "UploadAllowedOrigins": Out("web", "WebUrl")},
              "photo bucket + CloudFront", retained_buckets=("MEDIABUCKET",)),
    StackSpec("events", INFRA / "events.yaml", {"Stage": Opt("stage")},
              "EventBridge bus, SQS queues and dead-letter queues, rules"),
    StackSpec(
        "api", None,
        {"Stage": Opt("stage"), **{param: source for param, source in API_ENV.values()}, **API_MERGE_PARAMS},
        "Chalice API + Lambdas, usage plan, AppSync Events API (realtime)",
    ),
)
ORDER = tuple(spec.key for spec in STACKS)
BY_KEY = {spec.key: spec for spec in STACKS}


class MissingOutput(Exception):
    def __init__(self, stack: str, output: str) -> None:
        super().__init__(f"{stack} stack output {output}")
        self.stack, self.output = stack, output


def resolve(
    spec: StackSpec,
    outputs: dict[str, dict[str, str]],
    options: Options,
    *,
    declared: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The parameter values for `spec` from what is known now.

    `declared` is the template's Parameters: a parameter the template does not declare
    is left out, and so is one whose source is not deployed yet but which has a
    Default (the web stack's first pass, the API's own id). Anything else missing is
    MissingOutput."""
    declared = declared if declared is not None else template_parameters(spec)
    values: dict[str, str] = {}
    for param, source in spec.params.items():
        if param not in declared:
            continue
        if isinstance(source, Opt):
            values[param] = options.value(source.name)
            continue
        if spec.key == "api" and param == "EnvApiId" and not options.api_cache:
            values[param] = ""  # no stage cache: nothing to flush, no need for the id
            continue
        found = outputs.get(source.stack, {}).get(source.output)
        if found is None:
            if "Default" in declared[param]:
                continue
            raise MissingOutput(source.stack, source.output)
        values[param] = source.fmt.format(found.rstrip("/") if source.fmt != "{}" else found)
    return values


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation template (YAML short forms or JSON) as plain data."""
    from cfnlint.decode import cfn_json, cfn_yaml

    text = path.read_text(encoding="utf-8")
    data = cfn_json.loads(text) if path.suffix == ".json" else cfn_yaml.loads(text)
    return json.loads(json.dumps(data))  # plain dicts and strings, no line-marked nodes


def template_parameters(spec: StackSpec) -> dict[str, Any]:
    if spec.template is None:
        raise ValueError("the API template is generated: pass declared=")
    return dict(load_template(spec.template).get("Parameters", {}))
