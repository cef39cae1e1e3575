"""``Options``: typed, checked reading of one backend instance's options."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest

from secretkit.core.errors import ConfigurationError
from secretkit.core.options import Options, is_sensitive, masked

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CANARY = "hunter2-canary-5b0e"
SOURCE = "secretkit.toml"


def opts(values: Mapping[str, object], *, from_text: bool = False) -> Options:
    return Options(values, instance="prod", source=SOURCE, from_text=from_text)


def _read(getter: str, options: Options, key: str) -> object:
    if getter == "get_choice":
        return options.get_choice(key, ("a", "b"))
    read: Callable[[str], object] = getattr(options, getter)
    return read(key)


GETTERS = [
    "get_str",
    "get_int",
    "get_float",
    "get_bool",
    "get_str_list",
    "get_mapping",
    "get_path",
    "get_choice",
]


class TestGetters:
    """Each getter with a value of the right type."""

    @pytest.mark.parametrize(
        ("getter", "value", "expected"),
        [
            ("get_str", "us-east-1", "us-east-1"),
            ("get_str", "", ""),
            ("get_int", 300, 300),
            ("get_int", 0, 0),
            ("get_float", 0.5, 0.5),
            ("get_bool", True, True),
            ("get_bool", False, False),
            ("get_str_list", ["us-east-1", "eu-west-1"], ["us-east-1", "eu-west-1"]),
            ("get_str_list", ("a",), ["a"]),
            ("get_str_list", [], []),
            ("get_mapping", {"team": "ml"}, {"team": "ml"}),
            ("get_path", "/etc/secrets.json", Path("/etc/secrets.json")),
            ("get_path", Path("/etc/s.json"), Path("/etc/s.json")),
            ("get_choice", "b", "b"),
        ],
    )
    def test_right_type(self, getter: str, value: object, expected: object) -> None:
        """A value of the right type comes back as is (or as its canonical type)."""
        result = _read(getter, opts({"k": value}), "k")
        assert result == expected
        assert type(result) is type(expected)

    def test_float_accepts_int(self) -> None:
        """A whole number is a number: ``get_float`` gives it back as float."""
        result = opts({"k": 2}).get_float("k")
        assert result == 2.0
        assert isinstance(result, float)

    def test_lists_and_mappings_are_copies(self) -> None:
        """Changing a returned list or dict does not change the options."""
        options = opts({"l": ["a"], "m": {"x": 1}})
        got_list = options.get_str_list("l")
        got_list.append("b")
        got_map = options.get_mapping("m")
        got_map["y"] = 2
        assert options.get_str_list("l") == ["a"]
        assert options.get_mapping("m") == {"x": 1}

    def test_path_expands_user(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``~`` in a path expands to the home directory, for str and Path."""
        monkeypatch.setenv("HOME", "/home/tester")
        options = opts({"s": "~/secrets.json", "p": Path("~/p.json")})
        assert options.get_path("s") == Path("/home/tester/secrets.json")
        assert options.get_path("p") == Path("/home/tester/p.json")

    def test_values_are_copied(self) -> None:
        """Changing the dict given afterwards does not change the options."""
        given: dict[str, object] = {"region": "us-east-1"}
        options = opts(given)
        given["region"] = "eu-west-1"
        given["extra"] = 1
        assert options.get_str("region") == "us-east-1"
        assert "extra" not in options

    def test_keys_and_contains(self) -> None:
        """``keys()`` and ``in`` see the option names given."""
        options = opts({"region": "x", "profile": None})
        assert options.keys() == frozenset({"region", "profile"})
        assert "region" in options
        assert "missing" not in options


class TestWrongType:
    """A value of the wrong type raises ConfigurationError naming key and source."""

    @pytest.mark.parametrize(
        ("getter", "value"),
        [
            ("get_str", 5),
            ("get_str", b"bytes"),
            ("get_str", ["a"]),
            ("get_int", "300"),
            ("get_int", 3.0),
            ("get_int", True),
            ("get_int", False),
            ("get_float", "0.5"),
            ("get_float", True),
            ("get_bool", 1),
            ("get_bool", 0),
            ("get_bool", "yes"),
            ("get_str_list", "a,b"),
            ("get_str_list", ["a", 1]),
            ("get_str_list", {"a": "b"}),
            ("get_mapping", ["a"]),
            ("get_mapping", "a=b"),
            ("get_mapping", {1: "x"}),
            ("get_path", 5),
            ("get_path", ""),
            ("get_choice", 5),
            ("get_choice", "c"),
            ("get_choice", "A"),
        ],
    )
    def test_rejected(self, getter: str, value: object) -> None:
        """The error names ``backends.<instance>.<key>`` and where it came from."""
        with pytest.raises(ConfigurationError) as info:
            _read(getter, opts({"region": value}), "region")
        err = info.value
        assert err.key == "backends.prod.region"
        assert err.source == SOURCE
        assert err.backend == "prod"
        assert str(err).startswith(f"backends.prod.region ({SOURCE}): ")

    @pytest.mark.parametrize("getter", ["get_int", "get_float"])
    def test_bools_are_not_numbers(self, getter: str) -> None:
        """``True`` is not read as 1, even though bool subclasses int."""
        with pytest.raises(ConfigurationError, match=r"\(bool\)"):
            _read(getter, opts({"k": True}), "k")

    def test_choice_lists_the_choices(self) -> None:
        """A wrong choice says which words are allowed."""
        with pytest.raises(ConfigurationError, match="expected one of a, b, got 'c'"):
            opts({"k": "c"}).get_choice("k", ("a", "b"))

    def test_default_object_is_still_checked(self) -> None:
        """A value that is the very object used as default is still type-checked."""
        with pytest.raises(ConfigurationError):
            opts({"k": 0}).get_str("k", 0)

    def test_default_object_is_still_converted(self) -> None:
        """A value identical to the default still gets the getter's conversion."""
        assert type(opts({"k": 1}).get_float("k", 1)) is float
        home = Path("~")
        assert opts({"p": home}).get_path("p", home) == home.expanduser()


class TestMissing:
    """Absent options: defaults and required ones."""

    @pytest.mark.parametrize("getter", GETTERS)
    def test_required(self, getter: str) -> None:
        """A missing option without a default names the key and the source."""
        with pytest.raises(ConfigurationError, match="is required") as info:
            _read(getter, opts({}), "region")
        assert info.value.key == "backends.prod.region"
        assert info.value.source == SOURCE
        assert "backends.prod.region" in str(info.value)
        assert SOURCE in str(info.value)

    @pytest.mark.parametrize("getter", GETTERS)
    def test_none_is_missing(self, getter: str) -> None:
        """An option set to None counts as not given."""
        with pytest.raises(ConfigurationError, match="is required"):
            _read(getter, opts({"region": None}), "region")

    @pytest.mark.parametrize("getter", GETTERS)
    @pytest.mark.parametrize("given", [{}, {"k": None}])
    def test_default(self, getter: str, given: dict[str, object]) -> None:
        """The default comes back untouched when the option is absent or None."""
        sentinel = object()
        options = opts(given)
        if getter == "get_choice":
            assert options.get_choice("k", ("a",), sentinel) is sentinel
        else:
            assert getattr(options, getter)("k", sentinel) is sentinel

    def test_none_default(self) -> None:
        """``None`` is a valid default, distinct from "required"."""
        assert opts({}).get_int("timeout", None) is None


class TestFromText:
    """Options from environment variables arrive as text and are converted."""

    @pytest.mark.parametrize(
        ("getter", "text", "expected"),
        [
            ("get_int", "300", 300),
            ("get_int", " 300 ", 300),
            ("get_int", "-1", -1),
            ("get_float", "0.5", 0.5),
            ("get_float", "3", 3.0),
            ("get_float", " 1e3 ", 1000.0),
            ("get_str_list", "a, b", ["a", "b"]),
            ("get_str_list", "a,,b, ", ["a", "b"]),
            ("get_str_list", "solo", ["solo"]),
            ("get_str_list", "", []),
            ("get_str", "text", "text"),
            ("get_path", "/x", Path("/x")),
            ("get_choice", "a", "a"),
        ],
    )
    def test_converts(self, getter: str, text: str, expected: object) -> None:
        """Numbers and lists written as text are converted."""
        result = _read(getter, opts({"k": text}, from_text=True), "k")
        assert result == expected
        assert type(result) is type(expected)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1", True),
            ("0", False),
            ("true", True),
            ("false", False),
            ("yes", True),
            ("no", False),
            ("on", True),
            ("off", False),
            ("TRUE", True),
            (" No ", False),
        ],
    )
    def test_bools(self, text: str, expected: bool) -> None:
        """The usual words for true and false are read, in any case."""
        assert opts({"k": text}, from_text=True).get_bool("k") is expected

    @pytest.mark.parametrize(
        ("getter", "text"),
        [
            ("get_int", "abc"),
            ("get_int", "1.5"),
            ("get_int", ""),
            ("get_float", "fast"),
            ("get_float", ""),
            ("get_bool", "maybe"),
            ("get_bool", "2"),
            ("get_bool", ""),
            ("get_choice", "c"),
        ],
    )
    def test_rejects_garbage(self, getter: str, text: str) -> None:
        """Text that does not convert raises ConfigurationError naming the key."""
        with pytest.raises(ConfigurationError, match=r"backends\.prod\.k"):
            _read(getter, opts({"k": text}, from_text=True), "k")

    def test_typed_values_still_accepted(self) -> None:
        """Already-typed values pass through when reading text options."""
        options = opts({"i": 3, "b": False, "l": ["x"]}, from_text=True)
        assert options.get_int("i") == 3
        assert options.get_bool("b") is False
        assert options.get_str_list("l") == ["x"]

    def test_bool_is_not_an_int(self) -> None:
        """``True`` is still not an integer when reading text options."""
        with pytest.raises(ConfigurationError):
            opts({"k": True}, from_text=True).get_int("k")


class TestDone:
    """Leftover options are reported."""

    def test_all_read(self) -> None:
        """When every option was read, ``done()`` returns quietly."""
        options = opts({"region": "x", "profile": "p"})
        options.get_str("region")
        options.get_str("profile")
        options.done()

    def test_unread_key(self) -> None:
        """An option nobody read is named, with the known ones."""
        options = opts({"region": "x", "regoin": "y"})
        options.get_str("region")
        with pytest.raises(ConfigurationError, match="unknown option") as info:
            options.done()
        assert info.value.key == "backends.prod.regoin"
        assert "backends.prod.regoin" in str(info.value)
        assert "known: region" in str(info.value)
        assert SOURCE in str(info.value)

    def test_first_unknown_named(self) -> None:
        """With several unknown options the first in sorted order is named."""
        with pytest.raises(ConfigurationError) as info:
            opts({"zz": 1, "bb": 2}).done()
        assert info.value.key == "backends.prod.bb"
        assert "known: none" in str(info.value)

    def test_read_with_default_counts(self) -> None:
        """Asking for an absent option with a default makes that name known."""
        options = opts({"region": "x", "extra": 1})
        options.get_str("region")
        options.get_int("timeout", 5)
        with pytest.raises(ConfigurationError, match="known: region, timeout"):
            options.done()

    def test_failed_read_counts(self) -> None:
        """A key whose read failed is not reported again as unknown."""
        options = opts({"k": "x"})
        with pytest.raises(ConfigurationError):
            options.get_int("k")
        options.done()


class TestSensitive:
    """Values of credential-like options never show."""

    @pytest.mark.parametrize(
        "key",
        [
            "token",
            "password",
            "passwd",
            "secret_id",
            "client_secret",
            "secrets",
            "private_key",
            "credential",
            "api_key",
            "apikey",
            "API_KEY",
            "client_key",
            "passphrase",
            "vault_token",
        ],
    )
    def test_sensitive_names(self, key: str) -> None:
        """Names that look like credentials are sensitive."""
        assert is_sensitive(key)

    @pytest.mark.parametrize(
        "key", ["region", "url", "role_arn", "mount", "username", "profile", "path"]
    )
    def test_plain_names(self, key: str) -> None:
        """Ordinary option names are not sensitive."""
        assert not is_sensitive(key)

    @pytest.mark.parametrize("from_text", [False, True])
    @pytest.mark.parametrize(
        ("getter", "key", "value"),
        [
            ("get_str", "token", [CANARY]),
            ("get_int", "password", CANARY),
            ("get_float", "client_secret", CANARY),
            ("get_bool", "secret_id", CANARY),
            ("get_str_list", "api_key", {"v": CANARY}),
            ("get_mapping", "passphrase", CANARY),
            ("get_path", "private_key", 1234),
            ("get_choice", "credential", CANARY),
        ],
    )
    def test_errors_hide_values(
        self, getter: str, key: str, value: object, from_text: bool
    ) -> None:
        """An error about a sensitive option says "a value", never the value."""
        with pytest.raises(ConfigurationError) as info:
            _read(getter, opts({key: value}, from_text=from_text), key)
        assert CANARY not in str(info.value)
        assert "1234" not in str(info.value)
        assert f"backends.prod.{key}" in str(info.value)

    def test_plain_errors_show_values(self) -> None:
        """An error about an ordinary option shows the value, to help fix it."""
        with pytest.raises(ConfigurationError, match="got 'fast'"):
            opts({"timeout": "fast"}).get_int("timeout")

    def test_errors_hide_nested_values(self) -> None:
        """A table under a plain key shows, but its sensitive entries do not."""
        with pytest.raises(ConfigurationError) as info:
            opts({"auth": {"method": "token", "token": CANARY}}).get_str("auth")
        assert CANARY not in str(info.value)
        assert "'method': 'token'" in str(info.value)


class TestMasked:
    """``masked()`` and ``repr(Options)``."""

    def test_top_level(self) -> None:
        """Sensitive values become ``****``; others stay."""
        assert masked({"token": CANARY, "region": "us-east-1"}) == {
            "token": "****",
            "region": "us-east-1",
        }

    def test_nested(self) -> None:
        """Sensitive keys inside tables, at any depth, are masked."""
        values = {"auth": {"method": "approle", "extra": {"secret_id": CANARY}}}
        assert masked(values) == {
            "auth": {"method": "approle", "extra": {"secret_id": "****"}}
        }

    def test_any_mapping(self) -> None:
        """Read-only mappings are walked like dicts."""
        values = {"auth": MappingProxyType({"token": CANARY})}
        assert masked(values) == {"auth": {"token": "****"}}

    def test_lists_of_tables(self) -> None:
        """Tables inside lists (TOML arrays of tables) are walked."""
        values = {"clusters": [{"url": "u", "token": CANARY}, "plain"]}
        assert masked(values) == {"clusters": [{"url": "u", "token": "****"}, "plain"]}

    def test_table_under_sensitive_key(self) -> None:
        """A whole table under a sensitive key is hidden (the memory backend's
        ``secrets``)."""
        assert masked({"secrets": {"db/main": CANARY}}) == {"secrets": "****"}
        assert masked({"tokens": [CANARY]}) == {"tokens": "****"}

    def test_empty_values_shown(self) -> None:
        """An absent or empty sensitive value is shown as is: nothing to hide."""
        assert masked({"token": None, "password": ""}) == {
            "token": None,
            "password": "",
        }

    def test_falsy_values_masked(self) -> None:
        """A falsy but real sensitive value (``0``, ``False``) is still masked."""
        assert masked({"token": 0, "password": False}) == {
            "token": "****",
            "password": "****",
        }

    def test_input_untouched(self) -> None:
        """The mapping given is not changed."""
        values = {"token": CANARY, "auth": {"password": CANARY}}
        masked(values)
        assert values == {"token": CANARY, "auth": {"password": CANARY}}

    def test_non_text_keys(self) -> None:
        """Tables with non-text keys are walked without error."""
        assert masked({"m": {1: "x"}}) == {"m": {1: "x"}}

    def test_repr(self) -> None:
        """``repr(Options)`` names instance and source and masks values."""
        options = opts({"region": "us-east-1", "auth": {"token": CANARY}})
        text = repr(options)
        assert CANARY not in text
        assert text == (
            "Options('prod', {'region': 'us-east-1', 'auth': {'token': '****'}}, "
            "source='secretkit.toml')"
        )


def test_names_of_things_are_not_sensitive() -> None:
    """check_secret, token_file and role_arn name things; they are not masked."""
    from secretkit.core.options import is_sensitive

    assert not is_sensitive("check_secret")
    assert not is_sensitive("jwt_file")
    assert not is_sensitive("token_file")
    assert is_sensitive("secret_id")
    assert is_sensitive("client_secret")
    assert is_sensitive("token")
    assert is_sensitive("jwt")
    assert not is_sensitive("jwt_file")
