"""The picture handler's Lambda layer: Pillow (requirements-pictures.txt), and only there.

Pillow is 7.4 MB zipped and only the picture handler (WebP variants of drink photos,
chalicelib/images.py `make_variants`) imports it. In the shared deployment.zip it
would ride along with every API function; as a layer attached to the picture handler
alone (template.py `api_template`), the API's package stays within its 15 MB budget
(tests/test_package.py) and the other functions never download or unpack it.

The layer is built offline from the wheel only (`pip install --only-binary=:all:` for
the python3.11 x86_64 runtime, manylinux2014), laid out as Lambda wants it
(`python/PIL/...`), zipped deterministically (sorted names, fixed timestamps, so an
unchanged build is the same bytes and the same S3 key), and reused while
requirements-pictures.txt is unchanged.

    .venv/bin/python -m infra.deploy.layer OUT_DIR      # prints the zip's path and size
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.deploy.stacks import ROOT

REQUIREMENTS = ROOT / "requirements-pictures.txt"
ZIP_NAME = "pictures-layer.zip"
# The runtime the functions use (chalice's default architecture).
PLATFORM, PYTHON_VERSION, RUNTIME, ARCHITECTURE = "manylinux2014_x86_64", "3.11", "python3.11", "x86_64"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class LayerError(Exception):
    pass


def _inputs_digest(requirements: Path) -> str:
    return hashlib.sha256(f"{PLATFORM}\0{PYTHON_VERSION}\0".encode() + requirements.read_bytes()).hexdigest()


def build_pictures_layer(out: Path, *, requirements: Path = REQUIREMENTS) -> Path:
    """`out`/pictures-layer.zip, built from requirements-pictures.txt's wheels (reused while
    they are unchanged). Needs PyPI (or pip's cache), like `chalice package`."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path, stamp = out / ZIP_NAME, out / "pictures-layer.sha256"
    digest = _inputs_digest(requirements)
    if zip_path.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return zip_path
    stamp.unlink(missing_ok=True)
    staging = out / "pictures-layer"
    shutil.rmtree(staging, ignore_errors=True)
    target = staging / "python"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--only-binary=:all:", "--platform", PLATFORM, "--python-version", PYTHON_VERSION,
         "--implementation", "cp", "--target", str(target), "-r", str(requirements)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise LayerError("pip install for the pictures layer failed: " + " / ".join(tail))
    files = sorted(p for p in staging.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    partial = zip_path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.relative_to(staging).as_posix(), FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((0o755 if file.stat().st_mode & 0o111 else 0o644) | 0o100000) << 16
            archive.writestr(info, file.read_bytes())
    partial.replace(zip_path)
    shutil.rmtree(staging, ignore_errors=True)
    stamp.write_text(digest)
    return zip_path


def layer_key(stage: str, zip_path: Path) -> str:
    """The layer zip's S3 key: its contents' hash, like the code zip's (template.code_key)."""
    from infra.deploy.template import code_digest

    return f"layers/{stage}/pictures-{code_digest(zip_path)}.zip"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / ".local" / "pictures-layer"
    try:
        zip_path = build_pictures_layer(out)
    except LayerError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{zip_path} {zip_path.stat().st_size / 1e6:.1f} MB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
