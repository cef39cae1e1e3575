"""Configuration from keyword arguments, SECRETKIT_* variables and TOML files."""

from __future__ import annotations

import pytest

from secretkit.core import CachePolicy, SecretClient
from secretkit.core.config import BackendSpec, find_config, from_config, from_env
from secretkit.core.errors import BackendNotFound, ConfigurationError


def _write(path, text: str):
    path.write_text(text)
    return path


class TestFromConfig:
    def test_full_file(self, tmp_path) -> None:
        """A TOML file sets the default, the cache and several backend instances."""
        config = _write(
            tmp_path / "secretkit.toml",
            """
default = "main"
max_threads = 4
[cache]
ttl = 60
max_stale = 3600
[backends.main]
type = "memory"
ttl = 5
[backends.main.secrets]
"db/main" = "x"
[backends.other]
type = "memory"
""",
        )
        settings = from_config(config)
        assert settings.default == "main"
        assert settings.max_threads == 4
        assert settings.cache == CachePolicy(ttl=60, max_stale=3600)
        main = settings.backends["main"]
        assert isinstance(main, BackendSpec)
        assert (main.type, main.ttl, main.source) == ("memory", 5, str(config))
        assert set(settings.backends) == {"main", "other"}

    def test_manifest_table_left_to_the_manifest(self, tmp_path) -> None:
        """A [manifest] table in secretkit.toml is no client setting, nor an error."""
        config = _write(
            tmp_path / "secretkit.toml",
            'default = "env"\n[manifest.secrets.db]\nref = "env://DB"\n',
        )
        settings = from_config(config)
        assert settings.default == "env"
        assert not settings.backends

    def test_pyproject_section(self, tmp_path) -> None:
        """[tool.secretkit] in a pyproject.toml is read, and named in errors."""
        project = _write(
            tmp_path / "pyproject.toml",
            '[project]\nname = "x"\n[tool.secretkit]\ndefault = "env"\ncolour = 1\n',
        )
        with pytest.raises(ConfigurationError) as caught:
            from_config(project)
        assert caught.value.key == "colour"
        assert caught.value.source == f"{project} [tool.secretkit]"

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ("colour = 1", "colour"),
            ("[cache]\nttl = 'long'", "cache.ttl"),
            ("[cache]\nttl_s = 5", "cache.ttl_s"),
            ("[cache]\nrefresh_ahead = 2.0", "cache.refresh_ahead"),
            ("[cache]\nmax_entries = 1.5", "cache.max_entries"),
            ("backends = 3", "backends"),
            ("[backends]\nx = 3", "backends.x"),
            ("[backends.x]\ntype = 3", "backends.x.type"),
            ("[backends.x]\ntype = 'memory'\nttl = 'soon'", "backends.x.ttl"),
            ("default = 3", "default"),
            ("max_threads = 0", "max_threads"),
        ],
    )
    def test_errors_name_the_key_and_the_file(
        self, tmp_path, text: str, key: str
    ) -> None:
        """Unknown keys and wrong types name the key and the file."""
        config = _write(tmp_path / "bad.toml", text)
        with pytest.raises(ConfigurationError) as caught:
            from_config(config)
        assert caught.value.key == key
        assert caught.value.source == str(config)
        assert key in str(caught.value) and str(config) in str(caught.value)

    def test_backend_option_errors_name_the_file(self, tmp_path) -> None:
        """An option the backend rejects names backends.<name>.<option> and the file."""
        config = _write(
            tmp_path / "s.toml",
            "[backends.f]\ntype = 'file'\npath = 'x'\nformatt = 'json'\n",
        )
        with pytest.raises(ConfigurationError) as caught:
            SecretClient.from_config(config)
        assert caught.value.key == "backends.f.formatt"
        assert str(config) in str(caught.value)

    def test_invalid_toml_shows_no_content(self, tmp_path) -> None:
        """A TOML syntax error names the file and position but not the text."""
        config = _write(tmp_path / "s.toml", 'token = "CANARY-toml\n')
        with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
            from_config(config)
        assert "CANARY" not in str(caught.value)

    def test_missing_file(self, tmp_path) -> None:
        """A path that does not exist is a ConfigurationError."""
        with pytest.raises(ConfigurationError, match="no such file"):
            from_config(tmp_path / "nope.toml")

    def test_discovery(self, tmp_path, monkeypatch) -> None:
        """SECRETKIT_CONFIG wins, then ./secretkit.toml, then ./pyproject.toml."""
        monkeypatch.chdir(tmp_path)
        assert find_config({}) is None
        _write(tmp_path / "pyproject.toml", "[tool.secretkit]\n")
        assert find_config({}).name == "pyproject.toml"  # type: ignore[union-attr]
        _write(tmp_path / "secretkit.toml", "")
        assert find_config({}).name == "secretkit.toml"  # type: ignore[union-attr]
        assert str(find_config({"SECRETKIT_CONFIG": "/x/y.toml"})) == "/x/y.toml"

    def test_no_file_anywhere(self, tmp_path, monkeypatch) -> None:
        """from_config() with nothing to find says where it looked."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("SECRETKIT_CONFIG", raising=False)
        with pytest.raises(ConfigurationError, match="SECRETKIT_CONFIG"):
            from_config()


class TestFromEnv:
    def test_variables(self) -> None:
        """SECRETKIT_* variables set default, cache and backend options as text."""
        settings = from_env(
            {
                "SECRETKIT_DEFAULT": "prod",
                "SECRETKIT_TTL": "60",
                "SECRETKIT_MAX_ENTRIES": "100",
                "SECRETKIT_BACKENDS__PROD__TYPE": "memory",
                "SECRETKIT_BACKENDS__PROD__TTL": "7.5",
                "HOME": "/root",
            }
        )
        assert settings.default == "prod"
        assert (settings.cache.ttl, settings.cache.max_entries) == (60, 100)
        prod = settings.backends["prod"]
        assert isinstance(prod, BackendSpec)
        assert (prod.type, prod.ttl, prod.from_text) == ("memory", 7.5, True)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("SECRETKIT_TTLL", "5"),
            ("SECRETKIT_TTL", "soon"),
            ("SECRETKIT_MAX_ENTRIES", "1.5"),
            ("SECRETKIT_JITTER", "3"),
            ("SECRETKIT_BACKENDS__X", "y"),
            ("SECRETKIT_MAX_THREADS", "many"),
        ],
    )
    def test_errors_name_the_variable(self, name: str, value: str) -> None:
        """A bad or unknown variable raises ConfigurationError naming it."""
        with pytest.raises(ConfigurationError) as caught:
            from_env({name: value})
        assert name in str(caught.value)
        assert caught.value.source == "environment"

    def test_environment_overrides_the_file(self, tmp_path) -> None:
        """SECRETKIT_CONFIG is read first; variables override its values."""
        config = _write(
            tmp_path / "s.toml",
            "default = 'm'\n[cache]\nttl = 60\n"
            "[backends.m]\ntype = 'memory'\nttl = 3\n",
        )
        settings = from_env(
            {
                "SECRETKIT_CONFIG": str(config),
                "SECRETKIT_TTL": "30",
                "SECRETKIT_BACKENDS__M__SECRETS": "x",
            }
        )
        assert settings.default == "m"
        assert settings.cache.ttl == 30
        m = settings.backends["m"]
        assert isinstance(m, BackendSpec)
        assert (m.type, m.ttl) == ("memory", 3)

    async def test_client_from_env(self, monkeypatch, tmp_path) -> None:
        """SecretClient.from_env() reads through a file backend set by variables."""
        secrets = _write(tmp_path / "s.json", '{"mlflow": {"auth": {"token": "t"}}}')
        monkeypatch.setenv("SECRETKIT_DEFAULT", "file")
        monkeypatch.setenv("SECRETKIT_BACKENDS__FILE__PATH", str(secrets))
        async with SecretClient.from_env() as client:
            assert await client.get_value("mlflow/auth#token") == "t"


class TestKeywordArguments:
    def test_bad_arguments(self) -> None:
        """Wrong argument types raise ConfigurationError naming the argument."""
        with pytest.raises(ConfigurationError, match="cache"):
            SecretClient(cache={"ttl": 5})  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match=r"backends\.bad name"):
            SecretClient(backends={"bad name": {}})
        with pytest.raises(ConfigurationError, match="ttl"):
            SecretClient(ttl=-1)
        with pytest.raises(BackendNotFound, match="nope"):
            SecretClient(default="nope")

    def test_ttl_shortcut(self) -> None:
        """ttl= sets the cache policy's TTL."""
        assert SecretClient(ttl=42).settings.cache.ttl == 42

    def test_describe_masks_sensitive_options(self) -> None:
        """The effective configuration never shows a sensitive option's value."""
        settings = from_env(
            {
                "SECRETKIT_BACKENDS__KV__TYPE": "vault",
                "SECRETKIT_BACKENDS__KV__TOKEN": "CANARY-tok",
            }
        )
        described = settings.describe()
        assert "CANARY" not in repr(described)
        assert described["backends"]["kv"]["token"] == "****"  # type: ignore[index]


class TestTypeWideVariables:
    def test_type_options_apply_to_every_instance_of_the_type(self) -> None:
        """SECRETKIT_<TYPE>_<OPTION> sets an option for each instance of the type."""
        settings = from_env(
            {"SECRETKIT_MEMORY_SECRETS": "x", "SECRETKIT_AWS_SSM_REGION": "eu-west-1"},
            types=["memory", "aws", "aws-ssm"],
        )
        assert settings.type_options == {
            "memory": {"secrets": "x"},
            "aws-ssm": {"region": "eu-west-1"},
        }

    def test_unknown_type_prefix_is_an_error(self) -> None:
        """A variable matching no installed type is still rejected."""
        with pytest.raises(ConfigurationError, match="SECRETKIT_GCP_PROJECT"):
            from_env({"SECRETKIT_GCP_PROJECT": "p"}, types=["aws"])

    def test_plugin_variables_are_left_to_the_plugin(self) -> None:
        """SECRETKIT_<PLUGIN>_* belongs to an installed plugin; others stay errors."""
        env = {"SECRETKIT_MLFLOW_REF": "aws://x", "SECRETKIT_DEFAULT": "env"}
        settings = from_env(env, types=["aws"], plugins=["mlflow"])
        assert settings.default == "env"
        with pytest.raises(ConfigurationError, match="SECRETKIT_MLFLOW_REF"):
            from_env(env, types=["aws"])

    async def test_instance_options_win(self, tmp_path, monkeypatch) -> None:
        """An instance's own option wins over the type-wide variable."""
        one = tmp_path / "one.json"
        one.write_text('{"a": "from-one"}')
        two = tmp_path / "two.json"
        two.write_text('{"a": "from-two"}')
        monkeypatch.setenv("SECRETKIT_FILE_PATH", str(one))
        monkeypatch.setenv("SECRETKIT_BACKENDS__OTHER__TYPE", "file")
        monkeypatch.setenv("SECRETKIT_BACKENDS__OTHER__PATH", str(two))
        async with SecretClient.from_env() as client:
            assert await client.get_value("file://a") == "from-one"
            assert await client.get_value("other://a") == "from-two"

    def test_bad_type_option_names_its_source(self, monkeypatch) -> None:
        """An option the type rejects fails naming it, from the environment."""
        monkeypatch.setenv("SECRETKIT_FILE_COLOUR", "blue")
        with pytest.raises(ConfigurationError, match="colour") as caught:
            SecretClient.from_env(
                {
                    "SECRETKIT_FILE_COLOUR": "blue",
                    "SECRETKIT_DEFAULT": "file",
                    "SECRETKIT_FILE_PATH": "/x.json",
                }
            )
        assert "environment" in str(caught.value)
        assert "SECRETKIT_FILE_COLOUR" in str(caught.value)

    async def test_type_wide_ttl(self, tmp_path) -> None:
        """SECRETKIT_<TYPE>_TTL is that type's cache TTL; a bad one names itself."""
        secrets = tmp_path / "s.json"
        secrets.write_text('{"a": "1"}')
        env = {"SECRETKIT_FILE_PATH": str(secrets), "SECRETKIT_FILE_TTL": "7"}
        client = SecretClient.from_env(env)
        assert client._reader.instances.get("file").ttl == 7
        bad = SecretClient.from_env({**env, "SECRETKIT_FILE_TTL": "soon"})
        with pytest.raises(ConfigurationError, match="SECRETKIT_FILE_TTL"):
            bad.backend("file")  # built on first use, as file:// is not configured
        await bad.aclose()
        await client.aclose()
