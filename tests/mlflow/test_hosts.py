"""The host allowlist: globs, case, ports, and what is not a host."""

from __future__ import annotations

import pytest

from secretkit.mlflow._hosts import HostAllowlist, describe, same_origin


@pytest.mark.parametrize(
    ("patterns", "url", "allowed"),
    [
        (["*.corp.com"], "https://mlflow.corp.com/api", True),
        (["*.corp.com"], "https://corp.com/api", False),
        (["*.corp.com"], "https://mlflow.corp.com.evil.net/api", False),
        (["MLflow.Corp.COM"], "https://mlflow.corp.com/", True),
        (["mlflow.corp.com"], "https://MLFLOW.CORP.COM:8443/", True),
        (["mlflow.corp.com:8443"], "https://mlflow.corp.com:8443/x", True),
        (["mlflow.corp.com:8443"], "https://mlflow.corp.com/x", False),
        (["mlflow.corp.com:443"], "https://mlflow.corp.com/x", True),
        (["mlflow.corp.com:80"], "http://mlflow.corp.com/x", True),
        (["127.0.0.1"], "http://127.0.0.1:5000/api", True),
        (["127.0.0.1:5001"], "http://127.0.0.1:5000/api", False),
        (["*:5000"], "http://anything.example:5000/", True),
        (["[::1]:5000"], "http://[::1]:5000/", True),
        (["::1"], "http://[::1]:7000/", True),
        (["mlflow.corp.com"], "https://user:pw@mlflow.corp.com/", True),
        (["evil.com"], "https://evil.com@mlflow.corp.com/", False),
        (["mlflow.corp.com"], "https://mlflow.corp.com./", True),
        (["a.com", "b.com"], "https://b.com/", True),
        (["a.com"], "not a url", False),
    ],
)
def test_matching(patterns: list[str], url: str, allowed: bool) -> None:
    """Globs match the host, ignoring case; a port in a pattern must match too."""
    assert HostAllowlist(patterns).allows(url) is allowed


@pytest.mark.parametrize(
    "pattern", ["", "https://mlflow.corp.com", "host/path", "host:http", ":80"]
)
def test_bad_patterns(pattern: str) -> None:
    """URLs, paths, empty patterns and bad ports are refused when configured."""
    with pytest.raises(ValueError):
        HostAllowlist([pattern])


def test_decisions_are_remembered_but_bounded() -> None:
    """Decisions are kept per scheme and host, and their number stays bounded."""
    hosts = HostAllowlist(["*.corp.com"])
    for i in range(3000):
        hosts.allows(f"https://h{i}.corp.com/api/x?i={i}")
    assert len(hosts._decided) <= 1024
    assert hosts.allows("https://h1.corp.com/other") is True


def test_refusals_are_logged_once_per_host(caplog: pytest.LogCaptureFixture) -> None:
    """A refused host is named in one warning, however many requests go there."""
    hosts = HostAllowlist(["a.com"])
    with caplog.at_level("WARNING", logger="secretkit.mlflow"):
        for _ in range(3):
            hosts.refuse("https://user:pw@b.com:444/x")
    assert len(caplog.records) == 1
    assert "b.com:444" in caplog.text
    assert "pw" not in caplog.text
    assert describe("https://[::1]/") == "[::1]:443"


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        ("https://m.corp.com/a", "https://M.CORP.COM:443/b?x=1", True),
        ("http://127.0.0.1:5000/a", "http://127.0.0.1:5000/b", True),
        ("http://m.corp.com/a", "https://m.corp.com/a", True),  # upgrade, as requests
        ("http://m.corp.com:8080/", "https://m.corp.com:8080/", False),
        ("https://m.corp.com/", "http://m.corp.com/", False),  # downgrade
        ("https://m.corp.com:8443/", "http://m.corp.com:8443/", False),
        ("http://127.0.0.1:5000/", "http://localhost:5000/", False),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5001/", False),
        ("https://m.corp.com/", "https://m.corp.com.evil.net/", False),
        ("https://m.corp.com/", "https://m.corp.com@evil.net/", False),
        ("https://m.corp.com/", "not a url", False),
    ],
)
def test_same_origin(old: str, new: str, kept: bool) -> None:
    """A redirect keeps credentials only on the same scheme, host and port."""
    assert same_origin(old, new) is kept
