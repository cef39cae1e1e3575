"""The ``env`` backend: secrets in environment variables."""

from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secretkit.core.backends import plugin
from secretkit.core.backends.env import EnvBackend, variable_name
from secretkit.core.errors import ConfigurationError, NotSupported, SecretNotFound
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef

if TYPE_CHECKING:
    from secretkit.core.backend import Backend

# Marked here, not only by the conftest hook, so parametrized async tests keep
# their parameters (the hook runs after parametrization).
pytestmark = pytest.mark.anyio

CANARY = "CANARY-7f3a"


def make(**values: object) -> Backend:
    """Build an ``env`` backend through its factory, as a client does."""
    (factory,) = [f for f in plugin.secretkit_register_backends() if f.type == "env"]
    return factory.create(Options(values, instance="x", source="test"))


def ref(text: str) -> SecretRef:
    return SecretRef.parse(text)


async def collect(backend: Backend, prefix: str = "") -> list[str]:
    return [name async for name in backend.list(prefix)]


class TestNames:
    """The documented mapping from secret names to variables."""

    @pytest.mark.parametrize(
        ("name", "prefix", "variable"),
        [
            ("mlflow/auth", "", "MLFLOW_AUTH"),
            ("mlflow/auth", "APP_", "APP_MLFLOW_AUTH"),
            ("db.main-replica@eu", "", "DB_MAIN_REPLICA_EU"),
            ("MIXED_case9", "", "MIXED_CASE9"),
        ],
    )
    def test_mapping(self, name: str, prefix: str, variable: str) -> None:
        """Names are upper-cased, non-alphanumerics become ``_``, the prefix leads."""
        assert variable_name(name, prefix=prefix) == variable

    @given(st.text(min_size=1))
    def test_mapping_is_idempotent_and_portable(self, name: str) -> None:
        """Any name maps to ``[A-Za-z0-9_]`` only, and a mapped name maps to itself."""
        mapped = variable_name(name)
        assert all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in mapped)
        assert variable_name(mapped) == mapped


class TestFetch:
    """Reading values."""

    async def test_reads_mapped_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``mlflow/auth`` reads ``MLFLOW_AUTH``, without a version."""
        monkeypatch.setenv("MLFLOW_AUTH", "token-1")
        value = await make().fetch(ref("mlflow/auth"))
        assert value.value == "token-1"
        assert value.version is None

    async def test_prefix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With ``prefix = "APP_"``, ``mlflow/auth`` reads ``APP_MLFLOW_AUTH``."""
        monkeypatch.setenv("APP_MLFLOW_AUTH", "prefixed")
        monkeypatch.setenv("MLFLOW_AUTH", "bare")
        value = await make(prefix="APP_").fetch(ref("mlflow/auth"))
        assert value.value == "prefixed"

    async def test_reads_environment_at_each_fetch(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A variable changed after the first fetch shows in the next one."""
        backend = make()
        monkeypatch.setenv("DB_PASSWORD", "old")
        assert (await backend.fetch(ref("db/password"))).value == "old"
        monkeypatch.setenv("DB_PASSWORD", "new")
        assert (await backend.fetch(ref("db/password"))).value == "new"

    async def test_empty_value_is_a_value(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A variable set to the empty string is found, not missing."""
        monkeypatch.setenv("EMPTY_ONE", "")
        assert (await make().fetch(ref("empty/one"))).value == ""

    async def test_missing_names_the_variable(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A missing variable raises SecretNotFound naming it, with our context."""
        monkeypatch.delenv("NOPE_MISSING", raising=False)
        with pytest.raises(SecretNotFound, match="NOPE_MISSING") as caught:
            await make().fetch(ref("nope/missing"))
        assert caught.value.ref == "nope/missing"
        assert caught.value.backend == "x"

    @pytest.mark.parametrize("query", ["?version=1", "?stage=current"])
    async def test_versions_and_stages_are_not_found(
        self, monkeypatch: pytest.MonkeyPatch, query: str
    ) -> None:
        """The environment keeps no versions: asking for one is SecretNotFound."""
        monkeypatch.setenv("API_KEY", CANARY)
        with pytest.raises(SecretNotFound, match="no versions") as caught:
            await make().fetch(ref(f"api/key{query}"))
        shown = "".join(traceback.format_exception(caught.value))
        assert CANARY not in shown
        assert CANARY not in repr(caught.value)


class TestList:
    """Listing names, never values."""

    async def test_lists_under_prefix_without_backend_prefix(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``list("db/")`` yields the ``DB_*`` variables, backend prefix stripped."""
        for key in list(os.environ):
            if key.startswith("APP_"):
                monkeypatch.delenv(key)
        monkeypatch.setenv("APP_DB_MAIN", CANARY)
        monkeypatch.setenv("APP_DB_REPLICA", "b")
        monkeypatch.setenv("APP_OTHER", "c")
        monkeypatch.setenv("APP_db_lower", "d")
        monkeypatch.setenv("DB_UNPREFIXED", "e")
        backend = make(prefix="APP_")
        assert await collect(backend, "db/") == ["DB_MAIN", "DB_REPLICA"]
        assert await collect(backend) == ["DB_MAIN", "DB_REPLICA", "OTHER"]
        # Every listed name fetches its variable back.
        assert (await backend.fetch(ref("DB_MAIN"))).value == CANARY


class TestRest:
    """check(), read-only methods, options."""

    async def test_check_names_the_process(self) -> None:
        """check() names the process whose environment it reads."""
        assert await make().check() == f"environment of process {os.getpid()}"
        assert "prefix APP_" in await make(prefix="APP_").check()

    async def test_put_and_delete_are_not_supported(self) -> None:
        """The environment is read-only here."""
        backend = make()
        with pytest.raises(NotSupported):
            await backend.put(ref("a"), "v")
        with pytest.raises(NotSupported):
            await backend.delete(ref("a"))

    def test_factory_sets_the_instance_name(self) -> None:
        """The factory builds an EnvBackend named after the instance."""
        backend = make(prefix="APP_")
        assert isinstance(backend, EnvBackend)
        assert backend.name == "x"

    def test_unknown_option_is_refused(self) -> None:
        """An unknown option raises ConfigurationError naming the key."""
        with pytest.raises(ConfigurationError, match="prefx") as caught:
            make(prefx="APP_")
        assert caught.value.key == "backends.x.prefx"

    def test_prefix_must_be_text(self) -> None:
        """A prefix of the wrong type is a ConfigurationError."""
        with pytest.raises(ConfigurationError, match="prefix"):
            make(prefix=3)
