"""Plugin loading: entry points, the backend registry, credential providers."""

from __future__ import annotations

import importlib.metadata

import pytest

from secretkit.core import hookimpl
from secretkit.core.backend import Backend, BackendFactory
from secretkit.core.credentials import CredentialProviderFactory, StaticProvider
from secretkit.core.errors import BackendNotFound
from secretkit.core.plugins import Registry, registry


class TestEntryPoints:
    def test_builtin_backends_come_through_the_entry_point(self) -> None:
        """The core's own backends register through the `secretkit` group."""
        plugins = Registry.load()
        builtin = next(info for info in plugins.plugins if info.name == "builtin")
        assert builtin.distribution.startswith("secretkit ")
        assert set(builtin.backends) == {"env", "file", "memory"}
        assert builtin.error is None

    def test_process_wide_registry_is_loaded_once(self) -> None:
        """registry() returns the same object every time."""
        assert registry() is registry()

    def test_broken_plugin_is_reported_not_raised(self, monkeypatch, caplog) -> None:
        """A plugin that fails to import is listed with its error; others still load."""
        real = importlib.metadata.entry_points

        def entry_points(*, group: str) -> object:
            found = list(real(group=group))
            if group == "secretkit":
                found.append(
                    importlib.metadata.EntryPoint(
                        name="broken", value="no.such.module", group="secretkit"
                    )
                )
            return found

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
        plugins = Registry.load()
        broken = next(info for info in plugins.plugins if info.name == "broken")
        assert broken.error is not None
        assert "No module named" in broken.error
        assert "env" in plugins.types()
        assert "failed to load" in caplog.text


class TestRegistry:
    def test_aliases_resolve_to_their_type(self) -> None:
        """A factory registered with aliases answers to each of them."""

        class Plugin:
            @hookimpl
            def secretkit_register_backends(self) -> list[BackendFactory]:
                return [
                    BackendFactory(
                        type="thing",
                        aliases=("thing-alias",),
                        create=lambda o: Backend(),
                    )
                ]

        plugins = Registry.load()
        plugins.register(Plugin(), name="thing-plugin")
        assert plugins.factory("thing-alias") is plugins.factory("thing")
        assert plugins.canonical("thing-alias") == "thing"
        assert "thing" in plugins.types()
        assert "thing-alias" not in plugins.types()

    def test_not_found_names_installed_types_and_the_extra(self) -> None:
        """BackendNotFound lists what is installed and which extra provides it."""
        from secretkit.core.backends import plugin as builtin

        core_only = Registry.load(
            entry_points=False
        )  # as if secretkit-azure were absent
        core_only.register(builtin, name="builtin")
        with pytest.raises(BackendNotFound) as caught:
            core_only.factory("azure-key-vault")
        assert "(installed: env, file, memory)" in str(caught.value)
        assert "pip install 'secretkit[azure]'" in str(caught.value)
        assert set(caught.value.installed) >= {"env", "file", "memory"}

    def test_unknown_third_party_name(self) -> None:
        """A name nobody provides says how to configure or install it."""
        with pytest.raises(BackendNotFound, match="install a plugin"):
            Registry.load().factory("gcp")

    def test_credential_providers_by_kind_and_order(self) -> None:
        """Credential provider factories are filtered by chain kind and sorted."""

        def make(name: str) -> StaticProvider[str]:
            return StaticProvider(name, "v")

        class Plugin:
            @hookimpl
            def secretkit_register_credential_providers(
                self,
            ) -> list[CredentialProviderFactory]:
                return [
                    CredentialProviderFactory(
                        kind="test-aws",
                        name="late",
                        order=300,
                        create=lambda o: make("l"),
                    ),
                    CredentialProviderFactory(
                        kind="test-aws",
                        name="early",
                        order=10,
                        create=lambda o: make("e"),
                    ),
                    CredentialProviderFactory(
                        kind="test-vault", name="other", create=lambda o: make("o")
                    ),
                ]

        plugins = Registry.load()
        plugins.register(Plugin(), name="creds")
        assert [f.name for f in plugins.credential_factories("test-aws")] == [
            "early",
            "late",
        ]
        assert [f.name for f in plugins.credential_factories("test-vault")] == ["other"]
        assert plugins.credential_factories("test-azure") == []
