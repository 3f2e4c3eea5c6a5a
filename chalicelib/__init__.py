"""drink-assistant: the logic behind the Chalice routes in app.py."""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """`chalicelib.<name>`, imported on its first attribute access rather than with
    app.py: a cold Lambda container imports only the modules its request uses.
    Thread-safe (importlib's module locks); attributes always come from the real module,
    so patching the module itself (tests) is seen through it."""

    def __init__(self, name: str) -> None:
        self._module_name = f"{__name__}.{name}"

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._module_name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._module_name}>"
