"""The public surface of the core distribution."""

from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys

import secretkit.core


def test_all_is_the_public_api() -> None:
    """secretkit.core.__all__ names exactly the documented public API."""
    assert set(secretkit.core.__all__) == {
        "CachePolicy",
        "SecretClient",
        "SyncSecretClient",
        "Secret",
        "SecretRef",
        "errors",
        "hookimpl",
    }
    for name in secretkit.core.__all__:
        assert getattr(secretkit.core, name) is not None


def test_version_comes_from_the_distribution() -> None:
    """__version__ is the installed distribution's version."""
    import importlib.metadata

    assert secretkit.core.__version__ == importlib.metadata.version("secretkit")


def test_secretkit_is_a_namespace_package() -> None:
    """No distribution ships secretkit/__init__.py (PEP 420)."""
    namespace = importlib.import_module("secretkit")
    assert getattr(namespace, "__file__", None) is None
    root = pathlib.Path(__file__).parents[2] / "packages"
    assert not list(root.glob("*/src/secretkit/__init__.py"))


def test_every_module_has_a_sorted_all() -> None:
    """Each public module declares __all__ as a sorted tuple of its public names."""
    package = pathlib.Path(secretkit.core.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if path.name.startswith("_") and path.name != "__init__.py":
            continue
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(("secretkit", *parts)).removesuffix(".__init__")
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if path.name == "__init__.py" and exported is None:
            continue
        assert isinstance(exported, tuple), name
        assert list(exported) == sorted(exported, key=_isort_style), name


def _isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then the rest."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def test_import_loads_no_heavy_modules() -> None:
    """import secretkit.core pulls in no SDK, YAML, TOML or importlib.metadata."""
    code = (
        "import sys, secretkit.core; "
        "print(','.join(m for m in ('yaml', 'tomllib', 'importlib.metadata', "
        "'boto3', 'botocore', 'hvac', 'azure', 'hmac', 'trio') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
