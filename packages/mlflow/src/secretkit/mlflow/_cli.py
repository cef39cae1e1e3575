"""``secretkit mlflow info`` and ``secretkit mlflow doctor``: never a value printed.

``info`` shows the effective configuration and where each setting came from.
``doctor`` resolves the reference, fetches the secret, builds the header (shown
masked), checks the tracking host against the allowlist and, with ``--dry-run
URL``, sends one request to the server and reports its status. It exits 0 when
every check passed, 2 when the configuration is invalid, else 1. Both take
``--config FILE`` (a secretkit TOML file), as ``secretkit --config FILE`` does.
"""

from __future__ import annotations

__all__ = ("configure", "doctor", "info")

import os
from typing import TYPE_CHECKING, Final

from secretkit.core.errors import SecretkitError

if TYPE_CHECKING:
    import argparse

    from .auth import SecretAuth
    from .config import MlflowSettings

_PROBE: Final = "/api/2.0/mlflow/experiments/search?max_results=1"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``info`` and ``doctor`` to the ``secretkit mlflow`` parser."""
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    shown = commands.add_parser(
        "info",
        help="the effective configuration, masked, and where it came from",
        description="Show the MLflow plugin's effective configuration: the secret "
        "reference, auth mode, header, TTL, allowlist and the secretkit client's "
        "backends, each with the variable it came from. Never a value.",
    )
    shown.add_argument("--json", action="store_true", help="print a JSON object")
    _config_option(shown)
    shown.set_defaults(command=info)
    check = commands.add_parser(
        "doctor",
        help="resolve, fetch, build the header, check the host; --dry-run sends one "
        "request",
        description="Check the MLflow plugin end to end: resolve the reference, "
        "fetch the secret, build the header (shown masked), check the tracking host "
        "(--dry-run URL, else MLFLOW_TRACKING_URI) against the allowlist, and with "
        "--dry-run send GET <URL>" + _PROBE + ". Exits 0 when every check passed, "
        "2 when the configuration is invalid, else 1.",
    )
    check.add_argument(
        "--dry-run",
        metavar="URL",
        help="the tracking server to send one authenticated request to",
    )
    check.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="how long the request may take (default: 10)",
    )
    _config_option(check)
    check.set_defaults(command=doctor)


def _config_option(parser: argparse.ArgumentParser) -> None:
    import argparse

    # The same option as `secretkit --config`, also accepted after the command;
    # when absent here, the global one (or none) stands.
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="a secretkit TOML file for the backends and cache; SECRETKIT_* "
        "variables are then ignored (SECRETKIT_MLFLOW_* and the "
        "mlflow-secrets-auth variables still count)",
    )


def info(args: argparse.Namespace) -> int:
    """Print the effective configuration; exit 0.

    :raises ConfigurationError: the configuration is invalid (exit 2)
    """
    import json

    from .config import client_settings, read_settings

    settings = read_settings()
    core = client_settings(settings, config_path=args.config)
    rows = _rows(settings, core.cache.ttl)
    client = core.describe()
    if args.json:
        shown = {key: {"value": value, "source": source} for key, value, source in rows}
        print(json.dumps({"mlflow": shown, "client": client}, indent=2, default=str))
        return 0
    width = max(len(key) for key, _, _ in rows)
    print("MLflow auth (MLFLOW_TRACKING_AUTH=secretkit):")
    for key, value, source in rows:
        print(f"  {key.ljust(width)}  {value}  [{source}]")
    print("secretkit client:")
    print("  " + json.dumps(client, indent=2, default=str).replace("\n", "\n  "))
    return 0


def _rows(settings: MlflowSettings, cache_ttl: float) -> list[tuple[str, str, str]]:
    src = settings.sources
    hosts = ", ".join(settings.allowed_hosts) or "any host (no allowlist)"
    ttl = settings.ttl if settings.ttl is not None else cache_ttl
    return [
        ("provider", settings.provider, src.get("ref", "default")),
        ("reference", settings.ref, src.get("ref", "default")),
        ("auth mode", settings.mode, src.get("mode", "default")),
        ("header", f"{settings.header}: {_mask(settings)}", src.get("header", "")),
        ("ttl", f"{ttl:g} s", src.get("ttl", "default")),
        ("token field", settings.token_field, src.get("token_field", "")),
        ("username field", settings.username_field, src.get("username_field", "")),
        ("password field", settings.password_field, src.get("password_field", "")),
        ("allowed hosts", hosts, src.get("allowed_hosts", "default")),
        ("log level", settings.log_level or "unchanged", src.get("log_level", "")),
    ]


def _mask(settings: MlflowSettings) -> str:
    return {"bearer": "Bearer ****", "basic": "Basic ****"}.get(settings.mode, "****")


def doctor(args: argparse.Namespace) -> int:
    """Check the configuration end to end; print one line per check.

    :return: 0 when every check passed, 2 for an invalid configuration, else 1
    """
    from .auth import build_auth

    try:
        auth = build_auth(config_path=args.config)
    except SecretkitError as exc:
        _line(False, f"configuration: {exc.message}")
        return 2
    with auth.client:
        return _checks(auth, args)


def _checks(auth: SecretAuth, args: argparse.Namespace) -> int:
    from ._hosts import describe

    settings = auth.settings
    _line(
        True,
        f"configuration: {settings.ref} from {settings.sources.get('ref')}, "
        f"{settings.mode} auth in {settings.header}",
    )
    try:
        secret = auth.client.get(settings.ref)
        _line(True, f"fetched {settings.ref} (version {secret.version or 'n/a'})")
        auth.header()
    except SecretkitError as exc:
        _line(False, f"{type(exc).__name__}: {exc.message}")
        return 1
    _line(True, f"header built: {settings.header}: {_mask(settings)}")
    url = args.dry_run or os.environ.get("MLFLOW_TRACKING_URI", "")
    if not url.startswith(("http://", "https://")):
        if args.dry_run:
            _line(False, "--dry-run needs an http:// or https:// URL")
            return 1
        return 0
    host = describe(url)
    if not auth.allows(url):
        _line(False, f"host {host} is not in the allowlist: no credentials go there")
        return 1
    how = "in the allowlist" if settings.allowed_hosts else "allowed (no allowlist)"
    _line(True, f"host {host} is {how}")
    if not args.dry_run:
        return 0
    return _dry_run(auth, url, host, args.timeout)


def _dry_run(auth: SecretAuth, url: str, host: str, timeout: float) -> int:
    import requests

    target = url.rstrip("/") + _PROBE
    shown = f"GET {host}{_PROBE}"  # never the URL's user info
    try:
        with requests.Session() as session:
            response = session.get(target, auth=auth, timeout=timeout)
    except requests.RequestException as exc:
        _line(False, f"{shown}: {type(exc).__name__}, no answer")
        return 1
    except SecretkitError as exc:
        _line(False, f"{shown}: {type(exc).__name__}: {exc.message}")
        return 1
    renewed = any(r.status_code in (401, 403) for r in response.history)
    note = " (after one refusal: the secret was fetched again)" if renewed else ""
    ok = 200 <= response.status_code < 300
    _line(ok, f"{shown} answered {response.status_code} {response.reason}{note}")
    return 0 if ok else 1


def _line(ok: bool, text: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'}  {text}")
