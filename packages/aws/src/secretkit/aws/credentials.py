"""Where the AWS backends' credentials come from.

A first cut: botocore's own chain, through the session. The full chain on the
core's machinery (env, profile with source_profile/role_arn/external_id, web
identity, container and instance roles, explicit AssumeRole refreshed ahead of
expiry) replaces ``session_for``'s body; its signature stays.
"""

from __future__ import annotations

__all__ = ("session_for",)

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from .config import AwsSettings


def session_for(settings: AwsSettings) -> AioSession:
    """Return an aiobotocore session whose credentials the backends use.

    Cheap and free of I/O: credentials resolve on the first request.
    """
    from aiobotocore.session import AioSession

    return AioSession(profile=settings.profile)
