"""The API stack's template: `chalice package` (cached by its inputs), then made deployable.

`chalice package --stage S --merge-template infra/api-merge.json` writes sam.json and
deployment.zip. `api_template` turns that into what the API stack deploys:

* every function's CodeUri points at the zip in the artifacts bucket, under a key made
  from the zip's contents (file names and bytes, not timestamps), so an unchanged build
  is an unchanged template and CloudFormation sees no change;
* the environment variables that come from other stacks (stacks.API_ENV) become stack
  parameters (`{"Ref": "EnvDsqlEndpoint"}` ...), so new outputs mean new parameter
  values, not a new package;
* the picture handler alone gets the Pillow layer (infra/deploy/layer.py) as a
  `PicturesLayer` resource from its zip in the artifacts bucket: Pillow stays out of the
  package every function shares;
* infra/realtime.yaml's resources join the template, with the realtime authorizer's ARN
  as `!GetAtt RealtimeAuthorizer.Arn` instead of a parameter, and every function but
  that authorizer gets REALTIME_HTTP_URL / REALTIME_WS_URL as references to the AppSync
  Events API (the authorizer must not: the API references it, a cycle).
"""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from infra.deploy.stacks import API_ENV, INFRA, ROOT, load_template

REALTIME_TEMPLATE = INFRA / "realtime.yaml"
MERGE_TEMPLATE = INFRA / "api-merge.json"
AUTHORIZER = "RealtimeAuthorizer"
PICTURE_HANDLER, PICTURES_LAYER = "PictureHandler", "PicturesLayer"  # app.py picture_handler; its Pillow
# What `chalice package` reads: a change in any of them is a new package.
PACKAGE_INPUTS = ("app.py", "requirements.txt", "chalicelib", ".chalice", "infra/api-merge.json")
REALTIME_URLS = {
    "REALTIME_HTTP_URL": {"Fn::Sub": "https://${EventApi.Dns.Http}/event"},
    "REALTIME_WS_URL": {"Fn::Sub": "wss://${EventApi.Dns.Realtime}/event/realtime"},
}


class PackageError(Exception):
    pass


def inputs_digest(stage: str, root: Path = ROOT) -> str:
    digest = hashlib.sha256(stage.encode())
    for name in PACKAGE_INPUTS:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc" or "deployments" in file.parts:
                continue
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def chalice_package(stage: str, out: Path, *, root: Path = ROOT) -> Path:
    """sam.json + deployment.zip for `stage` in `out`, reused while the inputs are unchanged."""
    digest = inputs_digest(stage, root)
    stamp = out / "inputs.sha256"
    if stamp.is_file() and stamp.read_text() == digest and (out / "sam.json").is_file() \
            and (out / "deployment.zip").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    chalice = Path(sys.executable).parent / "chalice"
    # Packaging is offline, but Chalice wants a region to exist (the template uses ${AWS::Region}).
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"
    result = subprocess.run(
        [str(chalice), "package", "--stage", stage, "--merge-template", str(MERGE_TEMPLATE), str(out)],
        cwd=root, capture_output=True, text=True, timeout=900, check=False, env=env,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise PackageError("chalice package failed: " + " / ".join(tail))
    stamp.write_text(digest)
    return out


def code_digest(zip_path: Path) -> str:
    """The package's identity: entry names and contents, not the zip's timestamps."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(zip_path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            digest.update(info.filename.encode() + b"\0")
            digest.update(archive.read(info))
    return digest.hexdigest()[:32]


def code_key(stage: str, zip_path: Path) -> str:
    return f"api/{stage}/{code_digest(zip_path)}.zip"


def _replace_refs(node: Any, name: str, replacement: Any) -> Any:
    if isinstance(node, dict):
        if node == {"Ref": name}:
            return copy.deepcopy(replacement)
        return {k: _replace_refs(v, name, replacement) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_refs(v, name, replacement) for v in node]
    return node


def api_template(sam: dict[str, Any], *, code_uri: str, stage_values: tuple[str, ...] = ("dev", "prod"),
                 realtime: dict[str, Any] | None = None, pictures_layer_uri: str | None = None) -> dict[str, Any]:
    """The API stack's template from Chalice's sam.json (see the module docstring).
    Without `pictures_layer_uri` the picture handler has no Pillow: it then retries and
    dead-letters photo variants with "Pillow is not installed" (the deploy always passes it)."""
    template = copy.deepcopy(sam)
    resources: dict[str, Any] = template["Resources"]
    parameters: dict[str, Any] = template.setdefault("Parameters", {})
    outputs: dict[str, Any] = template.setdefault("Outputs", {})
    parameters["Stage"] = {"Type": "String", "AllowedValues": list(stage_values)}

    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    if AUTHORIZER not in functions:
        raise PackageError(f"sam.json has no {AUTHORIZER} function (app.py's realtime_authorizer)")
    for env, (param, _source) in API_ENV.items():
        defaults = {f["Properties"].get("Environment", {}).get("Variables", {}).get(env) for f in functions.values()}
        defaults.discard(None)
        parameters[param] = {"Type": "String", "Default": next(iter(defaults), "") if len(defaults) == 1 else "",
                             "Description": f"{env} for the functions (make deploy fills it from the stack outputs)"}
    for name, function in functions.items():
        props = function["Properties"]
        props["CodeUri"] = code_uri
        variables = props.setdefault("Environment", {}).setdefault("Variables", {})
        for env, (param, _source) in API_ENV.items():
            if env in variables:
                variables[env] = {"Ref": param}
        if name != AUTHORIZER:
            variables.update(copy.deepcopy(REALTIME_URLS))

    if pictures_layer_uri is not None:
        from infra.deploy.layer import ARCHITECTURE, RUNTIME

        if PICTURE_HANDLER not in functions:
            raise PackageError(f"sam.json has no {PICTURE_HANDLER} function (app.py's picture_handler)")
        resources[PICTURES_LAYER] = {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {
                "Description": "Pillow for the picture handler's WebP variants (requirements-pictures.txt)",
                "ContentUri": pictures_layer_uri,
                "CompatibleRuntimes": [RUNTIME],
                "CompatibleArchitectures": [ARCHITECTURE],
                "RetentionPolicy": "Delete",
            },
        }
        functions[PICTURE_HANDLER]["Properties"]["Layers"] = [{"Ref": PICTURES_LAYER}]

    realtime = realtime if realtime is not None else load_template(REALTIME_TEMPLATE)
    authorizer_arn = {"Fn::GetAtt": [AUTHORIZER, "Arn"]}
    for name, resource in realtime["Resources"].items():
        if name in resources:
            raise PackageError(f"infra/realtime.yaml's {name} clashes with a resource of Chalice's template")
        resources[name] = _replace_refs(resource, "AuthorizerFunctionArn", authorizer_arn)
    for name, output in realtime.get("Outputs", {}).items():
        outputs["RealtimeApiArn" if name == "ApiArn" else name] = output
    outputs["RealtimeAuthorizerArn"] = {"Value": authorizer_arn}
    return template
