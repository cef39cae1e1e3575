"""``Secret``: a value that shows only when asked, with its metadata."""

from __future__ import annotations

import copy
import hmac
import logging
import pickle
import traceback
from datetime import UTC, datetime

import pytest

from secretkit.core.errors import DecodeError, NotSupported
from secretkit.core.secret import Secret

CANARY = "canary-7d1f0c9e-never-print-me"


def secret(value: str | bytes = CANARY, **meta: object) -> Secret:
    return Secret("db/main", value, **meta)  # type: ignore[arg-type]  # test helper


class TestMasking:
    """Every way of turning a Secret into text hides the value."""

    def test_str(self) -> None:
        """``str()`` is the mask."""
        assert str(secret()) == "****"

    def test_repr(self) -> None:
        """``repr()`` shows the name and the mask."""
        assert repr(secret()) == "Secret('db/main', ****)"
        assert repr(secret(CANARY.encode())) == "Secret('db/main', ****)"

    @pytest.mark.parametrize(
        "spec", ["", "s", "r", ">40", "^40", "*<40", "x", "d", ".3"]
    )
    def test_format_any_spec(self, spec: str) -> None:
        """``format()`` gives the mask whatever the spec, even one str rejects."""
        assert format(secret(), spec) == "****"

    def test_f_strings_and_str_format(self) -> None:
        """f-strings and ``str.format`` in all conversions show no value."""
        s = secret()
        shown = [
            f"{s}",
            f"{s!s}",
            f"{s!r}",
            f"{s!a}",
            f"{s:>30}",
            "{}".format(s),  # noqa: UP032  # the method is the subject
            "{!r}".format(s),  # noqa: UP032
        ]
        assert all(CANARY not in text and "****" in text for text in shown)

    def test_percent_formatting(self) -> None:
        """Old-style ``%s`` and ``%r`` formatting show no value."""
        s = secret()
        assert "%s" % s == "****"  # noqa: UP031  # the operator is the subject
        assert "%r" % (s,) == "Secret('db/main', ****)"  # noqa: UP031

    def test_containers(self) -> None:
        """Lists, tuples and dicts of secrets print masks."""
        s = secret()
        shown = [repr([s, s]), str((s,)), repr({"k": s}), str({"k": [s]})]
        assert all(CANARY not in text and "****" in text for text in shown)

    def test_bytes_value(self) -> None:
        """A binary secret is masked the same way."""
        s = secret(CANARY.encode())
        shown = [str(s), repr(s), f"{s}", "%s" % s]  # noqa: UP031
        assert all(CANARY not in text for text in shown)

    def test_field_repr_names_the_field(self) -> None:
        """A field secret's repr shows ``name#field`` and the mask."""
        field = secret('{"token": "%s"}' % CANARY).field("token")  # noqa: UP031
        assert repr(field) == "Secret('db/main#token', ****)"

    def test_logging(self, caplog: pytest.LogCaptureFixture) -> None:
        """Logging a secret at DEBUG, as argument or ``extra``, records no value."""
        logger = logging.getLogger("secretkit.tests.secret")
        caplog.set_level(logging.DEBUG, logger=logger.name)
        s = secret()
        logger.debug("got %s / %r / %s", s, s, {"s": s}, extra={"secret": s})
        (record,) = caplog.records
        assert record.getMessage() == (
            "got **** / Secret('db/main', ****) / {'s': Secret('db/main', ****)}"
        )
        formatted = logging.Formatter("%(message)s %(secret)s").format(record)
        assert formatted.endswith(" ****")
        assert CANARY not in caplog.text
        assert CANARY not in formatted

    def test_logging_a_decode_failure(self, caplog: pytest.LogCaptureFixture) -> None:
        """``logger.exception`` for a failed ``json()`` records no value."""
        logger = logging.getLogger("secretkit.tests.secret")
        caplog.set_level(logging.DEBUG, logger=logger.name)
        try:
            secret(CANARY + "{").json()
        except DecodeError:
            logger.exception("could not read %s", "db/main")
        assert "DecodeError" in caplog.text
        assert CANARY not in caplog.text


class TestObjectProtocol:
    """Pickling, copying, mutation and hashing."""

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    def test_pickle_refuses(self, protocol: int) -> None:
        """Pickling raises NotSupported under every protocol, naming no value."""
        with pytest.raises(NotSupported) as info:
            pickle.dumps(secret(), protocol=protocol)
        assert "db/main" in str(info.value)
        assert CANARY not in str(info.value)

    def test_pickle_refuses_inside_containers(self) -> None:
        """A secret nested in a container also refuses to pickle."""
        with pytest.raises(NotSupported):
            pickle.dumps({"creds": [secret(b"\x00\x01")]})

    def test_copy_is_identity(self) -> None:
        """``copy.copy`` and ``copy.deepcopy`` return the very same object."""
        s = secret()
        assert copy.copy(s) is s
        assert copy.deepcopy(s) is s
        assert copy.deepcopy([s])[0] is s

    @pytest.mark.parametrize(
        "attr", ["name", "_value", "version", "stages", "metadata", "field_path", "x"]
    )
    def test_cannot_set(self, attr: str) -> None:
        """Setting any attribute, known or new, raises AttributeError."""
        s = secret()
        with pytest.raises(AttributeError):
            setattr(s, attr, "changed")
        assert s.reveal() == CANARY
        assert s.name == "db/main"

    @pytest.mark.parametrize("attr", ["name", "_value", "backend", "x"])
    def test_cannot_delete(self, attr: str) -> None:
        """Deleting any attribute raises AttributeError."""
        s = secret()
        with pytest.raises(AttributeError):
            delattr(s, attr)
        assert s.reveal() == CANARY

    def test_unhashable(self) -> None:
        """``hash()`` raises TypeError, so a value cannot be fingerprinted."""
        with pytest.raises(TypeError):
            hash(secret())
        with pytest.raises(TypeError):
            {secret()}  # building the set is the subject

    def test_no_instance_dict(self) -> None:
        """There is no ``__dict__`` for ``vars()`` to dump."""
        with pytest.raises(TypeError):
            vars(secret())


class TestReveal:
    """Getting the value out on purpose."""

    def test_str(self) -> None:
        """``reveal()`` returns the exact text given."""
        assert secret(" spaced\nvalue ").reveal() == " spaced\nvalue "

    def test_bytes_stay_bytes(self) -> None:
        """A binary value comes back as the same bytes, even when not UTF-8."""
        value = b"\xff\xfe\x00binary"
        revealed = secret(value).reveal()
        assert isinstance(revealed, bytes)
        assert revealed == value

    def test_empty(self) -> None:
        """An empty value is a value."""
        assert secret("").reveal() == ""

    def test_json(self) -> None:
        """``json()`` parses text and UTF-8 bytes."""
        assert secret('{"a": [1, "é"]}').json() == {"a": [1, "é"]}
        assert secret('{"a": "é"}'.encode()).json() == {"a": "é"}

    def test_json_fresh_each_call(self) -> None:
        """Mutating one ``json()`` result does not change the next."""
        s = secret('{"a": 1}')
        first = s.json()
        assert isinstance(first, dict)
        first["a"] = 2
        assert s.json() == {"a": 1}


DOC = {
    "token": "tok-123",
    "a": ["zero", {"b": True}],
    "a/b": "slash",
    "m~n": "tilde",
    "~1": "literal tilde-one",
    "": "empty key",
    "n": 3,
    "f": 0.5,
    "t": True,
    "z": None,
    "o": {"x": [1, 2], "y": "é"},
}


class TestField:
    """Fields by top-level key and by JSON pointer."""

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("token", "tok-123"),
            ("a/b", "slash"),
            ("m~n", "tilde"),
            ("/token", "tok-123"),
            ("/a/0", "zero"),
            ("/a/1/b", "true"),
            ("/a~1b", "slash"),
            ("/m~0n", "tilde"),
            ("/~01", "literal tilde-one"),
            ("/", "empty key"),
            ("n", "3"),
            ("f", "0.5"),
            ("t", "true"),
            ("z", "null"),
            ("a", '["zero",{"b":true}]'),
            ("/o/x", "[1,2]"),
        ],
    )
    def test_values(self, path: str, value: str) -> None:
        """Strings come back as is; other JSON comes back as compact JSON text."""
        import json

        field = secret(json.dumps(DOC)).field(path)
        assert field.reveal() == value

    def test_from_bytes(self) -> None:
        """A field of a binary JSON value is text."""
        assert secret(b'{"k": "v"}').field("k").reveal() == "v"

    def test_keeps_metadata(self) -> None:
        """A field keeps its parent's name and metadata and records its path."""
        created = datetime(2024, 1, 2, tzinfo=UTC)
        parent = secret(
            '{"token": "t"}',
            version="v1",
            stages=("AWSCURRENT",),
            created=created,
            backend="aws",
            metadata={"tags": {"team": "ml"}},
        )
        field = parent.field("token")
        assert isinstance(field, Secret)
        assert (field.name, field.version, field.stages, field.created) == (
            "db/main",
            "v1",
            ("AWSCURRENT",),
            created,
        )
        assert field.backend == "aws"
        assert dict(field.metadata) == {"tags": {"team": "ml"}}
        assert field.field_path == "token"
        assert parent.field_path is None

    def test_field_is_masked(self) -> None:
        """The field's value is as hidden as the parent's."""
        field = secret('{"token": "%s"}' % CANARY).field("token")  # noqa: UP031
        assert CANARY not in f"{field} {field!r} {[field]}"
        assert field.reveal() == CANARY


class TestDecodeErrors:
    """Failures name the secret, never the value, and chain nothing."""

    @pytest.mark.parametrize(
        ("value", "path"),
        [
            (CANARY + " {", None),
            ('{"k": "%s"' % CANARY, None),  # noqa: UP031
            (b"\xff" + CANARY.encode(), None),
            (CANARY.encode() + b"\xc3(", None),
            ('{"k": "%s"}' % CANARY, "missing"),  # noqa: UP031
            ('{"k": "%s"}' % CANARY, "/k/0"),  # noqa: UP031
            ('{"k": ["%s"]}' % CANARY, "/k/1"),  # noqa: UP031
            ('{"k": ["%s"]}' % CANARY, "/k/-"),  # noqa: UP031
            ('{"k": ["%s"]}' % CANARY, "/k/00"),  # noqa: UP031
            ('{"k": ["%s"]}' % CANARY, "/k/²"),  # noqa: UP031
            ('["%s"]' % CANARY, "/x"),  # noqa: UP031
            (CANARY, "token"),
            (b"\xff" + CANARY.encode(), "token"),
            ('"%s"' % CANARY, "token"),  # noqa: UP031
        ],
    )
    def test_no_leak(self, value: str | bytes, path: str | None) -> None:
        """Not JSON, not UTF-8 or a missing field: DecodeError without the value."""
        s = secret(value)
        with pytest.raises(DecodeError) as info:
            s.json() if path is None else s.field(path)
        err = info.value
        assert err.__cause__ is None
        assert err.__context__ is None
        rendered = [str(err), repr(err), "".join(traceback.format_exception(err))]
        assert all(CANARY not in text for text in rendered)
        assert "db/main" in str(err)
        assert err.ref is not None
        assert err.ref.startswith("db/main")

    def test_message_names_the_problem(self) -> None:
        """Each failure says which of the three it is."""
        with pytest.raises(DecodeError, match="is not JSON"):
            secret("nope").json()
        with pytest.raises(DecodeError, match="is not UTF-8"):
            secret(b"\xff").json()
        with pytest.raises(DecodeError, match="has no field 'gone'"):
            secret("{}").field("gone")

    def test_error_names_the_backend(self) -> None:
        """The error carries the secret's backend."""
        with pytest.raises(DecodeError) as info:
            secret("x", backend="vault").json()
        assert info.value.backend == "vault"

    def test_field_of_a_field(self) -> None:
        """A failure on a field secret names ``name#field``."""
        inner = secret('{"k": "not json"}').field("k")
        with pytest.raises(DecodeError, match="db/main#k"):
            inner.json()


class TestEquality:
    """``==`` compares values, in constant time."""

    def test_same_value(self) -> None:
        """Secrets with the same value are equal, whatever their metadata."""
        assert Secret("a", "v", version="1") == Secret("b", "v", backend="x")
        assert secret(b"\xff\x00") == secret(b"\xff\x00")

    def test_different_value(self) -> None:
        """Secrets with different values are not equal."""
        assert secret("v1") != secret("v2")
        assert not secret("v1") == secret("v2")  # noqa: SIM201  # __eq__ itself
        assert secret("v") != secret("v ")

    def test_str_is_not_bytes(self) -> None:
        """A text secret never equals a binary one, even with the same content."""
        assert secret("same") != secret(b"same")
        assert secret(b"same") != secret("same")

    def test_other_types(self) -> None:
        """Comparing with a non-Secret defers, so ``== str`` is False."""
        s = secret("v")
        assert s.__eq__("v") is NotImplemented
        assert s != "v"
        assert not s == "v"  # noqa: SIM201  # __eq__ itself
        assert "v" != s  # noqa: SIM300  # the reflected comparison
        assert s != b"v"
        assert s != None  # noqa: E711  # the comparison is the subject

    def test_lone_surrogates(self) -> None:
        """Values holding lone surrogates (from JSON ``\\ud800``) still compare."""
        field = secret('{"k": "\\ud800"}').field("k")
        assert field == Secret("x", "\ud800")
        assert field != Secret("x", "\udc00")

    def test_uses_compare_digest(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The comparison goes through ``hmac.compare_digest``."""
        calls: list[tuple[bytes, bytes]] = []
        real = hmac.compare_digest

        def spy(a: bytes, b: bytes) -> bool:
            calls.append((a, b))
            return real(a, b)

        monkeypatch.setattr(hmac, "compare_digest", spy)
        assert secret("v") == secret("v")
        assert calls == [(b"v", b"v")]


class TestMetadata:
    """What can be read without revealing."""

    def test_attributes(self) -> None:
        """Name, version, stages, created, backend and metadata read back."""
        created = datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
        s = Secret(
            "db/main",
            CANARY,
            version="v7",
            stages=("AWSCURRENT", "blue"),
            created=created,
            backend="aws",
            metadata={"content_type": "application/json"},
        )
        assert s.name == "db/main"
        assert s.version == "v7"
        assert s.stages == ("AWSCURRENT", "blue")
        assert s.stage == "AWSCURRENT"
        assert s.created == created
        assert s.backend == "aws"
        assert dict(s.metadata) == {"content_type": "application/json"}
        assert s.field_path is None

    def test_defaults(self) -> None:
        """Without metadata everything is empty or None."""
        s = Secret("n", "v")
        assert (s.version, s.stages, s.stage, s.created, s.backend) == (
            None,
            (),
            None,
            None,
            None,
        )
        assert dict(s.metadata) == {}
        assert s.field_path is None

    def test_stages_become_a_tuple(self) -> None:
        """Stages given as a list are stored as a tuple."""
        s = Secret("n", "v", stages=["a", "b"])  # type: ignore[arg-type]  # lenient
        assert s.stages == ("a", "b")

    def test_metadata_read_only(self) -> None:
        """The metadata mapping cannot be changed through the secret."""
        s = secret(metadata={"k": "v"})
        with pytest.raises(TypeError):
            s.metadata["k"] = "changed"  # type: ignore[index]  # the point
        assert s.metadata["k"] == "v"

    def test_metadata_is_a_copy(self) -> None:
        """Changing the dict given afterwards does not change the secret."""
        given = {"k": "v"}
        s = secret(metadata=given)
        given["k"] = "changed"
        assert s.metadata["k"] == "v"


class TestConstruction:
    """What a value may be."""

    @pytest.mark.parametrize(
        "value",
        [
            None,
            42,
            1.5,
            bytearray(CANARY.encode()),
            memoryview(CANARY.encode()),
            [CANARY],
        ],
    )
    def test_rejects_other_types(self, value: object) -> None:
        """Only str and bytes are values; anything else is NotSupported."""
        with pytest.raises(NotSupported) as info:
            Secret("db/main", value)  # type: ignore[arg-type]  # the point
        assert type(value).__name__ in str(info.value)
        assert CANARY not in str(info.value)
        assert info.value.ref == "db/main"
