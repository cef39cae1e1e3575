"""Fake ``az``, ``azd`` and ``pwsh`` executables that answer as the real tools do.

azure-identity runs the developer tools as subprocesses (read from its
``_credentials/azure_cli.py``, ``azd_cli.py`` and ``azure_powershell.py``):

- ``az account get-access-token --output json --resource R [--tenant T]``, which
  prints ``accessToken``, ``expiresOn`` (local time), ``expires_on`` (epoch),
  ``subscription``, ``tenant`` and ``tokenType`` as JSON;
- ``azd auth token --output json --no-prompt --scope S [--tenant-id T]
  [--claims B64]``, which prints ``token`` and ``expiresOn`` (UTC) as JSON;
- ``/bin/sh -c "pwsh -NoProfile -NonInteractive -EncodedCommand B64"``, a UTF-16
  PowerShell script naming the resource and tenant, whose ``Get-AzAccessToken``
  result it prints as a line ``azsdk%<token>%<expires epoch>``.

:func:`install` writes one as a Python script (its shebang: this interpreter)
into a directory the test puts first on ``PATH``. The fake checks its arguments
against the resource, scope and tenant the test expects, and exits 2 naming the
difference; it records each call's arguments (:func:`calls`). Given ``fail``, it
prints that to stderr and exits 1, as a signed-out tool does.
"""

from __future__ import annotations

__all__ = ("TOOLS", "calls", "install")

import base64
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"cli": "az", "developer_cli": "azd", "powershell": "pwsh"}
RESOURCE = "https://vault.azure.net"


def install(
    where: Path,
    method: str,
    *,
    token: str,
    tenant: str | None,
    fail: str | None = None,
) -> Path:
    """Write the fake tool of ``method`` (``cli``...) into ``where``; its path.

    :param token: the access token it prints
    :param tenant: the tenant it must be asked for (``None``: none)
    :param fail: print this to stderr and exit 1 instead
    """
    tool = TOOLS[method]
    spec = {
        "tool": tool,
        "token": token,
        "tenant": tenant,
        "fail": fail,
        "log": str(where / f"{tool}.calls"),
    }
    (where / f"{tool}.json").write_text(json.dumps(spec))
    path = where / tool
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.azure.fake_tools import main\n"
        f"main({str(where / f'{tool}.json')!r}, sys.argv[1:])\n"
    )
    path.chmod(0o755)
    return path


def calls(where: Path, method: str) -> list[list[str]]:
    """The arguments of each call the fake tool of ``method`` received."""
    log = where / f"{TOOLS[method]}.calls"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def main(spec_path: str, args: list[str]) -> None:
    """Run as the fake tool: check ``args``, print the real tool's answer."""
    spec = json.loads(Path(spec_path).read_text())
    with open(spec["log"], "a") as log:
        log.write(json.dumps(args) + "\n")
    if spec["fail"]:
        sys.stderr.write(spec["fail"] + "\n")
        sys.exit(1)
    asked = {"az": _az, "azd": _azd, "pwsh": _pwsh}[spec["tool"]](args)
    expected = {"resource": RESOURCE, "tenant": spec["tenant"]}
    if asked != expected:
        sys.stderr.write(f"fake {spec['tool']}: expected {expected}, got {asked}\n")
        sys.exit(2)
    print(_answer(spec["tool"], spec["token"], spec["tenant"]))


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _az(args: list[str]) -> dict[str, Any]:
    if args[:4] != ["account", "get-access-token", "--output", "json"]:
        return {"command": args}
    return {
        "resource": _option(args, "--resource"),
        "tenant": _option(args, "--tenant"),
    }


def _azd(args: list[str]) -> dict[str, Any]:
    if args[:5] != ["auth", "token", "--output", "json", "--no-prompt"]:
        return {"command": args}
    scope = _option(args, "--scope") or ""
    return {
        "resource": scope.removesuffix("/.default"),
        "tenant": _option(args, "--tenant-id"),
    }


def _pwsh(args: list[str]) -> dict[str, Any]:
    if args[:3] != ["-NoProfile", "-NonInteractive", "-EncodedCommand"]:
        return {"command": args}
    script = base64.b64decode(args[3]).decode("utf-16-le")
    resource = re.search(r"'ResourceUrl' = '([^']*)'", script)
    tenant = re.search(r"\$tenantId = '([^']*)'", script)
    return {
        "resource": resource.group(1) if resource else None,
        "tenant": (tenant.group(1) or None) if tenant else None,
    }


def _answer(tool: str, token: str, tenant: str | None) -> str:
    expires = int(time.time()) + 3600
    if tool == "az":
        return json.dumps(
            {
                "accessToken": token,
                "expiresOn": datetime.fromtimestamp(expires).strftime(
                    "%Y-%m-%d %H:%M:%S.%f"
                ),
                "expires_on": expires,
                "subscription": "00000000-0000-0000-0000-0000000000b1",
                "tenant": tenant or "00000000-0000-0000-0000-00000000000a",
                "tokenType": "Bearer",
            },
            indent=2,
        )
    if tool == "azd":
        # azure-identity reads this UTC time as local time: a day ahead keeps it
        # in the future whatever the machine's time zone.
        when = datetime.fromtimestamp(expires + 86400, UTC)
        return json.dumps(
            {"token": token, "expiresOn": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    return f"\nazsdk%{token}%{expires}\n"
