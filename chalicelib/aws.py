"""The one place boto3 clients are made: `client(service, region=..., config=...)`.

Every module asks here for its client, so there is one cache and one `reset()` (tests
switch emulators, credentials and settings, then call it; tests/conftest.py's
`_reset_app_state` does).

* Cached per (service, region, config): a Lambda container makes each client once and
  reuses it for every invocation; clients are thread-safe once made.
* boto3 is imported on the first call, never at import: `import app` is part of every
  cold start and most requests use no AWS client at all (tests/test_package.py checks).
* All clients share one boto3 Session, made on first use (one set of loaded service
  data and one credential lookup per container, instead of one per client); `reset()`
  drops it, so the next client reads the credentials and settings afresh.
* `config` is the keyword arguments of botocore's `Config` (timeouts, retries, signature
  version), not a `Config` object: callers then need no botocore import at module level,
  and equal options are an equal cache key.
* Endpoints are botocore's to choose: `AWS_ENDPOINT_URL` and
  `AWS_ENDPOINT_URL_<SERVICE>` (the local stage points them at the emulator) are read
  when a client is made.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from typing import Any

from chalicelib.config import settings

_Key = tuple[str, str, str]

_clients: dict[_Key, Any] = {}
_session: Any = None
_lock = threading.Lock()


def _config_key(config: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(config or {}), sort_keys=True, default=repr)


def client(service: str, *, region: str | None = None, config: Mapping[str, Any] | None = None) -> Any:
    """The process's boto3 client for `service` in `region` (default: the configured
    region) with botocore `Config(**config)`; made on first use, then reused."""
    key = (service, region or settings().region, _config_key(config))
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:  # boto3 Sessions are not thread-safe; making a client must not race
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = _make(*key[:2], config)
        return found


def _make(service: str, region: str, config: Mapping[str, Any] | None) -> Any:
    global _session
    import boto3  # deferred: see the module docstring
    from botocore.config import Config

    if _session is None:
        _session = boto3.session.Session()
    # A copy: botocore rewrites a `retries` dict it is given (max_attempts -> total_max_attempts),
    # which would change the caller's options and so the next call's cache key.
    options = copy.deepcopy(dict(config)) if config else None
    return _session.client(service, region_name=region, config=Config(**options) if options else None)


def made() -> list[str]:
    """The service of each client made since the last reset (tests: "not even a client was made")."""
    return [service for service, _, _ in _clients]


def reset(*services: str) -> None:
    """Forget every client and the session (tests switch emulators, credentials, settings),
    or only the clients of `services` (a fixture that must not drop another's stubbed client)."""
    global _session
    with _lock:
        if services:
            for key in [key for key in _clients if key[0] in services]:
                del _clients[key]
            return
        _clients.clear()
        _session = None
