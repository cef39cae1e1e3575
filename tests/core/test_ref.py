"""``SecretRef``: parsing ``[backend://]name[?version=..|stage=..][#field]``."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from secretkit.core.errors import InvalidReference
from secretkit.core.secret import SecretRef

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlflow/auth-AbCdEf"


def ref(name: str, **parts: str | None) -> SecretRef:
    return SecretRef(name=name, **parts)


class TestParse:
    """Valid references and what they parse to."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("db/main", ref("db/main")),
            ("mlflow", ref("mlflow")),
            ("aws://db/main", ref("db/main", backend="aws")),
            ("aws-ssm:///app/db/password", ref("/app/db/password", backend="aws-ssm")),
            (ARN, ref(ARN)),
            (f"aws://{ARN}", ref(ARN, backend="aws")),
            ("db/main?version=3", ref("db/main", version="3")),
            ("db/main?stage=AWSPENDING", ref("db/main", stage="AWSPENDING")),
            (
                "aws://db/main?version=3&stage=AWSCURRENT",
                ref("db/main", backend="aws", version="3", stage="AWSCURRENT"),
            ),
            (
                "db?stage=AWSCURRENT&version=3",
                ref("db", version="3", stage="AWSCURRENT"),
            ),
            ("mlflow/auth#token", ref("mlflow/auth", field="token")),
            (
                "vault://kv/mlflow/auth#password",
                ref("kv/mlflow/auth", backend="vault", field="password"),
            ),
            ("db#/a~1b/0", ref("db", field="/a~1b/0")),
            ("db?version=3#token", ref("db", version="3", field="token")),
            ("a/b_c+d=e.f@g-h", ref("a/b_c+d=e.f@g-h")),
            ("app/db:3", ref("app/db:3")),
            ("密码/数据库", ref("密码/数据库")),
            ("café", ref("café")),
            ("prod.eu-1+x_y://db", ref("db", backend="prod.eu-1+x_y")),
            ("AWS://db", ref("db", backend="AWS")),
            ("1aws://db", ref("1aws://db")),
            ("x://y://z", ref("y://z", backend="x")),
            ("db#a#b?c&d", ref("db", field="a#b?c&d")),
            ("db?version=a?b", ref("db", version="a?b")),
            (" db ", ref(" db ")),
        ],
    )
    def test_examples(self, text: str, expected: SecretRef) -> None:
        """Each example parses to exactly the parts written."""
        assert SecretRef.parse(text) == expected

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("a%3Fb", "a?b"),
            ("a%23b", "a#b"),
            ("100%25", "100%"),
            ("a%26b%3Dc", "a&b=c"),
            ("caf%C3%A9", "café"),
            ("caf%c3%a9", "café"),
            ("%E5%AF%86", "密"),
            ("%F0%9F%94%91", "\N{KEY}"),
            ("x%3A//y", "x://y"),
            ("a%2Fb", "a/b"),
        ],
    )
    def test_escapes_in_name(self, text: str, name: str) -> None:
        """Percent-escapes in the name decode, multi-byte UTF-8 included."""
        assert SecretRef.parse(text) == ref(name)

    def test_escapes_in_query_and_field(self) -> None:
        """Percent-escapes decode in version, stage and field as well."""
        parsed = SecretRef.parse("db?version=a%26b&stage=c%3Dd%23#f%25%C3%A9")
        assert parsed == ref("db", version="a&b", stage="c=d#", field="f%é")

    def test_escaped_scheme_is_a_name(self) -> None:
        """An escaped ``:`` keeps ``x%3A//y`` a bare name, not backend ``x``."""
        assert SecretRef.parse("x%3A//y").backend is None

    def test_ssm_leading_slash_kept(self) -> None:
        """The third slash of ``aws-ssm:///`` belongs to the name."""
        assert SecretRef.parse("aws-ssm:///app/db/password").name.startswith("/")


def _error(text: object) -> InvalidReference:
    with pytest.raises(InvalidReference) as info:
        SecretRef.parse(text)  # type: ignore[arg-type]  # non-text on purpose
    return info.value


class TestParseErrors:
    """Invalid references raise InvalidReference naming the position."""

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("", 0),
            ("aws://", 6),
            ("aws://?version=1", 6),
            ("aws://#token", 6),
            ("#token", 0),
            ("?version=1", 0),
            ("db?colour=red", 3),
            ("db?Version=3", 3),
            ("db?version=1&colour=red", 13),
            ("db?version=1&version=2", 13),
            ("db?stage=A&stage=B", 11),
            ("db?version=", 3),
            ("db?stage", 3),
            ("db?version=1&stage=", 13),
            ("db?", 3),
            ("db?version=1&", 13),
            ("db?&version=1", 3),
        ],
    )
    def test_structure(self, text: str, position: int) -> None:
        """Empty names, unknown, repeated or empty query keys are rejected."""
        err = _error(text)
        assert err.position == position
        assert f"position {position}" in str(err)

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("db%zz", 2),
            ("db%4", 2),
            ("db%", 2),
            ("a%41%4g", 4),
            ("db?version=%zz", 11),
            ("db?stage=ok&version=1%2", 21),
            ("db#%z", 3),
            ("%FF", 0),
            ("db%FF", 2),
            ("é%FF", 1),
            ("caf%C3%A9%FF", 9),
            ("a%C3", 1),
            ("a%C3%28", 1),
            ("%ED%A0%80", 0),
            ("db?version=%FF", 11),
            ("db?version=é%FF", 12),
            ("db#ab%C3%A9%80", 11),
        ],
    )
    def test_bad_escapes(self, text: str, position: int) -> None:
        """Malformed escapes and escapes that are not UTF-8 point at their ``%``."""
        err = _error(text)
        assert err.position == position
        assert f"position {position}" in str(err)

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("db\n", 2),
            ("a\x00b", 1),
            ("\x7f", 0),
            ("a\x85b", 1),
            ("db?version=1\t", 12),
            ("db#to\rken", 5),
            ("aws://a%0Ab", 7),
            ("%00", 0),
            ("caf%C3%A9%1B", 9),
            ("x%C2%85", 1),
            ("a\ud800", 1),
            ("\udcff%41", 0),
        ],
    )
    def test_control_characters(self, text: str, position: int) -> None:
        """Control characters, raw anywhere or escaped in the name, are rejected."""
        err = _error(text)
        assert err.position == position
        assert f"position {position}" in str(err)

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ("db#", 2),
            ("aws://db?version=1#", 18),
            ("db#/a~2", 5),
            ("db#/a~", 5),
            ("db#/~~0", 4),
            ("db#/é~x", 5),
            ("db#/%7E2", 4),
            ("db#/%C3%A9~2", 10),
        ],
    )
    def test_fields(self, text: str, position: int) -> None:
        """An empty field or a pointer with a bad ``~`` escape is rejected."""
        err = _error(text)
        assert err.position == position
        assert f"position {position}" in str(err)

    @pytest.mark.parametrize("value", [b"db/main", None, 42, ["db"], bytearray(b"x")])
    def test_not_text(self, value: object) -> None:
        """Anything but ``str`` is an InvalidReference, not a TypeError."""
        err = _error(value)
        assert type(value).__name__ in str(err)

    def test_is_a_value_error(self) -> None:
        """Callers that catch ValueError catch a bad reference too."""
        with pytest.raises(ValueError, match="position 3"):
            SecretRef.parse("db?x=1")


class TestConstruction:
    """Building a SecretRef directly checks it the same way."""

    @pytest.mark.parametrize(
        "parts",
        [
            {"name": ""},
            {"name": "a\nb"},
            {"name": "a\x85b"},
            {"name": "a\ud800"},
            {"name": "db", "backend": ""},
            {"name": "db", "backend": "1aws"},
            {"name": "db", "backend": "a b"},
            {"name": "db", "backend": "aws://"},
            {"name": "db", "backend": "aws/ssm"},
            {"name": "db", "version": ""},
            {"name": "db", "stage": ""},
            {"name": "db", "field": ""},
            {"name": "db", "field": "/a~2"},
            {"name": "db", "field": "/a~"},
            {"name": "db", "version": "\udc80"},
            {"name": "db", "field": "\ud800"},
        ],
    )
    def test_invalid(self, parts: dict[str, str]) -> None:
        """Empty parts, bad backend names and bad pointers are rejected."""
        with pytest.raises(InvalidReference):
            SecretRef(**parts)

    def test_key_excludes_field(self) -> None:
        """``.key`` names the stored value: backend, name, version, stage."""
        full = ref("db", backend="aws", version="3", stage="AWSCURRENT", field="token")
        assert full.key == ("aws", "db", "3", "AWSCURRENT")
        assert full.key == dataclasses.replace(full, field="password").key
        assert full.key != dataclasses.replace(full, version="4").key

    def test_keyword_only(self) -> None:
        """Parts are passed by name, so name and backend cannot be swapped."""
        with pytest.raises(TypeError):
            SecretRef("db")  # type: ignore[call-arg]  # the point of the test

    def test_frozen_and_hashable(self) -> None:
        """References are immutable values usable as dictionary keys."""
        parsed = SecretRef.parse("aws://db#token")
        with pytest.raises(dataclasses.FrozenInstanceError):
            parsed.name = "other"  # type: ignore[misc]  # the point of the test
        assert {parsed: 1}[SecretRef.parse("aws://db#token")] == 1

    def test_control_characters_allowed_outside_the_name(self) -> None:
        """Version, stage and field may hold control characters; str escapes them."""
        built = ref("db", version="a\nb", field="x\ty")
        assert "\n" not in str(built)
        assert "\t" not in str(built)
        assert SecretRef.parse(str(built)) == built


class TestStr:
    """``str(ref)`` writes text that parses back."""

    @pytest.mark.parametrize(
        "text",
        [
            "db/main",
            "aws://db/main",
            "aws-ssm:///app/db/password",
            ARN,
            f"aws://{ARN}",
            "db?version=3",
            "db?stage=AWSPENDING",
            "aws://db?version=3&stage=AWSCURRENT#token",
            "db#/a~1b/0",
            "a/b_c+d=e.f@g-h",
            "café",
        ],
    )
    def test_canonical_text_unchanged(self, text: str) -> None:
        """Text without escapes comes back from ``str`` exactly as written."""
        assert str(SecretRef.parse(text)) == text

    @pytest.mark.parametrize(
        ("built", "text"),
        [
            (ref("a?b#c%d"), "a%3Fb%23c%25d"),
            (ref("x://y"), "x%3A//y"),
            (ref("x://y", backend="b"), "b://x://y"),
            (ref("db", version="a&b=c#d%"), "db?version=a%26b%3Dc%23d%25"),
            (ref("db", field="a#b%"), "db#a#b%25"),
            (ref("a&b=c"), "a&b=c"),
        ],
    )
    def test_escapes_what_must_be(self, built: SecretRef, text: str) -> None:
        """Only the characters that would change the meaning are escaped."""
        assert str(built) == text
        assert SecretRef.parse(text) == built

    def test_query_order(self) -> None:
        """Version comes before stage whatever order the text used."""
        assert str(SecretRef.parse("db?stage=S&version=1")) == "db?version=1&stage=S"


# Property-based tests ---------------------------------------------------------

_SPECIAL = "?#&=%:/~@+.-_ "
_name_chars = st.characters(exclude_categories=("Cc", "Cs"))
_any_chars = st.characters(exclude_categories=["Cs"])

names = st.one_of(
    st.text(_name_chars, min_size=1),
    st.text(st.sampled_from(_SPECIAL + "ab:é"), min_size=1),
    st.builds(
        lambda scheme, rest: f"{scheme}://{rest}",
        st.from_regex(r"[A-Za-z][A-Za-z0-9+._-]{0,5}", fullmatch=True),
        st.text(_name_chars),
    ),
    st.just(ARN),
)
backends = st.none() | st.from_regex(r"[A-Za-z][A-Za-z0-9+._-]{0,10}", fullmatch=True)
parts = st.none() | st.text(
    st.one_of(_any_chars, st.sampled_from(_SPECIAL)), min_size=1
)
pointers = st.lists(st.text(st.one_of(_any_chars, st.sampled_from("~/")))).map(
    lambda steps: "".join(
        "/" + step.replace("~", "~0").replace("/", "~1") for step in steps
    )
)
fields = st.none() | parts.filter(
    lambda f: f is None or not re.search(r"^/.*~(?![01])", f, re.DOTALL)
)
fields = fields | pointers.filter(bool)

refs = st.builds(
    SecretRef, name=names, backend=backends, version=parts, stage=parts, field=fields
)

# Text that reaches the parser's corners more often than uniform text would.
_FRAGMENTS = [
    "aws", "a", "://", "%", "%2", "%25", "%C3", "%A9", "%FF", "%0A", "%7E", "?",
    "#", "&", "=", "version", "stage", "/", "~", "~1", "~2", "é", "\n", "\x85",
    "\ud800", ":", "1",
]  # fmt: skip
texts = st.text(st.characters()) | st.lists(st.sampled_from(_FRAGMENTS)).map("".join)


class TestProperties:
    """Properties over generated references and arbitrary text."""

    @settings(max_examples=500)
    @given(refs)
    @example(ref("x://y"))
    @example(ref("?#&=%:", version="&=#%", stage="?", field="#%"))
    @example(ref("a", field="/~0~1/"))
    def test_round_trip(self, built: SecretRef) -> None:
        """Any valid reference parses back from its text to an equal one."""
        assert SecretRef.parse(str(built)) == built

    @settings(max_examples=500)
    @given(texts)
    @example("\ud800%41")
    @example("é%FF")
    def test_no_crash(self, text: str) -> None:
        """Any text either parses or raises InvalidReference with a sane position."""
        error: InvalidReference | None = None
        try:
            parsed = SecretRef.parse(text)
        except InvalidReference as exc:
            error = exc
        if error is None:
            assert isinstance(parsed, SecretRef)
        elif error.position is not None:
            assert 0 <= error.position <= len(text)
            assert f"position {error.position}" in str(error)

    @settings(max_examples=500)
    @given(texts)
    @example("a%41?version=%33#%2Fx")
    def test_idempotent(self, text: str) -> None:
        """Whatever parses once parses the same from its own ``str``."""
        try:
            parsed = SecretRef.parse(text)
        except InvalidReference:
            return
        assert SecretRef.parse(str(parsed)) == parsed
        assert str(SecretRef.parse(str(parsed))) == str(parsed)
