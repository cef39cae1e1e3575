"""Copying secrets between backends: plan the copy, then apply the plan.

For migration tools, with or without the ``secretkit`` command::

    async with SecretClient(backends=...) as client:
        pairs = await transfer.prefix_pairs(client, "vault://secret/app/", "aws://app/")
        planned = await transfer.plan(client, pairs)
        print(planned.counts())             # {'create': 3, 'unchanged': 40, ...}
        report = await transfer.apply(client, planned)
        assert report.ok, report.errors()

:func:`plan` reads every source and destination straight from its backend and
compares the values in memory, never revealing them; :func:`apply` writes the
creates and updates and records how each went. Unchanged values are never written
again, so planning and applying again finishes an interrupted copy.
"""

from __future__ import annotations

__all__ = (
    "Action",
    "Carried",
    "Outcome",
    "Plan",
    "Report",
    "Result",
    "Step",
    "apply",
    "plan",
    "prefix_pairs",
)

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, final

import anyio

from . import _copying
from .errors import (
    BackendUnavailable,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)
from .secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .backend import SecretInfo, SecretValue
    from .client import SecretClient

Action: TypeAlias = Literal["create", "update", "unchanged", "conflict", "skip"]
Outcome: TypeAlias = Literal["done", "failed", "not attempted"]
Pairs: TypeAlias = "Iterable[tuple[str | SecretRef, str | SecretRef]]"

_log = logging.getLogger(__name__)
# Failures that say the whole destination is out of reach, not just one secret.
_FATAL: Final = (BackendUnavailable, CredentialError)


@dataclass(frozen=True, slots=True, kw_only=True)
class Carried:
    """The metadata a copy carries over, where the destination keeps it.

    :param description: the source's description
    :param tags: the source's tags
    :param content_type: the source's content type (Azure Key Vault keeps one)
    """

    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One secret of a plan: where from, where to, and what to do.

    :param source: the secret to read (its backend resolved)
    :param destination: where it goes (its backend resolved)
    :param action: ``create``, ``update``, ``unchanged``, ``conflict`` or ``skip``
    :param reason: why, for a ``conflict`` or ``skip``; never a value
    :param error: what made it a ``skip``
    :param carried: the metadata the write carries over
    :param value: the source's value, to write; never shown by ``repr``
    """

    source: SecretRef
    destination: SecretRef
    action: Action
    reason: str = ""
    error: SecretkitError | None = None
    carried: Carried = field(default_factory=Carried)
    value: SecretValue | None = field(default=None, repr=False, compare=False)

    @property
    def writes(self) -> bool:
        """Whether applying the plan writes this one (a create or an update)."""
        return self.action in ("create", "update")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What :func:`apply` would do, one :class:`Step` per pair, in the pairs' order.

    :param steps: the steps
    :param overwrite: whether different values are updated (else: conflicts)
    """

    steps: tuple[Step, ...]
    overwrite: bool = False

    def counts(self) -> dict[Action, int]:
        """How many steps take each action; actions no step takes are left out."""
        return dict(Counter(step.action for step in self.steps))

    @property
    def ok(self) -> bool:
        """True when no step is a conflict or a skip."""
        return all(step.action not in ("conflict", "skip") for step in self.steps)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """How one write went.

    :param step: the step written
    :param outcome: ``done``, ``failed`` or ``not attempted``
    :param version: the destination's new version id, when it gives one
    :param error: why it failed
    :param dropped: metadata the destination refused to keep (``tags``...)
    """

    step: Step
    outcome: Outcome
    version: str | None = None
    error: SecretkitError | None = None
    dropped: tuple[str, ...] = ()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """What :func:`apply` did: the plan, and a :class:`Result` for each write.

    :param plan: the plan applied
    :param results: one per writing step, in the plan's order
    """

    plan: Plan
    results: tuple[Result, ...]

    def counts(self) -> dict[Outcome, int]:
        """How many writes had each outcome; outcomes none had are left out."""
        return dict(Counter(result.outcome for result in self.results))

    @property
    def ok(self) -> bool:
        """True when the plan had no conflict or skip and every write was done."""
        return self.plan.ok and all(r.outcome == "done" for r in self.results)

    def errors(self) -> list[SecretkitError]:
        """The errors of the skipped steps, then of the failed writes."""
        skipped = [s.error for s in self.plan.steps if s.error is not None]
        return skipped + [r.error for r in self.results if r.error is not None]


async def prefix_pairs(
    client: SecretClient, source: str, destination: str
) -> list[tuple[SecretRef, SecretRef]]:
    """Pair every secret under a source prefix with its name under another prefix.

    ``prefix_pairs(client, "vault://secret/app/", "aws://app/")`` pairs
    ``secret/app/db`` in ``vault`` with ``app/db`` in ``aws``. A prefix without
    ``backend://`` is in the client's default backend.

    :param source: ``[backend://]prefix`` to list
    :param destination: ``[backend://]prefix`` that replaces the source prefix
    :return: the pairs, in the order the source backend lists its names
    :raises InvalidReference: a prefix holds ``?`` or ``#``
    :raises NotSupported: the source backend cannot list
    """
    source_backend, source_prefix = _copying.split_prefix(source, client.default)
    target_backend, target_prefix = _copying.split_prefix(destination, client.default)
    listed = await _copying.names(
        client._reader.instances.get(source_backend), source_prefix
    )
    return [
        (
            SecretRef(name=name, backend=source_backend),
            SecretRef(
                name=target_prefix + name[len(source_prefix) :], backend=target_backend
            ),
        )
        for name in listed
    ]


async def plan(
    client: SecretClient,
    pairs: Pairs,
    *,
    overwrite: bool = False,
    concurrency: int = 8,
) -> Plan:
    """Read each pair's source and destination and decide what copying would do.

    Writes nothing, and reads around the cache. A destination holding an equal
    value is ``unchanged``: the same bytes of the same kind (text or binary), or
    the same JSON object however spaced or ordered (Vault keeps objects, not
    text). A missing one is a ``create``; a different one an ``update`` with
    ``overwrite``, else a ``conflict``. What cannot be read is a ``skip``.
    References without ``backend://`` are in the client's default backend; a
    source may name a ``?version=`` or ``?stage=``.

    :param pairs: (source, destination) references
    :param overwrite: plan to replace different values (else they are conflicts)
    :param concurrency: reads in flight at once, per backend without a batch API
    :return: the plan; reading failures are ``skip`` steps, not raised
    :raises InvalidReference: a reference does not parse, has a ``#field``, or a
        destination names a version or stage
    :raises ConfigurationError: two sources copy to one destination, or a pair
        copies a secret onto itself
    :raises BackendNotFound: a backend is not configured or installed
    """
    instances = client._reader.instances
    checked = _copying.resolve_pairs(instances, client.default, pairs)
    wanted = [source for source, _ in checked] + [target for _, target in checked]
    found = await _copying.read(instances, wanted, concurrency=concurrency)
    steps = [
        _decide(source, target, found[source], found[target], overwrite=overwrite)
        for source, target in checked
    ]
    # Only what will be written needs its metadata: a rerun describes nothing.
    writing = [step.source for step in steps if step.writes]
    infos = await _copying.describe(instances, writing, concurrency=concurrency)
    return Plan(
        steps=tuple(
            _with_metadata(step, infos.get(step.source)) if step.writes else step
            for step in steps
        ),
        overwrite=overwrite,
    )


async def apply(
    client: SecretClient,
    planned: Plan,
    *,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = 8,
) -> Report:
    """Write the plan's creates and updates; record how each went.

    Each carries the source's description, tags and content type where the
    destination's ``put`` keeps them. A failed write is recorded, not raised;
    after one fails because its backend is unreachable or refuses the
    credentials, that backend's writes not yet started are ``not attempted``.

    :param planned: what :func:`plan` returned
    :param progress: called as ``progress(finished, total)`` after each write
    :param concurrency: writes in flight at once
    :return: the report
    """
    writes = [step for step in planned.steps if step.writes]
    results: dict[int, Result] = {}
    given_up: set[str | None] = set()
    pending = iter(enumerate(writes))  # shared: workers take steps in plan order

    async def worker() -> None:
        for index, step in pending:
            if step.destination.backend in given_up:
                continue
            result = results[index] = await _write(client, step)
            if isinstance(result.error, _FATAL):
                given_up.add(step.destination.backend)
            if progress is not None:
                progress(len(results), len(writes))

    async with anyio.create_task_group() as tg:
        for _ in range(min(concurrency, len(writes))):
            tg.start_soon(worker)
    return Report(
        plan=planned,
        results=tuple(
            results.get(index) or Result(step=step, outcome="not attempted")
            for index, step in enumerate(writes)
        ),
    )


# -- reading ------------------------------------------------------------------


def _decide(
    source: SecretRef,
    target: SecretRef,
    read: SecretValue | SecretkitError,
    existing: SecretValue | SecretkitError,
    *,
    overwrite: bool,
) -> Step:
    step = partial(Step, source=source, destination=target)
    if isinstance(read, SecretkitError):
        reason = f"cannot read the source: {read.message}"
        return step(action="skip", reason=reason, error=read)
    if isinstance(existing, SecretNotFound):
        return step(action="create", value=read)
    if isinstance(existing, SecretkitError):
        reason = f"cannot read the destination: {existing.message}"
        return step(action="skip", reason=reason, error=existing)
    if _copying.same_value(read.value, existing.value):
        return step(action="unchanged")
    if overwrite:
        return step(action="update", value=read)
    reason = "the destination holds a different value; overwrite replaces it"
    return step(action="conflict", reason=reason)


def _with_metadata(step: Step, info: SecretInfo | None) -> Step:
    assert step.value is not None  # a writing step holds its value
    found = {**step.value.metadata, **(info.metadata if info is not None else {})}
    description, tags, kind = (
        found.get(key) for key in ("description", "tags", "content_type")
    )
    carried = Carried(
        description=description if isinstance(description, str) else None,
        tags=(
            {str(key): str(value) for key, value in tags.items()}
            if isinstance(tags, Mapping)
            else {}
        ),
        content_type=kind if isinstance(kind, str) else None,
    )
    return replace(step, carried=carried)


# -- writing ------------------------------------------------------------------


async def _write(client: SecretClient, step: Step) -> Result:
    assert step.value is not None  # a writing step holds its value
    carried = step.carried
    options = {
        "description": carried.description,
        "tags": dict(carried.tags) or None,
        "content_type": carried.content_type,
    }
    stored, dropped = await _copying.put(
        client._reader.instances.get(step.destination.backend or client.default),
        step.destination,
        step.value.value,
        create=step.action == "create",
        options={key: value for key, value in options.items() if value is not None},
    )
    if isinstance(stored, SecretkitError):
        return Result(step=step, outcome="failed", error=stored)
    return Result(step=step, outcome="done", version=stored.version, dropped=dropped)
