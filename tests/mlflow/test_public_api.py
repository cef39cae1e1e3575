"""The public surface of secretkit-mlflow, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import secretkit.mlflow


def test_all_is_the_public_api() -> None:
    """secretkit.mlflow.__all__ names exactly the public API, and each resolves."""
    assert secretkit.mlflow.__all__ == (
        "MlflowSettings",
        "SecretAuth",
        "SecretkitAuthProvider",
        "read_settings",
    )
    for name in secretkit.mlflow.__all__:
        assert getattr(secretkit.mlflow, name) is not None


def test_version_comes_from_the_distribution() -> None:
    """__version__ is the installed distribution's version."""
    import importlib.metadata

    assert secretkit.mlflow.__version__ == importlib.metadata.version(
        "secretkit-mlflow"
    )


def test_the_secretkit_plugin_imports_nothing_heavy() -> None:
    """The secretkit plugin (every client loads it) imports no MLflow or requests."""
    code = (
        "import sys, secretkit.mlflow, secretkit.mlflow.plugin as p; "
        "p.secretkit_register_commands(); "
        "print(','.join(m for m in ('mlflow', 'requests', 'secretkit.mlflow.config') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
