"""Execute a scenario's Python file (generator, hidden check) as a fresh module."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

_module_ids = itertools.count()


def load_module(path: Path, name: str) -> ModuleType:
    """Execute a Python file as a fresh module (never cached in sys.modules)."""
    # A unique name per load, so threads rendering the same scenario never share one.
    name = f"{name}_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered only while executing so dataclasses/pickling inside the module work.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if sys.modules.get(name) is module:
            del sys.modules[name]
    return module
