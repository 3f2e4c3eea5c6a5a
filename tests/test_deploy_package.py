"""The API stack's template from the real `chalice package --merge-template` output (made
at most once per session, and reused across sessions while its inputs are unchanged):
cfn-lint on it and on infra/deploy/artifacts.yaml, the realtime wiring by reference, and
every stack parameter satisfied by an earlier stack's output or the stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.deploy.orchestrator import chalice_stage_env
from infra.deploy.stacks import API_ENV, BY_KEY, ORDER, STACKS, Options, load_template
from infra.deploy.template import api_template, chalice_package

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
ARTIFACTS = "drink-assistant-dev-artifacts-123456789012"


@pytest.fixture(scope="module")
def packaged() -> Path:
    """The real `chalice package --merge-template` output: at most once for the module, and
    reused across sessions while its inputs are unchanged (the deploy's own cache)."""
    return chalice_package(STAGE, ROOT / ".local" / "test-deploy-package" / STAGE)


@pytest.fixture(scope="module")
def api(packaged: Path) -> dict[str, Any]:
    sam = json.loads((packaged / "sam.json").read_text())
    return api_template(sam, code_uri=f"s3://{ARTIFACTS}/api/dev/0123.zip")


def test_the_api_stack_and_artifacts_templates_pass_cfn_lint(api: dict[str, Any], tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "api.json"
    path.write_text(json.dumps(api))
    # One cfn-lint run for both (its start-up is most of its time); it also finds cycles (E3004).
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path),
                             str(ROOT / "infra" / "deploy" / "artifacts.yaml")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_template_wires_realtime_and_outputs_by_reference(api: dict[str, Any]) -> None:
    resources = api["Resources"]
    functions = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert {"EventApi", "OrdersNamespace", "MenuNamespace", "AuthorizerInvokePermission"} <= set(resources)
    assert resources["EventApi"]["Properties"]["EventConfig"]["AuthProviders"][0]["LambdaAuthorizerConfig"][
        "AuthorizerUri"] == {"Fn::GetAtt": ["RealtimeAuthorizer", "Arn"]}
    for fn_name, props in functions.items():
        assert props["CodeUri"] == f"s3://{ARTIFACTS}/api/dev/0123.zip"
        env = props["Environment"]["Variables"]
        assert env["DSQL_ENDPOINT"] == {"Ref": "EnvDsqlEndpoint"}, fn_name
        if fn_name == "RealtimeAuthorizer":  # the AppSync API references it: no cycle
            assert env.get("REALTIME_HTTP_URL", "") == ""
        else:
            assert env["REALTIME_HTTP_URL"] == {"Fn::Sub": "https://${EventApi.Dns.Http}/event"}, fn_name
    assert {"RealtimeAuthorizerArn", "REALTIMEHTTPURL", "REALTIMEWSURL", "ApiId", "ApiKeyId", "EndpointURL"} <= \
        set(api["Outputs"])
    assert "AuthorizerFunctionArn" not in json.dumps(api)


def _declared(spec_key: str, api: dict[str, Any]) -> dict[str, Any]:
    spec = BY_KEY[spec_key]
    template = api if spec.template is None else load_template(spec.template)
    return dict(template.get("Parameters", {}))


def _outputs(spec_key: str, api: dict[str, Any]) -> set[str]:
    spec = BY_KEY[spec_key]
    template = api if spec.template is None else load_template(spec.template)
    return set(template.get("Outputs", {}))


def test_every_stack_parameter_comes_from_an_earlier_output_or_the_stage(api: dict[str, Any]) -> None:
    options = Options(stage=STAGE, region="us-east-1", account="123456789012")
    for index, spec in enumerate(STACKS):
        declared = _declared(spec.key, api)
        for param, props in declared.items():
            assert param in spec.params or "Default" in props, f"{spec.key}: nothing sets {param}"
        for param, source in spec.params.items():
            assert param in declared or param == "ApiCacheEnabled", f"{spec.key}: {param} is not a parameter"
            if param not in declared:
                continue
            if hasattr(source, "stack"):
                assert source.output in _outputs(source.stack, api), f"{spec.key}.{param}: {source}"
                if ORDER.index(source.stack) >= index:  # a later (or its own) stack: only on a later pass
                    assert "Default" in declared[param], f"{spec.key}.{param} needs {source.stack} first"
            else:
                assert options.value(source.name) is not None
    # The API's generated environment covers what the stage config leaves empty.
    env = chalice_stage_env(STAGE)
    empty = {k for k, v in env.items() if v == "" and k not in ("BEDROCK_REGION",)}
    assert empty <= set(API_ENV) | {"REALTIME_HTTP_URL", "REALTIME_WS_URL"}, empty - set(API_ENV)
