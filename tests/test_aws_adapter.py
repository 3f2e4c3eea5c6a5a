"""chalicelib/aws.py, the one boto3 client factory: cached per (service, region, options),
thread-safe, one reset; endpoints follow AWS_ENDPOINT_URL[_<SERVICE>] (the moto server
plays the emulator of the local stage); boto3 waits for the first client."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chalicelib import aws, cache, events
from chalicelib.config import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    settings.cache_clear()
    aws.reset()
    yield
    aws.reset()
    settings.cache_clear()


@pytest.fixture()
def emulator() -> Iterator[str]:
    """The moto server on a loopback port: its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_one_client_per_service_region_and_options() -> None:
    first = aws.client("events", config=events.CLIENT_CONFIG)
    assert aws.client("events", config=events.CLIENT_CONFIG) is first
    # Equal options are the same client, however the mapping was built.
    assert aws.client("events", config=dict(reversed(list(events.CLIENT_CONFIG.items())))) is first
    assert first.meta.region_name == settings().region == "eu-north-1"  # the configured region by default
    assert aws.client("events") is not first
    assert aws.client("events", config=cache.CLIENT_CONFIG) is not first
    other_region = aws.client("events", region="us-west-2", config=events.CLIENT_CONFIG)
    assert other_region is not first and other_region.meta.region_name == "us-west-2"
    assert first.meta.config.connect_timeout == 2 and first.meta.config.retries["total_max_attempts"] == 3
    assert aws.made() == ["events", "events", "events", "events"]


def test_botocore_does_not_rewrite_the_callers_options() -> None:
    """botocore turns `retries.max_attempts` into `total_max_attempts` in the dict it is
    given; the adapter hands it a copy, so the module's options (and the key) stay put."""
    options = {"retries": {"max_attempts": 2, "mode": "standard"}}
    first = aws.client("apigateway", config=options)
    assert options == {"retries": {"max_attempts": 2, "mode": "standard"}}
    assert aws.client("apigateway", config=options) is first


def test_reset_forgets_every_client_or_only_those_named() -> None:
    s3, secrets = aws.client("s3"), aws.client("secretsmanager")
    aws.reset("secretsmanager")
    assert aws.client("s3") is s3 and aws.client("secretsmanager") is not secrets
    aws.reset()
    assert aws.made() == []
    assert aws.client("s3") is not s3


def test_threads_asking_at_once_get_one_client() -> None:
    start = threading.Barrier(8)
    got: list[Any] = []

    def ask() -> None:
        start.wait(timeout=10)
        got.append(aws.client("sqs"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(got) == 8 and all(client is got[0] for client in got)
    assert aws.made() == ["sqs"]


def test_the_endpoint_follows_aws_endpoint_url(emulator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator)
    bucket = f"adapter-{uuid.uuid4().hex[:8]}"
    s3 = aws.client("s3")
    assert s3.meta.endpoint_url == emulator
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    seen = boto3.client("s3", endpoint_url=emulator, region_name="eu-north-1").list_buckets()["Buckets"]
    assert bucket in [b["Name"] for b in seen]


def test_a_service_endpoint_wins_over_the_global_one_and_reset_rereads_them(
    emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", emulator)
    secrets = aws.client("secretsmanager")
    secrets.create_secret(Name="adapter-test", SecretString="x")
    assert secrets.get_secret_value(SecretId="adapter-test")["SecretString"] == "x"
    assert aws.client("events").meta.endpoint_url == "http://127.0.0.1:9"
    # A client is made once: a changed endpoint applies after reset (tests switch emulators).
    monkeypatch.delenv("AWS_ENDPOINT_URL_SECRETS_MANAGER")
    assert aws.client("secretsmanager").meta.endpoint_url == emulator
    aws.reset()
    assert aws.client("secretsmanager").meta.endpoint_url == "http://127.0.0.1:9"


def test_importing_the_adapter_imports_no_boto3() -> None:
    probe = "import sys, chalicelib.aws; print(sorted(m for m in sys.modules if m.startswith(('boto3', 'botocore'))))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
