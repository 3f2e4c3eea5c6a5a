"""`make deploy` / `make plan` / `make destroy` (infra/deploy), offline.

S3, Cognito, STS, API Gateway keys, Secrets Manager and CloudWatch Logs are moto's;
CloudFormation change sets, DSQL, AppSync, Bedrock and CloudFront go through
botocore's Stubber with AWS's request and response shapes, in the exact order the
orchestrator makes them (an unexpected or missing call fails the test). The database
steps run against a fresh database in the real embedded PostgreSQL. The API stack's
template is the real `chalice package` output (made once for this module).
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from infra.deploy import __main__ as cli
from infra.deploy import cfn, cost, preflight
from infra.deploy.cfn import Poller
from infra.deploy.orchestrator import Clients, DeployError, Deployment, Reporter, chalice_stage_env, image_model
from infra.deploy.stacks import BY_KEY, ORDER, MissingOutput, Options, load_template, resolve
from infra.deploy.template import PackageError, api_template, chalice_package, code_key, inputs_digest

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"  # moto's
REGION = "us-east-1"
STAGE = "dev"
WEB_URL = "https://d111111abcdef8.cloudfront.net"
ENDPOINT = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/api/"
BUCKETS = {
    "artifacts": f"drink-assistant-dev-artifacts-{ACCOUNT}",
    "web": f"drink-assistant-dev-web-{ACCOUNT}",
    "media": f"drink-assistant-dev-media-{ACCOUNT}",
}
DSQL_ID = "abcdefghijklmnopqrstuvwxyz"
TAGS = [{"Key": "app", "Value": "drink-assistant"}, {"Key": "stage", "Value": STAGE}]
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def name(key: str) -> str:
    return f"drink-assistant-{STAGE}-{key}"


# ---------------------------------------------------------------- the package and its template


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sam.json + deployment.zip in the shape `chalice package --merge-template` writes (its
    functions, the stage's environment, infra/api-merge.json's parameters and outputs), made
    in milliseconds; tests/test_deploy_package.py checks the real package."""
    out = tmp_path_factory.mktemp("fake-package")
    env = chalice_stage_env(STAGE)
    merge = json.loads((ROOT / "infra" / "api-merge.json").read_text())
    functions = ("APIHandler", "TokenAuthorizer", "RealtimeAuthorizer", "RelayToRealtime", "PhotoPromptHandler",
                 "PictureHandler")
    sam = {
        "AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": merge.get("Parameters", {}),
        "Resources": {fn: {"Type": "AWS::Serverless::Function", "Properties": {
            "Runtime": "python3.11", "Handler": "app.app", "CodeUri": "./deployment.zip",
            "Environment": {"Variables": dict(env)}}} for fn in functions},
        "Outputs": {"EndpointURL": {"Value": {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}."
                                                        "${AWS::URLSuffix}/api/"}},
                    **merge.get("Outputs", {})},
    }
    (out / "sam.json").write_text(json.dumps(sam))
    with zipfile.ZipFile(out / "deployment.zip", "w") as archive:
        archive.writestr("app.py", "app = None\n")
    return out


@pytest.fixture(scope="module")
def api(packaged: Path) -> dict[str, Any]:
    sam = json.loads((packaged / "sam.json").read_text())
    return api_template(sam, code_uri=f"s3://{BUCKETS['artifacts']}/api/dev/0123.zip")


def test_resolve_names_what_is_missing() -> None:
    options = Options(stage=STAGE, region=REGION, account=ACCOUNT)
    with pytest.raises(MissingOutput, match="web stack output WebUrl"):
        resolve(BY_KEY["auth"], {}, options)
    assert resolve(BY_KEY["auth"], {"web": {"WebUrl": WEB_URL}}, options) == {
        "Stage": "dev", "DomainPrefix": f"drink-assistant-dev-{ACCOUNT}",
        "CallbackUrls": f"{WEB_URL}/auth/callback", "LogoutUrls": f"{WEB_URL}/"}
    # The web stack's first pass: only the stage, the rest keeps its defaults.
    assert resolve(BY_KEY["web"], {}, options) == {"Stage": "dev"}


def test_the_code_key_ignores_zip_timestamps(tmp_path: Path) -> None:
    def build(path: Path, when: tuple[int, int, int, int, int, int]) -> Path:
        with zipfile.ZipFile(path, "w") as archive:
            for entry, body in (("app.py", b"print(1)"), ("chalicelib/x.py", b"x = 1")):
                archive.writestr(zipfile.ZipInfo(entry, date_time=when), body)
        return path

    first = build(tmp_path / "a.zip", (2026, 1, 1, 0, 0, 0))
    again = build(tmp_path / "b.zip", (2026, 6, 1, 12, 0, 0))
    assert code_key(STAGE, first) == code_key(STAGE, again)
    with zipfile.ZipFile(again, "a") as archive:
        archive.writestr("chalicelib/y.py", b"y = 2")
    assert code_key(STAGE, first) != code_key(STAGE, again)


def test_chalice_package_is_reused_while_its_inputs_are_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "chalicelib").mkdir(parents=True)
    (root / "app.py").write_text("app = None\n")
    (root / "chalicelib" / "x.py").write_text("x = 1\n")
    out = tmp_path / "package"
    out.mkdir()
    (out / "sam.json").write_text("{}")
    (out / "deployment.zip").write_bytes(b"zip")
    (out / "inputs.sha256").write_text(inputs_digest(STAGE, root))

    assert chalice_package(STAGE, out, root=root) == out  # reused: chalice would fail on this project

    (root / "chalicelib" / "x.py").write_text("x = 2\n")
    with pytest.raises(PackageError, match="chalice package failed"):
        chalice_package(STAGE, out, root=root)
    assert not (out / "inputs.sha256").exists()  # a failed build is never taken for the cached one


# ---------------------------------------------------------------- cfn against moto's CloudFormation


def test_change_sets_against_moto_create_then_no_change_then_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_credentials(monkeypatch)
    body = (ROOT / "infra" / "deploy" / "artifacts.yaml").read_text()
    with mock_aws():
        cf = boto3.client("cloudformation", region_name=REGION)
        poller = Poller(sleep=_no_sleep)
        args = {"template": {"TemplateBody": body}, "parameters": {"Stage": "dev"}, "tags": {"app": "x"},
                "poller": poller}
        first = cfn.deploy(cf, name("artifacts"), **args)
        assert first.outcome == "created"
        # moto's execute_change_set makes the resources but reports no Outputs (create_stack does).
        boto3.client("s3", region_name=REGION).head_bucket(Bucket=BUCKETS["artifacts"])
        assert cfn.deploy(cf, name("artifacts"), **args).outcome == "unchanged"
        assert cfn.delete(cf, name("artifacts"), poller) is True
        assert cfn.describe(cf, name("artifacts")) is None
        assert cfn.delete(cf, name("artifacts"), poller) is False


# ---------------------------------------------------------------- a cloud: moto + stubs


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the orchestrator waited {seconds} s although the status was final")


def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@dataclass
class Cloud:
    outputs: dict[str, dict[str, str]]
    pool_id: str
    api_key: str


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    """What the stacks would have made, in moto, and their outputs as CloudFormation reports them."""
    _fake_credentials(monkeypatch)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in BUCKETS.values():
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=BUCKETS["media"], VersioningConfiguration={"Status": "Enabled"})
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool = cognito.create_user_pool(PoolName="drink-assistant-dev")["UserPool"]["Id"]
        cognito.create_group(GroupName="admin", UserPoolId=pool)
        client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]["ClientId"]
        key = boto3.client("apigateway", region_name=REGION).create_api_key(name="web", enabled=True)
        outputs = {
            "artifacts": {"ArtifactsBucket": BUCKETS["artifacts"]},
            "web": {"WebBucket": BUCKETS["web"], "WebUrl": WEB_URL, "DistributionId": "E2WEB"},
            "database": {"DsqlEndpoint": f"{DSQL_ID}.dsql.{REGION}.on.aws",
                         "ReaderRoleArn": f"arn:aws:iam::{ACCOUNT}:role/drink-assistant-dev-db-reader",
                         "WriterRoleArn": f"arn:aws:iam::{ACCOUNT}:role/drink-assistant-dev-db-writer"},
            "auth": {"AuthIssuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}", "AuthClientId": client,
                     "HostedUiDomain": f"https://drink-assistant-dev-{ACCOUNT}.auth.{REGION}.amazoncognito.com",
                     "UserPoolId": pool},
            "media": {"MEDIABUCKET": BUCKETS["media"], "IMAGEBASEURL": "https://d222222abcdef8.cloudfront.net",
                      "DistributionId": "E2MEDIA"},
            "events": {"EventBusName": "drink-assistant-events-dev",
                       "PhotoPromptQueueName": "drink-assistant-dev-photo-prompts"},
            "api": {"ApiId": "a1b2c3d4e5", "ApiKeyId": key["id"], "EndpointURL": ENDPOINT,
                    "REALTIMEHTTPURL": "https://rt123.appsync-api.us-east-1.amazonaws.com/event",
                    "REALTIMEWSURL": "wss://rt123.appsync-realtime-api.us-east-1.amazonaws.com/event/realtime",
                    "RealtimeAuthorizerArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:da-dev-realtime_authorizer"},
        }
        yield Cloud(outputs, pool, key["value"])


def _stack(stack: str, status: str, outputs: dict[str, str], params: dict[str, str] | None = None) -> dict[str, Any]:
    return {"Stacks": [{
        "StackName": stack, "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/1",
        "CreationTime": WHEN, "StackStatus": status,
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in (params or {}).items()],
    }]}


class Script:
    """The calls to the services moto lacks, queued in the order the orchestrator makes them."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.cf = boto3.client("cloudformation", region_name=REGION)
        self.dsql = boto3.client("dsql", region_name=REGION)
        self.appsync = boto3.client("appsync", region_name=REGION)
        self.bedrock = boto3.client("bedrock", region_name=REGION)
        self.cloudfront = boto3.client("cloudfront", region_name=REGION)
        self.stubs = {k: Stubber(getattr(self, k)) for k in ("cf", "dsql", "appsync", "bedrock", "cloudfront")}
        for stub in self.stubs.values():
            stub.activate()
        self.count = 0
        env = chalice_stage_env(STAGE)
        self.models = [m for m in (env.get("BEDROCK_MODEL_ID", ""), image_model(env)) if m]
        self.model = env.get("BEDROCK_MODEL_ID", "")

    def clients(self) -> Clients:
        return Clients(boto3.session.Session(region_name=REGION), overrides={
            "cloudformation": self.cf, "dsql": self.dsql, "appsync": self.appsync, "bedrock": self.bedrock,
            "cloudfront": self.cloudfront})

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()

    # CloudFormation
    def missing(self, stack: str) -> None:
        self.stubs["cf"].add_client_error("describe_stacks", "ValidationError", f"Stack with id {stack} does not exist",
                                          400, expected_params={"StackName": stack})

    def exists(self, stack: str, status: str, outputs: dict[str, str] | None = None,
               params: dict[str, str] | None = None) -> None:
        self.stubs["cf"].add_response("describe_stacks", _stack(stack, status, outputs or {}, params),
                                      {"StackName": stack})

    def change_set(self, stack: str, kind: str, params: dict[str, str] | None, *, template: str = "TemplateBody",
                   no_change: bool = False) -> str:
        self.count += 1
        change_set = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/deploy-{self.count}/{uuid.uuid4()}"
        expected = {
            "StackName": stack, "ChangeSetName": ANY, "ChangeSetType": kind,
            "Parameters": ANY if params is None else
            [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(params.items())],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Tags": TAGS, template: ANY,
        }
        cf = self.stubs["cf"]
        cf.add_response("create_change_set", {"Id": change_set, "StackId": f"{stack}-id"}, expected)
        where = {"ChangeSetName": change_set, "StackName": stack}
        if no_change:
            cf.add_response("describe_change_set", {
                "ChangeSetId": change_set, "StackName": stack, "Status": "FAILED", "ExecutionStatus": "UNAVAILABLE",
                "StatusReason": "The submitted information didn't contain changes. Submit different information "
                                "to create a change set."}, where)
            cf.add_response("delete_change_set", {}, where)
        else:
            cf.add_response("describe_change_set", {
                "ChangeSetId": change_set, "StackName": stack, "Status": "CREATE_COMPLETE",
                "ExecutionStatus": "AVAILABLE", "Changes": [{"Type": "Resource", "ResourceChange": {
                    "Action": "Add" if kind == "CREATE" else "Modify", "LogicalResourceId": "Thing",
                    "ResourceType": "AWS::S3::Bucket", **({} if kind == "CREATE" else {"Replacement": "False"})}}]},
                where)
        return change_set

    def execute(self, stack: str, change_set: str) -> None:
        self.stubs["cf"].add_response("execute_change_set", {}, {"ChangeSetName": change_set, "StackName": stack})

    def create(self, key: str, params: dict[str, str] | None = None, template: str = "TemplateBody") -> None:
        self.missing(name(key))
        self.execute(name(key), self.change_set(name(key), "CREATE", params, template=template))
        self.exists(name(key), "CREATE_COMPLETE", self.cloud.outputs[key], params)

    def update(self, key: str, params: dict[str, str] | None = None, template: str = "TemplateBody") -> None:
        self.exists(name(key), "CREATE_COMPLETE", self.cloud.outputs[key])
        self.execute(name(key), self.change_set(name(key), "UPDATE", params, template=template))
        self.exists(name(key), "UPDATE_COMPLETE", self.cloud.outputs[key], params)

    def unchanged(self, key: str, params: dict[str, str] | None = None, template: str = "TemplateBody") -> None:
        self.exists(name(key), "UPDATE_COMPLETE", self.cloud.outputs[key], params)
        self.change_set(name(key), "UPDATE", params, template=template, no_change=True)

    # preflight
    def preflight(self, *, auth_exists: bool, bedrock: str = "AUTHORIZED") -> None:
        self.stubs["dsql"].add_response("list_clusters", {"clusters": []}, {"maxResults": 1})
        self.stubs["appsync"].add_response("list_apis", {"apis": []}, {"maxResults": 1})
        for model in self.models:
            self.stubs["bedrock"].add_response("get_foundation_model_availability", {
                "modelId": model, "agreementAvailability": {"status": "NOT_AVAILABLE"},
                "authorizationStatus": bedrock, "entitlementAvailability": "AVAILABLE",
                "regionAvailability": "AVAILABLE"}, {"modelId": model})
            if bedrock == "AUTHORIZED":
                self.stubs["bedrock"].add_response("get_foundation_model", {"modelDetails": {
                    "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model}", "modelId": model,
                    "inferenceTypesSupported": ["ON_DEMAND"]}}, {"modelIdentifier": model})
        if auth_exists:
            self.exists(name("auth"), "UPDATE_COMPLETE", self.cloud.outputs["auth"])
        else:
            self.missing(name("auth"))

    def invalidation(self) -> None:
        paths = {"Quantity": 2, "Items": ["/index.html", "/config.json"]}
        answer = {"Location": "https://cloudfront/x", "Invalidation": {
            "Id": "I2DEPLOY", "Status": "InProgress", "CreateTime": WHEN,
            "InvalidationBatch": {"Paths": paths, "CallerReference": "r"}}}
        self.stubs["cloudfront"].add_response("create_invalidation", answer,
            {"DistributionId": "E2WEB", "InvalidationBatch": {"Paths": paths, "CallerReference": ANY}})


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><script type="module" src="/assets/app-1.js"></script>')
    (root / "assets" / "app-1.js").write_text("console.log(1)")
    return root


@pytest.fixture
def fresh_db(pg_cluster: str) -> Iterator[str]:
    """An empty database: the deploy's migrations and seed start from nothing."""
    from local.pg import drop_database, ensure_database

    db_name = f"da_deploy_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = ensure_database(pg_cluster, db_name)
    try:
        yield url
    finally:
        drop_database(pg_cluster, db_name)


def _deployment(script: Script, dist: Path, tmp_path: Path, packaged: Path, db_url: str,
                **extra: Any) -> tuple[Deployment, io.StringIO, list[tuple[str, str]]]:
    out = io.StringIO()
    connections: list[tuple[str, str]] = []

    def connect(endpoint: str, region: str, dsql: Any) -> tuple[Any, bool]:
        # What dsql_admin_connect signs (offline); the connection goes to real PostgreSQL.
        assert dsql.generate_db_connect_admin_auth_token(Hostname=endpoint, Region=region)
        connections.append((endpoint, region))
        return psycopg.connect(db_url, autocommit=True), False

    def illustrate(env: dict[str, str]) -> str:
        # chalicelib/images.py's real ensure_illustrations, on this test's database and moto's S3.
        from chalicelib import images
        from tests.conftest import _reset_app_state

        assert env["DSQL_ENDPOINT"] and env["DSQL_READER_ROLE_ARN"] and env["AWS_REGION"] == REGION
        saved = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = db_url
        _reset_app_state()
        try:
            return str(images.ensure_illustrations(s3=boto3.client("s3", region_name=REGION),
                                                   bucket=env["MEDIA_BUCKET"]))
        finally:
            if saved is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = saved
            _reset_app_state()

    settings: dict[str, Any] = {"admin_email": "host@example.com", "illustrate": illustrate, **extra}
    deployment = Deployment(
        stage=STAGE, clients=script.clients(), reporter=Reporter(out), state_dir=tmp_path / "state",
        poller=Poller(sleep=_no_sleep), dist=dist, package=lambda stage, where: packaged, connect=connect,
        **settings)
    return deployment, out, connections


def _api_params(cloud: Cloud, api: dict[str, Any], *, api_id: str = "") -> dict[str, str]:
    o = cloud.outputs
    params = {
        "Stage": STAGE, "EnvDsqlEndpoint": o["database"]["DsqlEndpoint"],
        "EnvDsqlReaderRoleArn": o["database"]["ReaderRoleArn"], "EnvDsqlWriterRoleArn": o["database"]["WriterRoleArn"],
        "EnvAuthIssuer": o["auth"]["AuthIssuer"], "EnvAuthClientId": o["auth"]["AuthClientId"],
        "EnvMediaBucket": BUCKETS["media"], "EnvImageBaseUrl": o["media"]["IMAGEBASEURL"],
        "EnvEventBusName": "drink-assistant-events-dev", "EnvCorsAllowOrigin": WEB_URL, "EnvJoinBaseUrl": WEB_URL,
        "EnvApiId": api_id,
    }
    if "ApiCacheEnabled" in api["Parameters"]:
        params["ApiCacheEnabled"] = "false"
    return params


def _web_params(cloud: Cloud) -> dict[str, str]:
    o = cloud.outputs
    return {"Stage": STAGE, "ApiUrl": ENDPOINT, "HostedUiDomain": o["auth"]["HostedUiDomain"],
            "RealtimeHttpUrl": o["api"]["REALTIMEHTTPURL"], "RealtimeWsUrl": o["api"]["REALTIMEWSURL"],
            "ImageBaseUrl": o["media"]["IMAGEBASEURL"], "MediaBucket": BUCKETS["media"]}


def _auth_params() -> dict[str, str]:
    return {"Stage": STAGE, "DomainPrefix": f"drink-assistant-dev-{ACCOUNT}",
            "CallbackUrls": f"{WEB_URL}/auth/callback", "LogoutUrls": f"{WEB_URL}/"}


def _queue_first_deploy(script: Script, cloud: Cloud, api: dict[str, Any]) -> None:
    script.preflight(auth_exists=False)
    script.create("artifacts", {"Stage": STAGE})
    script.missing(name("web"))  # the first pass only runs for a new stage
    script.create("web", {"Stage": STAGE})
    script.create("database", {"Stage": STAGE})
    script.create("auth", _auth_params())
    script.create("media", {"Stage": STAGE, "UploadAllowedOrigins": WEB_URL})
    script.create("events", {"Stage": STAGE})
    script.create("api", _api_params(cloud, api), template="TemplateURL")
    script.update("web", _web_params(cloud))
    script.invalidation()


def _queue_no_change_deploy(script: Script, cloud: Cloud, api: dict[str, Any]) -> None:
    script.preflight(auth_exists=True)
    script.unchanged("artifacts", {"Stage": STAGE})
    script.exists(name("web"), "UPDATE_COMPLETE", cloud.outputs["web"])
    script.unchanged("database", {"Stage": STAGE})
    script.unchanged("auth", _auth_params())
    script.unchanged("media", {"Stage": STAGE, "UploadAllowedOrigins": WEB_URL})
    script.unchanged("events", {"Stage": STAGE})
    script.unchanged("api", _api_params(cloud, api), template="TemplateURL")
    script.unchanged("web", _web_params(cloud))


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


# ---------------------------------------------------------------- deploy


def test_first_deploy_creates_every_stack_then_the_data_admin_and_web_app(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, api: dict[str, Any], fresh_db: str
) -> None:
    script = Script(cloud)
    _queue_first_deploy(script, cloud, api)
    deployment, out, connections = _deployment(script, dist, tmp_path, packaged, fresh_db)

    deployment.deploy()

    script.done()
    text = out.getvalue()
    # Progress per step, numbered, each with its outcome.
    assert "[ 1] preflight" in text and "stack drink-assistant-dev-api" in text and "created (" in text
    # The code went to the artifacts bucket under its content hash.
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKETS["artifacts"])["Contents"]]
    assert code_key(STAGE, packaged / "deployment.zip") in keys
    assert any(k.startswith(f"layers/{STAGE}/pictures-") for k in keys)  # the picture handler's Pillow layer
    assert any(k.startswith("templates/api-") for k in keys)
    # The generated stage config: every output and the API's environment.
    stage = json.loads((tmp_path / "state" / "stage.json").read_text())
    assert stage["environment_variables"]["DSQL_ENDPOINT"] == cloud.outputs["database"]["DsqlEndpoint"]
    assert stage["environment_variables"]["REALTIME_WS_URL"] == cloud.outputs["api"]["REALTIMEWSURL"]
    assert stage["environment_variables"]["API_ID"] == ""  # dev: no stage cache to flush
    assert stage["stacks"]["api"]["outputs"]["ApiKeyId"] == cloud.outputs["api"]["ApiKeyId"]
    assert stage["urls"]["admin"] == f"{WEB_URL}/admin"
    # Migrations and seed ran as the DSQL admin against the database stack's endpoint.
    assert connections == [(cloud.outputs["database"]["DsqlEndpoint"], REGION)]
    migrations = len(list((ROOT / "sql" / "migrations").glob("*.sql")))
    assert _count(fresh_db, "SELECT count(*) FROM schema_migrations") == migrations
    assert _count(fresh_db, "SELECT count(*) FROM drinks") > 0
    assert _count(fresh_db, "SELECT count(*) FROM registration_codes WHERE created_by = 'make deploy'") == 1
    # Every seeded drink has its drawing in the media bucket.
    drawn = s3.list_objects_v2(Bucket=BUCKETS["media"], Prefix="drink-images/illustrations/").get("KeyCount", 0)
    assert drawn == _count(fresh_db, "SELECT count(*) FROM drinks") > 0
    # The admin: created once, in the admin group, its temporary password printed once.
    cognito = boto3.client("cognito-idp", region_name=REGION)
    user = cognito.admin_get_user(UserPoolId=cloud.pool_id, Username="admin")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    groups = cognito.admin_list_groups_for_user(UserPoolId=cloud.pool_id, Username="admin")["Groups"]
    assert [g["GroupName"] for g in groups] == ["admin"]
    assert text.count("temporary password (shown once") == 1
    # The web app and its /config.json, with the usage plan key's value.
    config = json.loads(s3.get_object(Bucket=BUCKETS["web"], Key="config.json")["Body"].read())
    assert (config["apiUrl"], config["apiKey"]) == (ENDPOINT.rstrip("/"), cloud.api_key)
    assert config["realtime"]["wsUrl"] == cloud.outputs["api"]["REALTIMEWSURL"]
    assert config["auth"]["clientId"] == cloud.outputs["auth"]["AuthClientId"]
    # The URLs and the join QR.
    assert f"{WEB_URL}/admin" in text and f"{WEB_URL}/join?code=" in text
    assert "\u2588" in text or "\u2580" in text  # segno's terminal blocks


def test_the_generated_stage_config_becomes_shell_exports(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, api: dict[str, Any], fresh_db: str
) -> None:
    import shlex

    from infra.deploy.orchestrator import stage_exports

    script = Script(cloud)
    _queue_first_deploy(script, cloud, api)
    deployment, _out, _c = _deployment(script, dist, tmp_path, packaged, fresh_db)
    deployment.deploy()

    exports = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1)
                   for line in stage_exports(STAGE, tmp_path / "state").splitlines())
    assert exports["DSQL_ENDPOINT"] == cloud.outputs["database"]["DsqlEndpoint"]
    assert exports["DSQL_WRITER_ROLE_ARN"] == cloud.outputs["database"]["WriterRoleArn"]
    assert exports["APP_STAGE"] == STAGE and exports["AWS_REGION"] == REGION
    assert "DATABASE_URL" not in exports and "API_ID" not in exports  # empty values are left out


def test_a_second_deploy_with_no_change_changes_nothing(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, api: dict[str, Any], fresh_db: str
) -> None:
    script = Script(cloud)
    _queue_first_deploy(script, cloud, api)
    first, _out, _c = _deployment(script, dist, tmp_path, packaged, fresh_db)
    first.deploy()
    s3 = boto3.client("s3", region_name=REGION)
    before = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=BUCKETS["web"])["Contents"]}
    first_join = next(line for line in _out.getvalue().splitlines() if "/join?code=" in line)

    _queue_no_change_deploy(script, cloud, api)  # no execute_change_set, no invalidation queued
    again, out, _c = _deployment(script, dist, tmp_path, packaged, fresh_db)
    again.deploy()

    script.done()
    text = out.getvalue()
    assert "created" not in text and "updated" not in text and "temporary password" not in text
    assert text.count("      unchanged (") >= 8  # every stack, the database and the web app
    assert "exists (skipped)" in text
    after = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=BUCKETS["web"])["Contents"]}
    assert after == before
    assert _count(fresh_db, "SELECT count(*) FROM registration_codes") == 1
    assert first_join in text  # the same invite, still live


def test_a_failed_stack_names_its_step_and_reason_and_a_rerun_continues(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, api: dict[str, Any], fresh_db: str
) -> None:
    script = Script(cloud)
    script.preflight(auth_exists=False)
    script.create("artifacts", {"Stage": STAGE})
    script.missing(name("web"))
    script.create("web", {"Stage": STAGE})
    script.create("database", {"Stage": STAGE})
    # The auth stack fails (a taken domain) and rolls back.
    script.missing(name("auth"))
    script.execute(name("auth"), script.change_set(name("auth"), "CREATE", _auth_params()))
    script.exists(name("auth"), "ROLLBACK_IN_PROGRESS")
    script.exists(name("auth"), "ROLLBACK_COMPLETE")
    script.stubs["cf"].add_response("describe_stack_events", {"StackEvents": [
        {"StackId": "s", "EventId": "3", "StackName": name("auth"), "LogicalResourceId": name("auth"),
         "ResourceType": "AWS::CloudFormation::Stack", "Timestamp": WHEN, "ResourceStatus": "ROLLBACK_COMPLETE"},
        {"StackId": "s", "EventId": "2", "StackName": name("auth"), "LogicalResourceId": "WebClient",
         "ResourceType": "AWS::Cognito::UserPoolClient", "Timestamp": WHEN, "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Resource creation cancelled"},
        {"StackId": "s", "EventId": "1", "StackName": name("auth"), "LogicalResourceId": "Domain",
         "ResourceType": "AWS::Cognito::UserPoolDomain", "Timestamp": WHEN, "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Domain already associated with another user pool."},
    ]}, {"StackName": name("auth")})
    waits: list[float] = []
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, fresh_db)
    deployment.poller = Poller(delay=5, sleep=waits.append)

    with pytest.raises(DeployError) as failed:
        deployment.deploy()

    assert failed.value.step == "stack drink-assistant-dev-auth"
    assert "Domain (AWS::Cognito::UserPoolDomain): Domain already associated" in failed.value.message
    assert "ROLLBACK_COMPLETE" in failed.value.message
    assert waits == [5]  # one poll while it rolled back, no timed sleep
    assert "FAILED" in out.getvalue()
    assert _count(fresh_db, "SELECT count(*) FROM pg_tables WHERE tablename = 'drinks'") == 0  # data steps not run

    # The rerun: finished stacks are unchanged, the rolled-back one is deleted and made again.
    script.preflight(auth_exists=False)
    script.unchanged("artifacts", {"Stage": STAGE})
    script.exists(name("web"), "CREATE_COMPLETE", cloud.outputs["web"])
    script.unchanged("database", {"Stage": STAGE})
    script.exists(name("auth"), "ROLLBACK_COMPLETE")
    script.stubs["cf"].add_response("delete_stack", {}, {"StackName": name("auth")})
    script.missing(name("auth"))
    script.execute(name("auth"), script.change_set(name("auth"), "CREATE", _auth_params()))
    script.exists(name("auth"), "CREATE_COMPLETE", cloud.outputs["auth"])
    script.create("media", {"Stage": STAGE, "UploadAllowedOrigins": WEB_URL})
    script.create("events", {"Stage": STAGE})
    script.create("api", _api_params(cloud, api), template="TemplateURL")
    script.update("web", _web_params(cloud))
    script.invalidation()
    rerun, out, _c = _deployment(script, dist, tmp_path, packaged, fresh_db)
    rerun.deploy()
    script.done()
    assert _count(fresh_db, "SELECT count(*) FROM drinks") > 0
    assert f"{WEB_URL}/join?code=" in out.getvalue()


def test_with_the_stage_cache_on_the_first_deploy_gives_the_api_its_own_id(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, api: dict[str, Any], fresh_db: str
) -> None:
    script = Script(cloud)
    script.preflight(auth_exists=False)
    for key in ("artifacts", "web"):
        if key == "web":
            script.missing(name("web"))
        script.create(key, {"Stage": STAGE})
    script.create("database", {"Stage": STAGE})
    script.create("auth", _auth_params())
    script.create("media", {"Stage": STAGE, "UploadAllowedOrigins": WEB_URL})
    script.create("events", {"Stage": STAGE})
    params = _api_params(cloud, api)
    if "ApiCacheEnabled" in params:
        params["ApiCacheEnabled"] = "true"
    first = {k: v for k, v in params.items() if k != "EnvApiId"}  # not known yet: the template default
    script.create("api", first, template="TemplateURL")
    script.update("api", {**params, "EnvApiId": cloud.outputs["api"]["ApiId"]}, template="TemplateURL")
    script.update("web", _web_params(cloud))
    script.invalidation()
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, fresh_db, api_cache=True)

    deployment.deploy()

    script.done()
    assert "(its own id for the cache flush)" in out.getvalue()
    stage = json.loads((tmp_path / "state" / "stage.json").read_text())
    assert stage["environment_variables"]["API_ID"] == cloud.outputs["api"]["ApiId"]
    assert stage["api_cache"] is True


def test_a_stack_still_busy_from_an_interrupted_run_is_waited_for() -> None:
    cf = boto3.client("cloudformation", region_name=REGION)
    stack = name("events")
    with Stubber(cf) as stub:
        for status in ("UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"):
            stub.add_response("describe_stacks", _stack(stack, status, {"EventBusName": "bus"}), {"StackName": stack})
        stub.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.", 400)
        waits: list[float] = []
        done = cfn.deploy(cf, stack, template={"TemplateBody": "{}"}, parameters={}, tags={},
                          poller=Poller(delay=7, sleep=waits.append))
    assert (done.outcome, done.outputs, waits) == ("unchanged", {"EventBusName": "bus"}, [7])


def test_a_change_set_that_fails_for_a_real_reason_is_an_error_not_a_no_change() -> None:
    cf = boto3.client("cloudformation", region_name=REGION)
    stack = name("media")
    with Stubber(cf) as stub:
        stub.add_response("describe_stacks", _stack(stack, "UPDATE_COMPLETE", {}), {"StackName": stack})
        stub.add_response("create_change_set", {"Id": "cs-1", "StackId": "s"})
        where = {"ChangeSetName": "cs-1", "StackName": stack}
        stub.add_response("describe_change_set", {"Status": "FAILED", "StatusReason":
                          "Parameters: [PriceClass] must have values from [PriceClass_100, PriceClass_200]"}, where)
        stub.add_response("delete_change_set", {}, where)
        with pytest.raises(cfn.StackError, match="change set failed: Parameters: \\[PriceClass\\]"):
            cfn.deploy(cf, stack, template={"TemplateBody": "{}"}, parameters={"PriceClass": "x"}, tags={},
                       poller=Poller(sleep=_no_sleep))
        stub.assert_no_pending_responses()  # no execute_change_set


def test_the_dsql_admin_connection_signs_a_token_and_requires_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.deploy.orchestrator import dsql_admin_connect

    _fake_credentials(monkeypatch)
    seen: dict[str, Any] = {}

    def connect(**kwargs: Any) -> str:
        seen.update(kwargs)
        return "connection"

    dsql = boto3.client("dsql", region_name=REGION)  # the token is a local SigV4 signature: no call
    conn, is_dsql = dsql_admin_connect(f"{DSQL_ID}.dsql.{REGION}.on.aws", REGION, dsql, connect=connect)
    assert (conn, is_dsql) == ("connection", True)
    assert (seen["host"], seen["user"], seen["dbname"], seen["sslmode"]) == \
        (f"{DSQL_ID}.dsql.{REGION}.on.aws", "admin", "postgres", "require")
    assert "Action=DbConnectAdmin" in seen["password"] and "X-Amz-Signature=" in seen["password"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_queues_the_functions_consume_are_the_ones_the_events_stack_makes(stage: str) -> None:
    resources = load_template(ROOT / "infra" / "events.yaml")["Resources"]
    env = chalice_stage_env(stage)
    made = {resources[q]["Properties"]["QueueName"]["Fn::Sub"].replace("${Stage}", stage)
            for q in ("PhotoPromptQueue", "RealtimeQueue")}
    consumed = {env.get("PHOTO_PROMPT_QUEUE") or f"drink-assistant-{stage}-photo-prompts",
                env.get("REALTIME_QUEUE") or f"drink-assistant-{stage}-realtime"}
    assert consumed == made


def test_preflight_lists_every_problem_and_creates_nothing(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path
) -> None:
    script = Script(cloud)
    script.stubs["dsql"].add_client_error("list_clusters", "AccessDeniedException", "not allowed: dsql:ListClusters",
                                          403, expected_params={"maxResults": 1})
    script.stubs["appsync"].add_response("list_apis", {"apis": []}, {"maxResults": 1})
    for model in script.models:
        script.stubs["bedrock"].add_response("get_foundation_model_availability", {
            "modelId": model, "agreementAvailability": {"status": "NOT_AVAILABLE"},
            "authorizationStatus": "NOT_AUTHORIZED", "entitlementAvailability": "AVAILABLE",
            "regionAvailability": "AVAILABLE"}, {"modelId": model})
    script.missing(name("auth"))
    # Someone else's pool already has the default domain prefix.
    cognito = boto3.client("cognito-idp", region_name=REGION)
    other = cognito.create_user_pool(PoolName="someone-else")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain=f"drink-assistant-dev-{ACCOUNT}", UserPoolId=other)
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, "", admin_email="")
    (dist / "index.html").unlink()

    with pytest.raises(DeployError) as failed:
        deployment.deploy()

    script.done()  # and nothing after the preflight was called
    message = failed.value.message
    assert failed.value.step == "preflight"
    assert "this identity may not use Aurora DSQL" in message
    assert "DOMAIN_PREFIX=" in message and "ADMIN_EMAIL=" in message and "make frontend" in message
    if script.model:
        assert "request it in the Bedrock console" in message
    assert "Contents" not in boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKETS["artifacts"])


def test_without_credentials_the_command_says_so_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", REGION)

    assert cli.main(["plan", "--stage", "dev"]) == 1

    captured = capsys.readouterr()
    assert "step 'preflight' failed: no AWS credentials found: set AWS_PROFILE" in captured.err
    assert "Traceback" not in captured.out + captured.err


def test_a_deploy_with_the_local_emulator_configured_stops_before_any_call(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = Script(cloud)  # nothing queued: any AWS call fails the test
    deployment, _out, _c = _deployment(script, dist, tmp_path, packaged, "")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5001")
    with pytest.raises(DeployError, match="AWS_ENDPOINT_URL is set .* unset it to deploy to AWS"):
        deployment.deploy()
    script.done()


def test_the_command_refuses_an_unknown_stage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["deploy", "--stage", "qa"]) == 2
    assert "--stage must be one of dev, prod" in capsys.readouterr().err


def test_a_region_without_the_service_is_named() -> None:
    def call() -> None:
        raise EndpointConnectionError(endpoint_url="https://dsql.xx-east-9.api.aws/")

    check = preflight.check_service("Aurora DSQL", "xx-east-9", call)
    assert not check.ok and "not offered in xx-east-9" in check.detail


def test_a_model_without_on_demand_use_points_at_its_inference_profile() -> None:
    bedrock = boto3.client("bedrock", region_name="eu-west-1")
    model = "amazon.nova-lite-v1:0"
    with Stubber(bedrock) as stub:
        stub.add_response("get_foundation_model_availability", {
            "modelId": model, "agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
            "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}, {"modelId": model})
        stub.add_response("get_foundation_model", {"modelDetails": {
            "modelArn": f"arn:aws:bedrock:eu-west-1::foundation-model/{model}", "modelId": model,
            "inferenceTypesSupported": ["INFERENCE_PROFILE"]}}, {"modelIdentifier": model})
        stub.add_response("list_inference_profiles", {"inferenceProfileSummaries": [{
            "inferenceProfileName": "EU Nova Lite", "inferenceProfileArn": "arn:aws:bedrock:eu-west-1:1:x",
            "inferenceProfileId": f"eu.{model}", "status": "ACTIVE", "type": "SYSTEM_DEFINED",
            "models": [{"modelArn": f"arn:aws:bedrock:eu-west-1::foundation-model/{model}"}]}]}, {})
        check = preflight.check_bedrock(bedrock, model, "eu-west-1")
    assert f"eu.{model}" in check.detail


# ---------------------------------------------------------------- plan


def test_plan_shows_changes_without_making_them_and_the_cost(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path, api: dict[str, Any]
) -> None:
    script = Script(cloud)
    script.preflight(auth_exists=True)
    for key in ORDER:  # the stage exists; the web stack has drifted from its parameters
        script.exists(name(key), "UPDATE_COMPLETE", cloud.outputs[key])
    for key, params in (("artifacts", {"Stage": STAGE}), ("web", _web_params(cloud)), ("database", {"Stage": STAGE}),
                        ("auth", _auth_params()), ("media", {"Stage": STAGE, "UploadAllowedOrigins": WEB_URL}),
                        ("events", {"Stage": STAGE}), ("api", _api_params(cloud, api))):
        template = "TemplateURL" if key == "api" else "TemplateBody"
        if key == "web":
            change_set = script.change_set(name(key), "UPDATE", params)
            script.stubs["cf"].add_response("delete_change_set", {}, {"ChangeSetName": change_set,
                                                                      "StackName": name(key)})
        else:
            script.change_set(name(key), "UPDATE", params, template=template, no_change=True)
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, "")

    deployment.plan()

    script.done()  # no execute_change_set was queued: a plan changes nothing
    text = out.getvalue()
    assert "plan drink-assistant-dev-web\n      ~ Thing AWS::S3::Bucket\n      would change 1 resources" in text
    assert text.count("no changes (") == 6
    assert "Cost (estimate):" in text and "total" in text and "Secrets Manager" in text


def test_plan_for_a_new_stage_lists_what_would_be_created(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path
) -> None:
    script = Script(cloud)
    script.preflight(auth_exists=False)
    for key in ORDER:
        script.missing(name(key))
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, "")
    deployment.plan()
    script.done()
    text = out.getvalue()
    assert "+ Cluster AWS::DSQL::Cluster" in text and "+ UserPool AWS::Cognito::UserPool" in text
    assert "would be created (after the artifacts bucket exists)" in text


# ---------------------------------------------------------------- destroy


def _fill(cloud: Cloud) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in BUCKETS.values():
        s3.put_object(Bucket=bucket, Key="a.txt", Body=b"1")
    s3.put_object(Bucket=BUCKETS["media"], Key="a.txt", Body=b"2")  # a second version
    s3.delete_object(Bucket=BUCKETS["media"], Key="a.txt")  # and a delete marker
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="drink-assistant/dev/guest-token-key", SecretString="{}")
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/aws/lambda/drink-assistant-dev-x")


def _queue_destroy(script: Script, cloud: Cloud, keys: tuple[str, ...]) -> None:
    for key in ORDER:
        script.exists(name(key), "UPDATE_COMPLETE", cloud.outputs[key])
    for key in keys:
        script.exists(name(key), "UPDATE_COMPLETE", cloud.outputs[key])
        script.stubs["cf"].add_response("delete_stack", {}, {"StackName": name(key)})
        script.missing(name(key))


def test_destroy_deletes_in_reverse_order_empties_buckets_and_keeps_the_protected_database(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path
) -> None:
    _fill(cloud)
    script = Script(cloud)
    _queue_destroy(script, cloud, ("api", "events", "media", "auth", "web", "artifacts"))
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, "")

    deployment.destroy(yes=True)

    script.done()  # the database stack was never deleted
    s3 = boto3.client("s3", region_name=REGION)
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert BUCKETS["media"] not in names  # retained by its stack, so deleted here
    for key in ("web", "artifacts"):
        assert "Versions" not in s3.list_object_versions(Bucket=BUCKETS[key])
    with pytest.raises(boto3.client("cognito-idp", region_name=REGION).exceptions.ResourceNotFoundException):
        boto3.client("cognito-idp", region_name=REGION).describe_user_pool(UserPoolId=cloud.pool_id)
    assert boto3.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"] == []
    assert boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"] == []
    text = out.getvalue()
    assert "deletion protection on" in text and "DELETE_DATABASE=1" in text
    order = [line.split("delete ")[1] for line in text.splitlines() if "] delete drink-assistant" in line]
    assert order == [name(k) for k in ("api", "events", "media", "auth", "web", "artifacts")]


def test_destroy_with_delete_database_turns_the_protection_off_first(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path
) -> None:
    script = Script(cloud)
    for key in ORDER:
        script.exists(name(key), "UPDATE_COMPLETE", cloud.outputs[key])
    for key in ("api", "events", "media", "auth", "database", "web", "artifacts"):
        script.exists(name(key), "UPDATE_COMPLETE", cloud.outputs[key])
        if key == "database":
            script.stubs["dsql"].add_response("update_cluster", {
                "identifier": DSQL_ID, "arn": f"arn:aws:dsql:{REGION}:{ACCOUNT}:cluster/{DSQL_ID}",
                "status": "UPDATING", "creationTime": WHEN},
                {"identifier": DSQL_ID, "deletionProtectionEnabled": False})
        script.stubs["cf"].add_response("delete_stack", {}, {"StackName": name(key)})
        script.missing(name(key))
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, "")

    deployment.destroy(yes=True, delete_database=True)

    script.done()
    assert f"deletion protection off for DSQL cluster {DSQL_ID}" in out.getvalue()


def test_destroy_asks_first_and_a_wrong_answer_deletes_nothing(
    cloud: Cloud, dist: Path, tmp_path: Path, packaged: Path
) -> None:
    _fill(cloud)
    script = Script(cloud)
    for key in ORDER:
        script.exists(name(key), "UPDATE_COMPLETE", cloud.outputs[key])
    deployment, out, _c = _deployment(script, dist, tmp_path, packaged, "")
    asked: list[str] = []

    with pytest.raises(DeployError, match="not confirmed; nothing was deleted"):
        deployment.destroy(confirm=lambda prompt: asked.append(prompt) or "yes")

    script.done()
    assert asked == ["Type the stage name (dev) to delete it: "]
    assert boto3.client("s3", region_name=REGION).list_object_versions(Bucket=BUCKETS["media"])["Versions"]


# ---------------------------------------------------------------- cost


def test_the_readme_shows_the_cost_table_the_plan_computes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert cost.markdown() in readme
    dev_idle, dev_party = cost.totals(api_cache=False)
    prod_idle, _ = cost.totals(api_cache=True)
    assert round(prod_idle - dev_idle, 2) == 14.60  # the cache cluster is the one always-on cost
    assert dev_idle < 1 and dev_party < 1
