"""Pillow ships in the picture handler's own Lambda layer (infra/deploy/layer.py), not in
the package every function shares: the layer's layout and size, its deterministic bytes,
the API template attaching it to the picture handler alone, and images.make_variants
saying so plainly where Pillow is missing."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.deploy.layer import LayerError, build_pictures_layer, layer_key
from infra.deploy.template import PICTURE_HANDLER, PICTURES_LAYER, api_template, chalice_package

ROOT = Path(__file__).resolve().parent.parent
# Pillow 11.3's manylinux2014 wheel zips to 7.5 MB (PIL 2 MB, pillow.libs 5.5 MB).
LAYER_BUDGET_BYTES = 9_000_000
LAYER_URI = "s3://drink-assistant-dev-artifacts-123456789012/layers/dev/pictures-0123.zip"


@pytest.fixture(scope="module")
def layer() -> Path:
    """Built once, reused across sessions while requirements-pictures.txt is unchanged
    (the deploy's own cache)."""
    return build_pictures_layer(ROOT / ".local" / "pictures-layer")


def test_the_layer_holds_pillow_for_the_runtime_where_lambda_looks(layer: Path) -> None:
    with zipfile.ZipFile(layer) as archive:
        names = archive.namelist()
    assert "python/PIL/Image.py" in names
    assert any(n.startswith("python/PIL/_imaging.cpython-311-x86_64-linux-gnu") for n in names)
    assert any(n.startswith("python/pillow.libs/libwebp") for n in names)  # WebP encoding
    assert all(n.startswith("python/") for n in names) and not any("__pycache__" in n for n in names)
    assert layer.stat().st_size <= LAYER_BUDGET_BYTES, f"{layer.stat().st_size / 1e6:.1f} MB zipped"


def test_a_rebuild_is_the_same_bytes_and_key(layer: Path, tmp_path: Path) -> None:
    again = build_pictures_layer(tmp_path)
    assert again.read_bytes() == layer.read_bytes()
    assert layer_key("dev", again) == layer_key("dev", layer)
    assert build_pictures_layer(tmp_path).stat().st_mtime_ns == again.stat().st_mtime_ns  # reused, not rebuilt


def test_a_failed_build_says_what_failed(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pillow==0.0.0-no-such-version\n")
    with pytest.raises(LayerError, match="pip install for the pictures layer failed"):
        build_pictures_layer(tmp_path / "out", requirements=requirements)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    packaged = chalice_package("dev", ROOT / ".local" / "test-deploy-package" / "dev")
    return json.loads((packaged / "sam.json").read_text())


def test_only_the_picture_handler_gets_the_layer(sam: dict[str, Any]) -> None:
    api = api_template(sam, code_uri="s3://bucket/api/dev/0123.zip", pictures_layer_uri=LAYER_URI)
    resources = api["Resources"]
    assert resources[PICTURES_LAYER]["Type"] == "AWS::Serverless::LayerVersion"
    assert resources[PICTURES_LAYER]["Properties"]["ContentUri"] == LAYER_URI
    assert resources[PICTURES_LAYER]["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    layered = {name for name, r in resources.items()
               if r["Type"] == "AWS::Serverless::Function" and r["Properties"].get("Layers")}
    assert layered == {PICTURE_HANDLER}
    assert resources[PICTURE_HANDLER]["Properties"]["Layers"] == [{"Ref": PICTURES_LAYER}]
    # Without a layer URI nothing is added (what the function then says: the test below).
    plain = api_template(sam, code_uri="s3://bucket/api/dev/0123.zip")
    assert PICTURES_LAYER not in plain["Resources"]


def test_without_pillow_the_variants_fail_plainly_and_the_menu_still_works() -> None:
    """A Python where `import PIL` fails (as in an API function, or a picture handler whose
    layer is missing): the menu's picture still works, make_variants names the layer."""
    probe = """
import sys
sys.modules["PIL"] = None  # `import PIL` raises ImportError, as where Pillow is not installed
from chalicelib import images
shown = images.picture({"id": "d1", "glass": "coupe", "garnish": "", "ingredients_json": "[]"}, "/images")
assert shown["kind"] == "illustration", shown
try:
    images.make_variants(b"not even an image")
except images.PillowMissing as exc:
    print("missing:", exc)
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "missing: Pillow is not installed" in result.stdout and "layer" in result.stdout
