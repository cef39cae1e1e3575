"""The options of the AWS backends, read and checked once.

Every option may also come from ``SECRETKIT_AWS_<OPTION>`` (``SECRETKIT_AWS_SSM_``
for ``aws-ssm``). The standard ``AWS_*`` variables (``AWS_REGION``,
``AWS_PROFILE``, ``AWS_ENDPOINT_URL``, ``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``...)
are read by botocore as the AWS SDKs do; an option given here wins over them.
``AWS_ROLE_ARN``, ``AWS_ROLE_SESSION_NAME`` and ``AWS_EXTERNAL_ID`` (without a web
identity token file) ask for an explicit AssumeRole, as mlflow-secrets-auth does.
"""

from __future__ import annotations

__all__ = ("RETRY_MODES", "AwsSettings", "read_settings")

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from secretkit.core.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiobotocore.config import AioConfig

    from secretkit.core.options import Options

RETRY_MODES: Final = ("legacy", "standard", "adaptive")


@dataclass(frozen=True, slots=True, kw_only=True)
class AwsSettings:
    """One AWS backend instance's settings.

    :param region: the region; else botocore's (``AWS_REGION``, the profile)
    :param regions: failover order for replicated secrets (first is primary)
    :param endpoint_url: the backend's own service endpoint (a VPC endpoint,
        LocalStack, moto); else botocore's (``AWS_ENDPOINT_URL_<SERVICE>``...)
    :param sts_endpoint_url: where STS calls go (AssumeRole, ``doctor``); else
        botocore's resolution (``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``)
    :param profile: a shared config/credentials profile
    :param role_arn: a role to assume on top of the base credentials
    :param external_id: the AssumeRole external ID
    :param role_session_name: the AssumeRole session name
    :param duration_seconds: how long assumed credentials last
    :param max_attempts: botocore retry attempts (default 3, or ``AWS_MAX_ATTEMPTS``)
    :param retry_mode: ``legacy``, ``standard`` or ``adaptive`` (default adaptive)
    :param connect_timeout: seconds to connect
    :param read_timeout: seconds to wait for a response
    :param check_secret: a secret ``doctor`` checks is readable (never shown)
    :param recovery_window_days: days a deleted secret stays restorable (7 to 30;
        default AWS's 30); ``delete(force=True)`` skips the window
    """

    region: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = "secretkit"
    duration_seconds: int = 3600
    max_attempts: int = 3
    retry_mode: str = "adaptive"
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    check_secret: str | None = None
    recovery_window_days: int | None = None

    def sdk_config(self) -> AioConfig:
        """botocore's client config: retries (total attempts, mode) and timeouts."""
        from aiobotocore.config import AioConfig

        return AioConfig(
            retries={"total_max_attempts": self.max_attempts, "mode": self.retry_mode},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    @property
    def region_order(self) -> tuple[str | None, ...]:
        """The regions to try, in order (``None``: botocore's default region)."""
        if self.regions:
            return self.regions
        return (self.region,)


def read_settings(
    options: Options, environ: Mapping[str, str] | None = None
) -> AwsSettings:
    """Read an AWS backend's options (and the seed's ``AWS_ROLE_*`` variables).

    :raises ConfigurationError: naming the option at fault and its source
    """
    env = os.environ if environ is None else environ
    regions = tuple(options.get_str_list("regions", []))
    # botocore reads only AWS_DEFAULT_REGION; the seed and newer SDKs use AWS_REGION.
    fallback = regions[0] if regions else env.get("AWS_REGION") or None
    region = options.get_str("region", fallback)
    # The AWS_* retry variables count only when no option is given, as in botocore.
    max_attempts = cast("int | None", options.get_int("max_attempts", None))
    if max_attempts is None:
        max_attempts = _max_attempts_env(env, options.instance)
    if max_attempts < 1:
        raise options.error("max_attempts", "must be at least 1")
    retry_mode = cast("str | None", options.get_choice("retry_mode", RETRY_MODES, None))
    if retry_mode is None:
        retry_mode = _retry_mode_env(env, options.instance)
    duration = options.get_int("duration_seconds", 3600)
    if not 900 <= duration <= 43200:
        raise options.error("duration_seconds", "must be between 900 and 43200")
    settings = AwsSettings(
        region=region,
        regions=regions,
        endpoint_url=options.get_str("endpoint_url", None),
        sts_endpoint_url=options.get_str("sts_endpoint_url", None),
        profile=options.get_str("profile", None),
        role_arn=options.get_str("role_arn", _role_env(env, "AWS_ROLE_ARN")),
        external_id=options.get_str("external_id", _role_env(env, "AWS_EXTERNAL_ID")),
        role_session_name=options.get_str(
            "role_session_name", _role_env(env, "AWS_ROLE_SESSION_NAME") or "secretkit"
        ),
        duration_seconds=duration,
        max_attempts=max_attempts,
        retry_mode=retry_mode,
        connect_timeout=options.get_float("connect_timeout", 5.0),
        read_timeout=options.get_float("read_timeout", 10.0),
        check_secret=options.get_str("check_secret", None),
        recovery_window_days=_recovery_window(options),
    )
    options.done()
    return settings


def _env_error(name: str, instance: str, problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"{name} (environment): {problem}",
        key=name,
        source="environment",
        backend=instance,
    )


def _max_attempts_env(env: Mapping[str, str], instance: str) -> int:
    # botocore fails on a value it cannot use; so do we, naming the variable.
    text = (env.get("AWS_MAX_ATTEMPTS") or "").strip()
    if not text:
        return 3
    if not text.isdigit() or int(text) < 1:
        raise _env_error(
            "AWS_MAX_ATTEMPTS",
            instance,
            f"expected a whole number of at least 1, got {text!r}",
        )
    return int(text)


def _retry_mode_env(env: Mapping[str, str], instance: str) -> str:
    text = (env.get("AWS_RETRY_MODE") or "").strip()
    if not text:
        return "adaptive"
    if text not in RETRY_MODES:
        raise _env_error(
            "AWS_RETRY_MODE",
            instance,
            f"expected one of {', '.join(RETRY_MODES)}, got {text!r}",
        )
    return text


def _recovery_window(options: Options) -> int | None:
    days = cast("int | None", options.get_int("recovery_window_days", None))
    if days is not None and not 7 <= days <= 30:
        raise options.error("recovery_window_days", "must be between 7 and 30")
    return days


def _role_env(env: Mapping[str, str], name: str) -> str | None:
    # With a web identity token file, AWS_ROLE_ARN belongs to botocore's web
    # identity provider; without one it asks for an explicit AssumeRole.
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return None
    return env.get(name) or None
