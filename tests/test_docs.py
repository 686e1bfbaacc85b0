"""docs/configuration.md is what docs/gen_config.py writes from the settings classes today."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("casecraft", "gateway", "structurer_service", "image_service")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_config", ROOT / "docs" / "gen_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is made
    spec.loader.exec_module(module)
    return module


def test_configuration_doc_is_current() -> None:
    generator = _generator()
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == generator.render(), (
        "docs/configuration.md is stale; regenerate it with `python docs/gen_config.py`"
    )


def test_every_settings_class_is_in_the_table() -> None:
    found: set[type[BaseSettings]] = set()
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            found.update(
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, BaseSettings)
                and value.__module__ == info.name
            )
    listed = {settings for settings, _ in _generator().SETTINGS}
    # A base of a listed class (GrpcServerSettings, ChainSettings) has its fields in that class.
    bases = {base for settings in listed for base in settings.__mro__[1:]}
    missing = sorted(cls.__qualname__ for cls in found - listed - bases)
    assert not missing, f"add {missing} to SETTINGS in docs/gen_config.py, then run it"
