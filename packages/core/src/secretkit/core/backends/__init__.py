"""The backends embedded in the core, registered by :mod:`.plugin` like any plugin's.

- ``env`` (:mod:`.env`): environment variables; ``mlflow/auth`` reads
  ``MLFLOW_AUTH`` (option ``prefix``).
- ``file`` (:mod:`.file`): a JSON, TOML, YAML or dotenv file, or a directory with
  one file per secret as Kubernetes mounts a Secret (options ``path``, ``format``,
  ``watch_interval``).
- ``memory`` (:mod:`.memory`): an in-process store with versions and push
  notifications, for tests and examples (option ``secrets``).
"""

from __future__ import annotations

__all__ = ()
