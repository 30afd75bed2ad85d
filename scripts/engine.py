"""Offline engine: run a stack program under Pulumi's mock runtime and record a resource graph.

The program is the same one `pulumi up` runs (`stacks.run`). Instead of a deployment engine,
`RecordingMonitor` receives every resource registration, keeps the whole request (inputs and
resource options: protect, retain_on_delete, depends_on, parent, provider, ...) and answers
with AWS-shaped ids and ARNs from `scripts.mock_aws`. The dr stack's StackReference to the
primary is answered with the outputs of the primary's own offline run.

Every synth runs in a fresh `contextvars.Context` and event loop, so several stacks can be
synthesized in one process without the Pulumi runtime's global state leaking between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.settings import get_project, get_root_resource, get_stack
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from model.config import NAMESPACE, StackConfig
from model.loader import ConfigError, InconsistentStacksError, LoadedConfig
from scripts import mock_aws, mock_gcp
from scripts.graph import (
    GRAPH_SCHEMA,
    IntegrityProblem,
    Registration,
    build_graph,
    integrity_problems,
)

PROJECT = "resilience"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
SSM_PARAMETERS_BY_PATH = "aws:ssm/getParametersByPath:getParametersByPath"
AWS_PROVIDER = "pulumi:providers:aws"


class SynthError(Exception):
    """The program could not be synthesized; the message names the stack and the cause."""

    def __init__(self, stack: str, message: str) -> None:
        self.stack = stack
        super().__init__(f"stack {stack}: {message}")


class StackInputError(SynthError):
    """Bad input rather than a bug: a missing referenced stack, a primary that disagrees."""


class RegistrationError(StackInputError):
    """Registrations the Pulumi engine refuses (`scripts.graph.integrity_problems`): a URN
    registered twice, a parent, provider or dependency that is missing or comes later.
    `where` names, per problem, the config keys its resources are named after."""

    def __init__(
        self,
        stack: str,
        problems: Sequence[IntegrityProblem],
        where: Mapping[IntegrityProblem, Sequence[str]] | None = None,
    ) -> None:
        self.problems = list(problems)
        self.where = dict(where or {})
        # One line per set of config keys (a duplicate bucket duplicates all its parts):
        # the shortest message of the set (its component), and how many more it has.
        groups: dict[tuple[str, ...], list[IntegrityProblem]] = {}
        for problem in self.problems:
            groups.setdefault(tuple(self.where.get(problem, ())), []).append(problem)
        lines: list[str] = []
        for keys, group in groups.items():
            shown = group if not keys else [min(group, key=lambda p: (len(p.message), p))]
            more = len(group) - len(shown)
            for problem in shown:
                line = f"  {', '.join(keys)}: {problem.message}" if keys else f"  {problem.message}"
                lines.append(line + (f" (and {more} more like it)" if more else ""))
        if len(lines) > MAX_LINES:
            lines[MAX_LINES:] = [f"  ... and {len(lines) - MAX_LINES} more"]
        super().__init__(
            stack,
            f"`pulumi preview` would refuse {len(self.problems)} registration(s):\n"
            + "\n".join(lines),
        )


MAX_LINES = 20  # of a RegistrationError's message


def _computed(inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outputs.items() if k not in inputs}


def _from_register(request: Any, response: Any) -> Registration:
    inputs = json_format.MessageToDict(request.object)
    outputs = json_format.MessageToDict(response.object) if request.custom else {}
    return Registration(
        urn=response.urn,
        id=response.id,
        type=request.type,
        name=request.name,
        custom=bool(request.custom),
        parent=request.parent,
        provider=request.provider,
        inputs=inputs,
        computed=_computed(inputs, outputs),
        dependencies=list(request.dependencies),
        property_dependencies={
            prop: list(deps.urns) for prop, deps in request.propertyDependencies.items()
        },
        options={
            "protect": bool(request.protect),
            "retain_on_delete": bool(request.retainOnDelete),
            "delete_before_replace": bool(request.deleteBeforeReplace),
            "ignore_changes": sorted(request.ignoreChanges),
            "replace_on_changes": sorted(request.replaceOnChanges),
            "additional_secret_outputs": sorted(request.additionalSecretOutputs),
            "aliases": sorted(a.urn or f"name={a.spec.name}" for a in request.aliases),
            "deleted_with": request.deletedWith or None,
            "import_id": request.importId or None,
        },
    )


def _from_read(request: Any, response: Any) -> Registration:
    inputs = json_format.MessageToDict(request.properties)
    return Registration(
        urn=response.urn,
        id=request.id,
        type=request.type,
        name=request.name,
        custom=True,
        parent=request.parent,
        provider=request.provider,
        inputs=inputs,
        computed=_computed(inputs, json_format.MessageToDict(response.properties)),
        dependencies=list(request.dependencies),
        property_dependencies={},
        options={"additional_secret_outputs": sorted(request.additionalSecretOutputs)},
        read=True,
    )


class OfflineMocks(pulumi.runtime.Mocks):
    """Answers registrations and data-source calls with AWS-shaped values."""

    def __init__(
        self,
        stack: str,
        references: Mapping[str, Mapping[str, Any]],
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.stack = stack
        self.references = references
        # SSM parameters the program may read (by name): the live account's facts, which an
        # offline run does not have; `synth` gives what the stack file implies.
        self.parameters = dict(parameters or {})
        self.provider_regions: dict[str, str] = {}

    def region_of(self, provider_ref: str | None) -> str:
        if not provider_ref:
            return ""
        return self.provider_regions.get(provider_ref, "")

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if typ == STACK_REFERENCE:
            return name, {"name": name, "outputs": self._reference(name), "secretOutputNames": []}
        if typ.startswith("pulumi:providers:"):
            return mock_aws.stable_uuid("provider", typ, name), inputs
        if typ.startswith("aws:"):
            region = self.region_of(args.provider)
            ident, outputs = mock_aws.new_resource(typ, name, inputs, region)
        elif typ.startswith("gcp:"):
            ident, outputs = mock_gcp.new_resource(typ, name, inputs)
        elif typ == "random:index/randomPassword:RandomPassword":
            # Deterministic stand-in; the SDK marks `result` secret, so it never reaches
            # the graph in clear.
            ident = f"{name}-{mock_aws.digest(typ, name)[:8]}"
            outputs = {**inputs, "result": mock_aws.digest("password", name)[:32]}
        else:
            ident, outputs = f"{name}-{mock_aws.digest(typ, name)[:8]}", inputs
        return ident, outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == SSM_PARAMETERS_BY_PATH:
            path = str(dict(args.args).get("path", "")).rstrip("/") + "/"
            found = sorted((n, v) for n, v in self.parameters.items() if n.startswith(path))
            return {
                "path": path.rstrip("/"),
                "names": [n for n, _ in found],
                "values": [v for _, v in found],
                "types": ["String"] * len(found),
                "arns": [],
                "id": path.rstrip("/"),
            }, []
        return mock_aws.call(args.token, self.region_of(args.provider), args.args), []

    def _reference(self, name: str) -> dict[str, Any]:
        wanted = [name, name.rsplit("/", 1)[-1]]
        for key in wanted:
            if key in self.references:
                return dict(self.references[key])
        known = ", ".join(sorted(self.references)) or "none"
        raise StackInputError(
            self.stack,
            f"StackReference '{name}' has no offline outputs (synthesized stacks: {known}); "
            "synthesize the referenced stack in the same run",
        )


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that keeps every registration request for the resource graph."""

    mocks: OfflineMocks

    def __init__(self, mocks: OfflineMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the real engine forms them: the parent's full qualified type chain, and no
        `pulumi:pulumi:Stack$` prefix for resources directly under the stack (the SDK's mock
        monitor keeps only the last parent type and prefixes the stack)."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self._record(_from_register(request, response))
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(_from_read(request, response))
        return response

    def _record(self, registration: Registration) -> None:
        with self._lock:
            if registration.type.startswith("pulumi:providers:"):
                region = registration.inputs.get("region")
                ref = f"{registration.urn}::{registration.id}"
                self.mocks.provider_regions[ref] = region if isinstance(region, str) else ""
            self.registrations.append(registration)


@dataclass
class SynthResult:
    loaded: LoadedConfig
    graph: dict[str, Any]
    outputs: dict[str, Any]

    @property
    def stack(self) -> str:
        return self.loaded.stack

    @property
    def resource_count(self) -> int:
        return sum(1 for r in self.graph["resources"] if r["type"] != "pulumi:pulumi:Stack")


@dataclass
class OfflineRun:
    registrations: list[Registration]
    provider_regions: dict[str, str]
    outputs: dict[str, Any]


def run_offline(
    program: Callable[[], object],
    *,
    stack: str,
    project: str = PROJECT,
    references: Mapping[str, Mapping[str, Any]] | None = None,
    config: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
) -> OfflineRun:
    """Run any Pulumi program function under the recording mock runtime, isolated in a fresh
    context and event loop. `config` is the raw Pulumi config (`pulumi.Config` reads it);
    `parameters` the SSM parameters data sources read. Errors come back as SynthError
    (StackInputError for bad input)."""
    context = contextvars.Context()
    with _collector_paused():
        return context.run(
            lambda: _run_in_context(
                program,
                stack=stack,
                project=project,
                references=dict(references or {}),
                config=dict(config or {}),
                parameters=dict(parameters or {}),
            )
        )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A run allocates hundreds of thousands of short-lived Outputs and tasks; the cyclic
    garbage collector's full passes over that growing heap made synth time grow faster than
    the resource count (2.9 -> 3.9 ms per resource from 300 to 2,300 resources). Paused for
    the run and collected once after it, the cost per resource stays flat (about 1.8 ms)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _isolate_runtime_state(config: dict[str, str]) -> None:
    """Give this context its own copies of the SDK state whose ContextVar defaults are shared
    objects: the set of pending output tasks (a failed run would otherwise leave tasks bound
    to its closed event loop for the next run to await) and the config map."""
    runtime_settings.SETTINGS.outputs = set()
    runtime_settings.SETTINGS.lock = threading.Lock()
    runtime_config.set_all_config(config, [])


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Forget this run's pending output tasks (the SDK may keep them in a set that outlives
    the context) and cancel whatever still runs on the loop before it is closed."""
    runtime_settings.SETTINGS.outputs.clear()
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _run_in_context(
    program: Callable[[], object],
    *,
    stack: str,
    project: str,
    references: dict[str, Mapping[str, Any]],
    config: dict[str, str],
    parameters: dict[str, str],
) -> OfflineRun:
    loop = asyncio.new_event_loop()
    failed = False

    def quiet_after_failure(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # Once the run has failed and its cause is reported, the other registrations that
        # depended on it fail too; asyncio would print each as "never retrieved".
        if failed and "never retrieved" in str(context.get("message", "")):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(quiet_after_failure)
    asyncio.set_event_loop(loop)
    mocks = OfflineMocks(stack, references, parameters)
    monitor = RecordingMonitor(mocks)
    try:
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=False, monitor=monitor
        )
        _isolate_runtime_state(config)
        try:
            program()
            _sync_await(wait_for_rpcs())
            outputs = _sync_await(_resolve_outputs())
        except SynthError:
            failed = True
            raise
        except Exception as exc:
            failed = True
            cause = _root_cause(exc)
            if isinstance(cause, SynthError):
                raise cause from None
            if isinstance(cause, InconsistentStacksError | ConfigError):
                raise StackInputError(stack, str(cause)) from None
            raise SynthError(stack, f"{type(cause).__name__}: {cause}") from exc
    finally:
        _drain(loop)
        asyncio.set_event_loop(None)
        loop.close()
    # The one place the offline engine refuses what the real engine refuses.
    problems = integrity_problems(monitor.registrations)
    if problems:
        raise RegistrationError(stack, problems)
    return OfflineRun(monitor.registrations, mocks.provider_regions, outputs)


def synth(
    loaded: LoadedConfig,
    *,
    project: str = PROJECT,
    references: Mapping[str, Mapping[str, Any]] | None = None,
    parameters: Mapping[str, str] | None = None,
) -> SynthResult:
    """Run one stack program offline and return its resource graph and stack outputs.
    `parameters`: the DR region's SSM parameters the program reads (model/serving.py); by
    default the state the stack file implies, since an offline run cannot read the account."""
    from stacks import run  # imported late: importing pulumi_aws costs about a second

    if parameters is None:
        parameters = implied_parameters(loaded)
    try:
        result = run_offline(
            lambda: run(loaded.config, loaded.stack),
            stack=loaded.stack,
            project=project,
            references=references,
            parameters=parameters,
        )
    except RegistrationError as error:
        where = {p: config_keys_of(loaded, p.urn) for p in error.problems}
        raise RegistrationError(loaded.stack, error.problems, where) from None
    graph = build_graph(
        result.registrations,
        result.provider_regions,
        meta={
            "schema": GRAPH_SCHEMA,
            "project": project,
            "stack": loaded.stack,
            "source": loaded.source,
            "role": loaded.config.role.value,
            "region": loaded.config.region,
        },
        outputs=result.outputs,
    )
    return SynthResult(loaded=loaded, graph=graph, outputs=result.outputs)


def config_keys_of(loaded: LoadedConfig, urn: str) -> list[str]:
    """The config keys a resource is named after, as `<file>: <key> ('<value>')`: resources
    are named `<system>-<role>-<component>-<entry name>...` after the entries of
    `services` (and their `previous_names`), `data_buckets`, `databases` and `tables`. The
    entries whose name appears whole among the name's dash-separated words, the longest
    such name only (a bucket `orders-archive` over a service `orders`). Empty when no
    entry's name appears (a bug in the program rather than in the config)."""
    config = loaded.config
    if not isinstance(config, StackConfig):
        return []
    name = urn.rsplit("::", 1)[-1]
    words = name.removeprefix(f"{config.name}-{config.role.value}-").split("-")
    entries: list[tuple[str, str]] = []
    for i, service in enumerate(config.services):
        entries.append((f"services[{i}].name", service.name))
        entries.extend(
            (f"services[{i}].previous_names[{j}]", old)
            for j, old in enumerate(service.previous_names)
        )
    entries.extend((f"data_buckets[{i}].name", b.name) for i, b in enumerate(config.data_buckets))
    for i, db in enumerate(config.databases):
        entries.append((f"databases[{i}].name", db.name))
        if db.identifier:
            entries.append((f"databases[{i}].identifier", db.identifier))
    entries.extend((f"tables[{i}].name", t.name) for i, t in enumerate(config.tables))

    def appears(value: str) -> bool:
        parts = value.split("-")
        return any(words[k : k + len(parts)] == parts for k in range(len(words)))

    matches = [(key, value) for key, value in entries if appears(value)]
    if not matches:
        return []
    longest = max(len(value.split("-")) for _, value in matches)
    out = []
    for key, value in matches:
        if len(value.split("-")) == longest:
            top = f"{NAMESPACE}:{key.split('[', 1)[0]}"
            source = loaded.origins.get(top, loaded.source)
            out.append(f"{source}: {NAMESPACE}:{key} ('{value}')")
    return out


def implied_parameters(loaded: LoadedConfig) -> dict[str, str]:
    """The serving fact a stack file implies (model/serving.py `implied_state`)."""
    from model.serving import implied_state, parameter_name

    config = loaded.config
    if not isinstance(config, StackConfig):
        return {}
    state = implied_state(config)
    return {} if state is None else {parameter_name(config.name): state.to_json()}


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


async def _resolve_outputs() -> dict[str, Any]:
    root = get_root_resource()
    exported: dict[str, Any] = getattr(root, "outputs", {})
    resolved: dict[str, Any] = {}
    for key in sorted(exported):
        output = pulumi.Output.from_input(exported[key])
        resolved[key] = await output.future()
    return resolved


def synth_all(stacks: Sequence[LoadedConfig], *, project: str = PROJECT) -> list[SynthResult]:
    """Synthesize stacks in dependency order: a stack referenced by another's
    `primary_stack` runs first and its outputs answer that StackReference."""
    results: dict[str, SynthResult] = {}
    pending = list(stacks)
    while pending:
        progressed = False
        for loaded in list(pending):
            ref = loaded.config.primary_stack if loaded.config.role.value == "dr" else None
            ref_short = ref.rsplit("/", 1)[-1] if ref else None
            in_batch = {s.stack for s in stacks}
            if ref_short is not None and ref_short in in_batch and ref_short not in results:
                continue
            references = {name: r.outputs for name, r in results.items()}
            results[loaded.stack] = synth(loaded, project=project, references=references)
            pending.remove(loaded)
            progressed = True
        if not progressed:
            names = ", ".join(s.stack for s in pending)
            raise StackInputError(names, "stack references form a cycle")
    return [results[s.stack] for s in stacks]
