"""What moto, Stubber and cfn-lint cannot see (issue 16), checked offline against the
rules in docs/aws-notes.md: the stage cache as the merged template (`chalice package
--merge-template`) configures it, the cache cluster as a stage setting, and the Bedrock
model id and IAM per region."""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib import ai, aws, cache
from chalicelib.config import (
    NOVA_PROFILE_REGIONS,
    BedrockModelError,
    bedrock_model_for_region,
    settings,
)
from tests.test_package import BIN, ROOT, _offline_env

# ---------------------------------------------------------------- the merged template

KINDS = {"path": "path", "query": "querystring", "header": "header"}  # OpenAPI `in` -> method request
# `chalice package` takes minutes on a loaded 2-core machine; the first test waits for it.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CloudFormation `make package` produces (one run: chalice package is slow)."""
    out = tmp_path_factory.mktemp("aws-package")
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "dev", "--merge-template", "infra/api-merge.json",
         str(out / "dev")],  # fmt: skip
        cwd=ROOT,
        env=_offline_env(out),
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "dev" / "sam.json").read_text())


NO_VALUE = object()  # AWS::NoValue: the property is left out


def resolve(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """Evaluate Ref / Fn::If / Fn::Equals of the template for the given parameter values."""
    if isinstance(value, list):
        return [resolve(v, template, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in template.get("Parameters", {}):
        return parameters.get(value["Ref"], template["Parameters"][value["Ref"]].get("Default"))
    if set(value) == {"Fn::If"}:
        condition, yes, no = value["Fn::If"]
        chosen = resolve(template["Conditions"][condition], template, parameters)
        return resolve(yes if chosen else no, template, parameters)
    if set(value) == {"Fn::Equals"}:
        left, right = resolve(value["Fn::Equals"], template, parameters)
        return left == right
    if value == {"Ref": "AWS::NoValue"}:
        return NO_VALUE
    resolved = {k: resolve(v, template, parameters) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def stage_view(template: dict[str, Any], cache_on: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(RestAPI properties, {resource path: its GET method setting}) with ApiCacheEnabled=cache_on."""
    api = resolve(template["Resources"]["RestAPI"]["Properties"], template, {"ApiCacheEnabled": cache_on})
    settings_by_path = {}
    for setting in api["MethodSettings"]:
        if setting["HttpMethod"] == "GET":  # "/~1drinks~1{drink_id}" is the resource /drinks/{drink_id}
            settings_by_path[setting["ResourcePath"][1:].replace("~1", "/")] = setting
    return api, settings_by_path


def declared_parameters(operation: dict[str, Any]) -> set[str]:
    """The method request parameters an OpenAPI operation declares, as API Gateway names them."""
    return {f"method.request.{KINDS[p['in']]}.{p['name']}" for p in operation.get("parameters", []) if p["in"] in KINDS}


def test_every_cached_method_keys_on_each_of_its_parameters(template: dict[str, Any]) -> None:
    api, methods = stage_view(template, "true")
    paths = api["DefinitionBody"]["paths"]
    cached = {path for path, setting in methods.items() if setting["CachingEnabled"]}
    assert cached, "nothing is cached with the cache on"
    for path in cached:
        operation = paths[path]["get"]
        keys = operation["x-amazon-apigateway-integration"].get("cacheKeyParameters", [])
        path_params = {f"method.request.path.{name}" for name in re.findall(r"\{([^}+]+)\+?\}", path)}
        # Every path parameter and every declared query/header parameter is part of the key...
        assert path_params | declared_parameters(operation) <= set(keys), (path, keys)
        # ...and every key is a declared method request parameter of an allowed kind
        # (path, querystring, header: never multivaluequerystring, never a context variable).
        for key in keys:
            assert re.fullmatch(r"method\.request\.(path|querystring|header)\.[A-Za-z0-9_.-]+", key), key
            assert key in declared_parameters(operation), (path, key)


def test_cached_routes_and_ttls_are_the_ones_chalicelib_documents(template: dict[str, Any]) -> None:
    api, methods = stage_view(template, "true")
    cached = {path: s["CacheTtlInSeconds"] for path, s in methods.items() if s["CachingEnabled"]}
    assert cached == {path: route.ttl_s for path, route in cache.CACHED_ROUTES.items()}
    paths = api["DefinitionBody"]["paths"]
    for path, route in cache.CACHED_ROUTES.items():
        integration = paths[path]["get"]["x-amazon-apigateway-integration"]
        assert tuple(integration.get("cacheKeyParameters", [])) == route.key_parameters, path
        assert integration["type"] == "aws_proxy"  # the merge kept Chalice's Lambda integration
        assert 0 < route.ttl_s <= 3600  # API Gateway's maximum TTL
    # GET /drinks takes query filters: not cached, and nothing else is cached by default.
    for path in cache.UNCACHED_PUBLIC_READS:
        assert path in paths and path not in cached
    default = next(s for s in api["MethodSettings"] if s["ResourcePath"] == "/*")
    assert default["HttpMethod"] == "*" and default["CachingEnabled"] is False
    # The old mistakes stay gone: no multi-value cache keys anywhere.
    assert "multivaluequerystring" not in json.dumps(api["DefinitionBody"])


def test_the_cache_cluster_is_a_stage_setting(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["ApiCacheEnabled"]
    assert parameter["AllowedValues"] == ["true", "false"] and parameter["Default"] == "false"
    off, off_methods = stage_view(template, "false")
    on, on_methods = stage_view(template, "true")
    assert off["CacheClusterEnabled"] is False and "CacheClusterSize" not in off
    assert not any(s["CachingEnabled"] for s in off_methods.values())
    assert on["CacheClusterEnabled"] is True and on["CacheClusterSize"] == "0.5"
    # The API Lambda learns the same value, so it flushes exactly when there is a cache.
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["API_CACHE_ENABLED"] == {"Ref": "ApiCacheEnabled"}
    assert variables["APP_STAGE"] == "dev"  # the merge kept the stage's other variables
    # The stage setting: off for dev (the cluster is the one always-on cost), on for prod.
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert {name: s["environment_variables"].get("API_CACHE_ENABLED") for name, s in stages.items()} == {
        "local": "false",
        "dev": "false",
        "prod": "true",
    }


def test_the_flush_is_a_no_op_when_the_stage_cache_is_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("API_ID", "a1b2c3d4e5")
    monkeypatch.setenv("API_CACHE_ENABLED", "false")
    settings.cache_clear()
    aws.reset()
    try:
        assert cache.flush_menu_cache(sorted(cache.routes_to_flush("bar"))) is False
        assert "apigateway" not in aws.made()  # not even a client was made
        assert "the stage cache is off" in caplog.text
    finally:
        settings.cache_clear()


def test_every_admin_write_kind_is_in_the_table_and_names_real_routes() -> None:
    import app as app_module

    public_gets = {path for path, methods in app_module.app.routes.items() if "GET" in methods}
    for kind, routes in cache.WRITE_AFFECTS.items():
        assert routes <= public_gets, (kind, routes - public_gets)
    assert set(cache.CACHED_ROUTES) <= public_gets
    assert cache.routes_to_flush("bar") == {"/bar"}
    assert cache.routes_to_flush("order") == frozenset()
    with pytest.raises(KeyError):
        cache.routes_to_flush("nonsense")


# ---------------------------------------------------------------- Bedrock model ids and IAM

ACCOUNT = "123456789012"
NOVA_LITE = "amazon.nova-lite-v1:0"
SUPPORTED = [(geo, region) for geo, regions in NOVA_PROFILE_REGIONS.items() for region in regions]


@pytest.mark.parametrize(("geo", "region"), SUPPORTED)
def test_nova_is_called_through_the_inference_profile_of_the_region(geo: str, region: str) -> None:
    assert bedrock_model_for_region(NOVA_LITE, region) == f"{geo}.{NOVA_LITE}"
    assert bedrock_model_for_region(f"{geo}.{NOVA_LITE}", region) == f"{geo}.{NOVA_LITE}"  # already right


def test_a_wrong_or_impossible_model_id_is_refused() -> None:
    with pytest.raises(BedrockModelError, match="not callable from eu-west-1"):
        bedrock_model_for_region(f"us.{NOVA_LITE}", "eu-west-1")
    with pytest.raises(BedrockModelError, match="ca-central-1"):
        bedrock_model_for_region(NOVA_LITE, "ca-central-1")
    # Left as configured: nothing, global profiles, ARNs, and other providers' models.
    assert bedrock_model_for_region("", "eu-west-1") == ""
    assert bedrock_model_for_region(f"global.{NOVA_LITE}", "ca-central-1") == f"global.{NOVA_LITE}"
    arn = f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:application-inference-profile/abc"
    assert bedrock_model_for_region(arn, "eu-west-1") == arn
    assert bedrock_model_for_region("anthropic.claude-v2", "us-east-1") == "anthropic.claude-v2"


def test_the_photo_prompt_writer_sends_the_profile_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The Converse request from eu-west-1 carries the EU profile (on-demand Nova would be a
    ValidationException there, and every DrinkCreated would end in the DLQ)."""
    monkeypatch.setenv("BEDROCK_MODEL_ID", NOVA_LITE)
    monkeypatch.setenv("BEDROCK_REGION", "eu-west-1")
    settings.cache_clear()
    aws.reset()
    try:
        writer = ai.writer_from_settings()
        assert isinstance(writer, ai.BedrockPromptWriter) and writer.source == f"bedrock:eu.{NOVA_LITE}"
        client = boto3.client("bedrock-runtime", region_name="eu-west-1")
        facts = ai.DrinkFacts(
            name="Negroni", section="Stirred", description="", ingredients=(), glass="rocks", garnish="", tags=()
        )
        answer = {
            "output": {"message": {"role": "assistant", "content": [{"text": "A ruby drink. Soft light."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            "metrics": {"latencyMs": 1},
        }
        with Stubber(client) as stub:
            stub.add_response("converse", answer, writer.request(facts))
            assert ai.BedrockPromptWriter(writer.model_id, client).write(facts) == "A ruby drink. Soft light."
            stub.assert_no_pending_responses()
        assert writer.request(facts)["modelId"] == f"eu.{NOVA_LITE}"
        # A region no profile serves: logged at start-up, never an exception on every route.
        caplog.set_level(logging.ERROR)
        monkeypatch.setenv("BEDROCK_REGION", "ca-central-1")
        settings.cache_clear()
        assert settings().bedrock_model_id == NOVA_LITE
        assert "cannot be used from this region" in caplog.text
    finally:
        settings.cache_clear()
        aws.reset()


# Who calls Nova Lite: the photo-prompt handler, and the API (the guests' chat bartender).
MODEL_CALLERS = {"photo-prompts": ("policy-{stage}-photo-prompts.json", "PhotoPromptModel"),
                 "api": ("policy-{stage}.json", "BartenderChatModel")}  # fmt: skip


def model_statement(stage: str, caller: str = "photo-prompts") -> dict[str, Any]:
    file_name, sid = MODEL_CALLERS[caller]
    policy = json.loads((ROOT / ".chalice" / file_name.format(stage=stage)).read_text())
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return statement


def allowed(resources: list[str], arn: str) -> bool:
    # IAM wildcards: `*` any run of characters, `?` one character (fnmatch's, minus [..]).
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources if "[" not in pattern)


@pytest.mark.parametrize("caller", sorted(MODEL_CALLERS))
@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize(("geo", "region"), SUPPORTED)
def test_iam_allows_the_profile_and_every_model_it_routes_to(stage: str, geo: str, region: str, caller: str) -> None:
    statement = model_statement(stage, caller)
    assert statement["Effect"] == "Allow" and statement["Action"] == "bedrock:InvokeModel"
    resources = statement["Resource"]
    model_id = bedrock_model_for_region(NOVA_LITE, region)
    assert allowed(resources, f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{model_id}")
    for destination in NOVA_PROFILE_REGIONS[geo]:
        assert allowed(resources, f"arn:aws:bedrock:{destination}::foundation-model/{NOVA_LITE}"), destination


@pytest.mark.parametrize("caller", sorted(MODEL_CALLERS))
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_iam_allows_nothing_else(stage: str, caller: str) -> None:
    resources = model_statement(stage, caller)["Resource"]
    for arn in (
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.amazon.nova-pro-v1:0",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{NOVA_LITE}",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
    ):
        assert not allowed(resources, arn), arn


def test_the_configured_stage_models_resolve_in_their_geographies() -> None:
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    for name, stage in stages.items():
        model = stage["environment_variables"].get("BEDROCK_MODEL_ID", "")
        for _, region in SUPPORTED if model else []:
            assert bedrock_model_for_region(model, region).endswith(model), (name, region)


def test_the_notes_cite_the_aws_documentation() -> None:
    notes = (ROOT / "docs" / "aws-notes.md").read_text()
    for page in (
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html",
        "https://docs.aws.amazon.com/apigateway/latest/api/API_FlushStageCache.html",
        "https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html",
        "https://docs.aws.amazon.com/appsync/latest/eventapi/configure-event-api-auth.html",
    ):
        assert page in notes, page
    assert Path(ROOT / "docs" / "aws-notes.md").stat().st_size < 20_000  # short, as promised
