"""What the deployment files may set: the ``IK_*`` variables ``core.config.Settings`` reads.

Walking the model fields (not a hand-kept list) means a typo such as ``IK_SQL_URL`` or
``IK_LLM__BASEURL`` in a compose file or a chart fails a test instead of being ignored at run
time (``Settings`` has ``extra="ignore"``, so a misspelt variable is silently dropped).
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.config import DEFAULT_SECRET, REPO_ROOT, Settings

#: Read with ``os.environ`` rather than as a field (the default of several cache and model folders).
EXTRA_VARIABLES = frozenset({"IK_CACHE_DIR"})

#: Names whose values are credentials, or URLs that may carry them.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|API_KEY|TOKEN|ACCESS_KEY|^IK_SQL__URL$|^IK_CACHE__REDIS_URL$")

#: Literals that must never appear as a secret: the settings' development default and common
#: vendor defaults.
DEFAULT_LITERALS = frozenset({DEFAULT_SECRET, "minioadmin", "password", "neo4j", "secret", "admin"})


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (``Model``, ``Model | None``, ``Annotated[...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def _walk(model: type[BaseModel], prefix: str) -> set[str]:
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        name = f"{prefix}{field_name.upper()}"
        names.add(name)  # a nested model may also be given whole, as JSON
        for nested in _models(field.annotation):
            names |= _walk(nested, f"{name}__")
    return names


def setting_variables() -> frozenset[str]:
    """Every environment variable ``Settings`` reads (prefix ``IK_``, ``__`` for nesting)."""
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    delimiter = Settings.model_config.get("env_nested_delimiter")
    assert prefix == "IK_"
    assert delimiter == "__"
    source = (REPO_ROOT / "core" / "config.py").read_text(encoding="utf-8")
    for extra in EXTRA_VARIABLES:
        assert f'os.environ.get("{extra}"' in source, f"{extra} is no longer read by core/config.py"
    return frozenset(_walk(Settings, prefix) | EXTRA_VARIABLES)


def unknown_settings(names: typing.Iterable[str]) -> list[str]:
    """The ``IK_*`` names among ``names`` that ``Settings`` does not read."""
    known = setting_variables()
    return sorted(n for n in names if n.startswith("IK_") and n not in known)


def health_route(server: str) -> str:
    """The health route a model server's router declares (``@router.get("/health")``)."""
    router = (REPO_ROOT / "model_servers" / server / "router.py").read_text(encoding="utf-8")
    routes = re.findall(r'@router\.get\("(/[a-z]*health[a-z]*)"', router)
    assert len(routes) == 1, f"model_servers/{server}/router.py: expected one health route, found {routes}"
    return str(routes[0])


def python_entry_exists(command: list[str]) -> bool:
    """``python -m pkg.mod ...`` or ``python path.py ...`` names something in the repository."""
    if len(command) >= 3 and command[0] in {"python", "python3"} and command[1] == "-m":
        parts = command[2].split(".")
        base = REPO_ROOT.joinpath(*parts)
        return (base / "__main__.py").is_file() or base.with_suffix(".py").is_file()
    if len(command) >= 2 and command[0] in {"python", "python3"} and command[1].endswith(".py"):
        return (REPO_ROOT / command[1]).is_file()
    return True  # not a Python entry point of ours (vLLM's image, a store)


def strong_secret(name: str) -> str:
    """A made-up value of the right shape for a secret variable, for validating a configuration."""
    if name == "IK_SQL__URL":
        return "postgresql+psycopg://ik:Xy7-not-a-real-pw@postgres:5432/ik"
    if name == "IK_CACHE__REDIS_URL":
        return "redis://:Xy7-not-a-real-pw@redis:6379/0"
    return "t3st-" + "x" * 40


def repo_path(*parts: str) -> Path:
    return REPO_ROOT.joinpath(*parts)
