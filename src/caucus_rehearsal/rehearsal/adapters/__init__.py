"""Target adapters: the default for contract v1 and loading a vendor's ``module:Class``."""

from __future__ import annotations

import importlib
import os
import sys

from caucus_rehearsal.errors import UsageError
from caucus_rehearsal.published import check_publishes
from caucus_rehearsal.rehearsal.adapters.base import TargetAdapter

DEFAULT_ADAPTER = "caucus_rehearsal.rehearsal.adapters.v1:ContractV1Adapter"


def load_adapter(spec: str) -> type[TargetAdapter]:
    """The adapter class named ``module:Class``; UsageError naming the spec otherwise.

    The module is looked up on ``sys.path`` and then in the current directory (so
    ``examples.vendor_adapter:TallyExchangeAdapter`` works from a checkout).
    """
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise UsageError(f"--adapter {spec!r}: expected module:Class")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--adapter {spec!r}: cannot import {module_name} ({exc})") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, TargetAdapter):
        raise UsageError(f"--adapter {spec!r}: {class_name} is not a TargetAdapter subclass")
    try:
        check_publishes(cls.publishes)
    except ValueError as exc:
        raise UsageError(f"--adapter {spec!r}: {exc}") from None
    return cls
