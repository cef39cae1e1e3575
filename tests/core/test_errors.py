"""The error tree: shape, context attributes and pickling."""

from __future__ import annotations

import copy
import pickle

import pytest

from secretkit.core import errors
from secretkit.core.errors import (
    AccessDenied,
    BackendError,
    BackendNotFound,
    BackendUnavailable,
    ConfigurationError,
    CredentialError,
    DecodeError,
    InvalidReference,
    NotSupported,
    SecretkitError,
    SecretNotFound,
)

ALL_ERRORS = [getattr(errors, name) for name in errors.__all__]


class TestTree:
    """The hierarchy drawn in the module docstring."""

    @pytest.mark.parametrize(
        ("cls", "parents"),
        [
            (ConfigurationError, (SecretkitError, ValueError)),
            (InvalidReference, (SecretkitError, ValueError)),
            (DecodeError, (SecretkitError, ValueError)),
            (BackendNotFound, (SecretkitError, LookupError)),
            (NotSupported, (SecretkitError, TypeError)),
            (BackendError, (SecretkitError,)),
            (SecretNotFound, (BackendError, LookupError)),
            (AccessDenied, (BackendError,)),
            (CredentialError, (BackendError,)),
            (BackendUnavailable, (BackendError,)),
        ],
    )
    def test_parents(self, cls: type[Exception], parents: tuple[type, ...]) -> None:
        """Each error derives from the classes the tree draws above it."""
        for parent in parents:
            assert issubclass(cls, parent), (cls, parent)

    @pytest.mark.parametrize(
        ("cls", "not_parent"),
        [
            (BackendError, LookupError),
            (BackendError, ValueError),
            (AccessDenied, LookupError),
            (CredentialError, LookupError),
            (BackendUnavailable, LookupError),
            (NotSupported, ValueError),
            (ConfigurationError, BackendError),
            (InvalidReference, BackendError),
            (DecodeError, BackendError),
            (BackendNotFound, BackendError),
            (NotSupported, BackendError),
            (DecodeError, LookupError),
        ],
    )
    def test_no_stray_parents(self, cls: type[Exception], not_parent: type) -> None:
        """No error claims a stdlib or secretkit parent the tree does not draw."""
        assert not issubclass(cls, not_parent)

    @pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
    def test_everything_is_a_secretkit_error(self, cls: type[Exception]) -> None:
        """Catching SecretkitError catches every error the module exports."""
        assert issubclass(cls, SecretkitError)

    def test_all_lists_every_error_class(self) -> None:
        """``__all__`` names every exception class defined in the module."""
        defined = {
            name
            for name, value in vars(errors).items()
            if isinstance(value, type)
            and issubclass(value, Exception)
            and value.__module__ == errors.__name__
        }
        assert set(errors.__all__) == defined

    def test_stdlib_handlers_catch_mixins(self) -> None:
        """An ``except LookupError`` written for dicts also catches SecretNotFound."""
        with pytest.raises(LookupError):
            raise SecretNotFound("no such secret 'db/main'", ref="db/main")


class TestContext:
    """Message and keyword-only context."""

    @pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
    def test_str_is_the_message(self, cls: type[SecretkitError]) -> None:
        """``str(err)`` is exactly the message, whatever context is given."""
        err = cls("secret 'db/main' not found; check the name", ref="db/main")
        assert str(err) == "secret 'db/main' not found; check the name"
        assert err.message == "secret 'db/main' not found; check the name"
        assert err.args == ("secret 'db/main' not found; check the name",)

    @pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
    def test_ref_and_backend(self, cls: type[SecretkitError]) -> None:
        """Every error carries ``ref`` and ``backend``, ``None`` when not given."""
        bare = cls("boom")
        assert (bare.ref, bare.backend) == (None, None)
        full = cls("boom", ref="aws://db/main", backend="aws")
        assert (full.ref, full.backend) == ("aws://db/main", "aws")

    @pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
    def test_context_is_keyword_only(self, cls: type[SecretkitError]) -> None:
        """Context cannot be passed by position, so it is never mistaken for text."""
        with pytest.raises(TypeError):
            cls("boom", "db/main")  # type: ignore[call-arg]  # the point of the test

    def test_configuration_error_key_and_source(self) -> None:
        """ConfigurationError keeps the dotted key and where it came from."""
        err = ConfigurationError(
            "bad region", key="backends.prod.region", source="secretkit.toml"
        )
        assert err.key == "backends.prod.region"
        assert err.source == "secretkit.toml"
        assert (ConfigurationError("x").key, ConfigurationError("x").source) == (
            None,
            None,
        )

    def test_invalid_reference_position(self) -> None:
        """InvalidReference keeps the position, ``None`` when not given."""
        assert InvalidReference("bad", position=7).position == 7
        assert InvalidReference("bad").position is None

    def test_backend_not_found_installed(self) -> None:
        """BackendNotFound lists the installed backends, empty by default."""
        err = BackendNotFound("no backend 'vualt'", installed=("aws", "vault"))
        assert err.installed == ("aws", "vault")
        assert BackendNotFound("none").installed == ()


def _examples() -> list[SecretkitError]:
    return [
        SecretkitError("base", ref="db/main", backend="aws"),
        ConfigurationError(
            "bad", key="backends.prod.region", source="env", ref="r", backend="prod"
        ),
        InvalidReference("bad ref at position 3", position=3, ref="db?x"),
        DecodeError("secret 'db' is not JSON", ref="db", backend="file"),
        BackendNotFound("no backend 'x'", installed=("aws", "env"), backend="x"),
        NotSupported("read-only", backend="env"),
        BackendError("odd", ref="db", backend="vault"),
        SecretNotFound("no such secret", ref="db", backend="aws"),
        AccessDenied("denied", ref="db", backend="aws"),
        CredentialError("expired", backend="aws"),
        BackendUnavailable("timed out", ref="db", backend="azure"),
    ]


_ATTRIBUTES = ("message", "ref", "backend", "key", "source", "position", "installed")


def _state(err: BaseException) -> dict[str, object]:
    return {name: getattr(err, name) for name in _ATTRIBUTES if hasattr(err, name)}


class TestPickle:
    """Errors cross process boundaries (multiprocessing, gunicorn) intact."""

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    @pytest.mark.parametrize("err", _examples(), ids=lambda e: type(e).__name__)
    def test_round_trip(self, err: SecretkitError, protocol: int) -> None:
        """Unpickling gives the same class, message, args and context attributes."""
        back = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert type(back) is type(err)
        assert str(back) == str(err)
        assert back.args == err.args
        assert _state(back) == _state(err)

    def test_every_class_is_covered(self) -> None:
        """The round-trip examples include one error of every exported class."""
        assert {type(e) for e in _examples()} == set(ALL_ERRORS)

    def test_notes_survive(self) -> None:
        """Notes added with ``add_note`` survive pickling."""
        err = SecretNotFound("no such secret", ref="db")
        err.add_note("while starting the worker")
        back = pickle.loads(pickle.dumps(err))
        assert back.__notes__ == ["while starting the worker"]

    def test_copy(self) -> None:
        """``copy.copy`` of an error keeps its class and context."""
        err = InvalidReference("bad", position=4, ref="x")
        clone = copy.copy(err)
        assert type(clone) is InvalidReference
        assert _state(clone) == _state(err)
