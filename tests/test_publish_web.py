"""`make publish-web` (infra/publish_web.py) against moto's S3 and API Gateway, the
CloudFront invalidation through botocore's Stubber, and infra/web.yaml's SPA rewrite
function run in node."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber
from moto import mock_aws

from infra import publish_web

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "drink-assistant-dev-web-123456789012"
DISTRIBUTION = "E2EXAMPLE123"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A developer's AWS_ENDPOINT_URL (the local stack's emulator) would bypass moto.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><script type="module" src="/assets/app-abc123.js"></script>')
    (root / "assets" / "app-abc123.js").write_text("console.log('app');")
    (root / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return root


def stubbed_cloudfront(paths: list[str] | None = None) -> tuple[Any, Stubber]:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    stubber = Stubber(cloudfront)
    items = paths or ["/index.html", "/config.json"]
    stubber.add_response(
        "create_invalidation",
        {"Location": "https://cloudfront.amazonaws.com/x", "Invalidation": {
            "Id": "I2INVALIDATION", "Status": "InProgress", "CreateTime": "2025-01-01T00:00:00Z",
            "InvalidationBatch": {"Paths": {"Quantity": len(items), "Items": items}, "CallerReference": "r"}}},
        {
            "DistributionId": DISTRIBUTION,
            "InvalidationBatch": {"Paths": {"Quantity": len(items), "Items": items}, "CallerReference": ANY},
        },
    )
    stubber.activate()
    return cloudfront, stubber


def sample_config(api_key: str = "key-value") -> dict[str, Any]:
    return publish_web.runtime_config(
        stage="dev",
        api_url="https://abc123.execute-api.us-east-1.amazonaws.com/api/",
        api_key=api_key,
        auth_domain="https://da-dev.auth.us-east-1.amazoncognito.com/",
        auth_client_id="client123",
        realtime_http_url="https://xyz.appsync-api.us-east-1.amazonaws.com/event",
        realtime_ws_url="wss://xyz.appsync-realtime-api.us-east-1.amazonaws.com/event/realtime",
    )


def head(s3: Any, key: str) -> dict[str, Any]:
    return s3.head_object(Bucket=BUCKET, Key=key)


# ---------------------------------------------------------------- publish


def test_publish_uploads_with_types_and_cache_headers_and_drops_stale(aws: Any, dist: Path) -> None:
    s3 = aws
    s3.put_object(Bucket=BUCKET, Key="assets/app-old999.js", Body=b"old")
    s3.put_object(Bucket=BUCKET, Key="config.json", Body=b"{}")
    cloudfront, stubber = stubbed_cloudfront()

    done = publish_web.publish(dist=dist, bucket=BUCKET, distribution_id=DISTRIBUTION, config=sample_config(),
                               s3=s3, cloudfront=cloudfront)

    stubber.assert_no_pending_responses()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"index.html", "assets/app-abc123.js", "favicon.svg", "config.json"}
    assert done["deleted"] == ["assets/app-old999.js"]
    assert done["invalidation_id"] == "I2INVALIDATION"
    # index.html goes up last, after everything it may name.
    assert done["uploaded"][-1] == "index.html"
    assert done["uploaded"].index("assets/app-abc123.js") < done["uploaded"].index("favicon.svg")

    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "config.json": ("application/json", "no-cache"),
        "assets/app-abc123.js": ("text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
        "favicon.svg": ("image/svg+xml", "public, max-age=3600"),
    }
    for key, (ctype, cache) in expected.items():
        meta = head(s3, key)
        assert (meta["ContentType"], meta["CacheControl"]) == (ctype, cache), key
    body = s3.get_object(Bucket=BUCKET, Key="assets/app-abc123.js")["Body"].read()
    assert body == b"console.log('app');"


def test_config_json_is_the_stages_values(aws: Any, dist: Path) -> None:
    cloudfront, _ = stubbed_cloudfront()
    publish_web.publish(dist=dist, bucket=BUCKET, distribution_id=DISTRIBUTION, config=sample_config(),
                        s3=aws, cloudfront=cloudfront)
    published = json.loads(aws.get_object(Bucket=BUCKET, Key="config.json")["Body"].read())
    assert published == {
        "stage": "dev",
        "apiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/api",
        "apiKey": "key-value",
        "auth": {
            "domain": "https://da-dev.auth.us-east-1.amazoncognito.com",
            "clientId": "client123",
            "redirectPath": "/auth/callback",
            "logoutPath": "/",
            "scopes": ["openid", "email", "profile"],
        },
        "realtime": {
            "httpUrl": "https://xyz.appsync-api.us-east-1.amazonaws.com/event",
            "wsUrl": "wss://xyz.appsync-realtime-api.us-east-1.amazonaws.com/event/realtime",
            "apiKey": "",
        },
    }


def _interfaces(source: str) -> dict[str, dict[str, str]]:
    """`export interface Name { field: Type; ... }` -> {Name: {field: Type}}."""
    found = {}
    for name, body in re.findall(r"export interface (\w+) \{(.*?)\n\}", source, re.S):
        found[name] = dict(re.findall(r"^\s*(\w+)\??:\s*([^;]+);", body, re.M))
    return found


def _key_tree(interfaces: dict[str, dict[str, str]], name: str) -> dict[str, Any]:
    return {field: _key_tree(interfaces, kind) if kind in interfaces else None
            for field, kind in interfaces[name].items()}


def _value_tree(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _value_tree(v) if isinstance(v, dict) else None for k, v in value.items()}


def test_config_json_has_exactly_the_keys_the_web_app_reads() -> None:
    interfaces = _interfaces((ROOT / "frontend" / "src" / "lib" / "config.ts").read_text())
    wanted = _key_tree(interfaces, "AppConfig")
    assert {"apiUrl", "auth", "realtime"} <= set(wanted)  # the parse found the interface
    assert _value_tree(sample_config()) == wanted


def test_stale_cleanup_never_deletes_config_json_and_skips_a_built_one(aws: Any, dist: Path) -> None:
    (dist / "config.json").write_text('{"stage": "from-the-build"}')
    cloudfront, _ = stubbed_cloudfront()
    done = publish_web.publish(dist=dist, bucket=BUCKET, distribution_id=DISTRIBUTION, config=sample_config(),
                               s3=aws, cloudfront=cloudfront)
    assert done["uploaded"].count("config.json") == 1
    assert json.loads(aws.get_object(Bucket=BUCKET, Key="config.json")["Body"].read())["stage"] == "dev"


def test_publish_refuses_a_missing_build(aws: Any, tmp_path: Path) -> None:
    cloudfront, stubber = stubbed_cloudfront()
    with pytest.raises(SystemExit, match="make frontend"):
        publish_web.publish(dist=tmp_path / "nothing", bucket=BUCKET, distribution_id=DISTRIBUTION,
                            config=sample_config(), s3=aws, cloudfront=cloudfront)
    assert "Contents" not in aws.list_objects_v2(Bucket=BUCKET)
    with pytest.raises(AssertionError):  # nothing was invalidated
        stubber.assert_no_pending_responses()


def test_api_key_value_is_fetched_by_id(aws: Any) -> None:
    apigateway = boto3.client("apigateway")
    key = apigateway.create_api_key(name="drink-assistant-dev-web", enabled=True)
    assert publish_web.fetch_api_key(key["id"]) == key["value"]


def test_cli_reads_env_fetches_the_key_and_publishes(
    aws: Any, dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = boto3.client("apigateway").create_api_key(name="web", enabled=True)
    cloudfront, stubber = stubbed_cloudfront()
    real_client = publish_web._client
    monkeypatch.setattr(publish_web, "_client", lambda service: cloudfront if service == "cloudfront"
                        else real_client(service))
    for name, value in {
        "WEB_BUCKET": BUCKET,
        "WEB_DISTRIBUTION_ID": DISTRIBUTION,
        "API_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/api",
        "API_KEY_ID": key["id"],
        "AUTH_DOMAIN": "https://da-dev.auth.us-east-1.amazoncognito.com",
        "AUTH_CLIENT_ID": "client123",
        "REALTIME_HTTP_URL": "https://xyz.appsync-api.us-east-1.amazonaws.com/event",
        "REALTIME_WS_URL": "wss://xyz.appsync-realtime-api.us-east-1.amazonaws.com/event/realtime",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("API_KEY", raising=False)

    publish_web.main(["--stage", "prod", "--dist", str(dist)])

    stubber.assert_no_pending_responses()
    published = json.loads(aws.get_object(Bucket=BUCKET, Key="config.json")["Body"].read())
    assert (published["stage"], published["apiKey"]) == ("prod", key["value"])


def test_cli_names_what_is_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("WEB_BUCKET", "WEB_DISTRIBUTION_ID", "API_URL", "API_KEY", "API_KEY_ID", "AUTH_DOMAIN",
                 "AUTH_CLIENT_ID", "REALTIME_HTTP_URL", "REALTIME_WS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit):
        publish_web.main(["--bucket", BUCKET])
    err = capsys.readouterr().err
    assert "--distribution-id" in err and "--api-key or --api-key-id" in err and "--bucket," not in err


# ---------------------------------------------------------------- infra/web.yaml


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub ...) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))


def web_template() -> dict[str, Any]:
    return yaml.load((ROOT / "infra" / "web.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506 (SafeLoader subclass)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_spa_function_rewrites_client_routes_only() -> None:
    code = web_template()["Resources"]["SpaRewriteFunction"]["Properties"]["FunctionCode"]
    uris = ["/", "/admin/orders", "/join", "/display", "/drinks/4f1c2d3e-aaaa-bbbb-cccc-123456789012",
            "/assets/x.js", "/favicon.svg", "/config.json", "/assets/missing-123.css"]
    script = code + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}).uri)));"
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    rewritten = dict(zip(uris, json.loads(result.stdout), strict=True))
    assert rewritten == {
        "/": "/index.html",
        "/admin/orders": "/index.html",
        "/join": "/index.html",
        "/display": "/index.html",
        "/drinks/4f1c2d3e-aaaa-bbbb-cccc-123456789012": "/index.html",
        "/assets/x.js": "/assets/x.js",
        "/favicon.svg": "/favicon.svg",
        "/config.json": "/config.json",
        "/assets/missing-123.css": "/assets/missing-123.css",
    }


def test_web_template_serves_the_shell_fresh_and_assets_for_a_year() -> None:
    resources = web_template()["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    # Client routes come from the function, not from turning 403/404 into index.html.
    assert "CustomErrorResponses" not in config
    default = config["DefaultCacheBehavior"]
    assert default["FunctionAssociations"][0]["EventType"] == "viewer-request"
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert behaviors["/assets/*"]["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    assert behaviors["/config.json"]["CachePolicyId"] == default["CachePolicyId"] == "ShellCachePolicy"
    shell = resources["ShellCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (shell["MinTTL"], shell["DefaultTTL"]) == (0, 0)
    headers = resources["SecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert "StrictTransportSecurity" in headers and "ContentTypeOptions" in headers
    origin = config["Origins"][0]
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == "" and origin["OriginAccessControlId"]
    assert {"WebBucket", "WebUrl", "DistributionId"} <= set(web_template()["Outputs"])


def test_web_template_csp_names_every_origin_the_app_talks_to() -> None:
    headers = web_template()["Resources"]["SecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = json.dumps(headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for condition in ("HasApi", "HasAuth", "HasRealtimeHttp", "HasRealtimeWs", "HasImages", "HasMediaBucket"):
        assert condition in csp
    for parameter in ("ApiUrl", "HostedUiDomain", "RealtimeHttpUrl", "RealtimeWsUrl", "ImageBaseUrl"):
        assert f"${{{parameter}}}//-" in csp, parameter
    assert "wss://${Host}" in csp and "frame-ancestors 'none'" in csp and "script-src 'self';" in csp


def test_the_service_worker_and_manifest_are_never_cached_and_typed() -> None:
    from infra import publish_web

    assert publish_web.cache_control("sw.js") == publish_web.NO_CACHE
    assert publish_web.cache_control("manifest.webmanifest") == publish_web.NO_CACHE
    assert publish_web.content_type("manifest.webmanifest") == "application/manifest+json"
    assert publish_web.content_type("sw.js").startswith("text/javascript")
    assert publish_web.cache_control("icon-192.png") == publish_web.SHORT
