"""The policy pack driven the way the Pulumi CLI drives it: a separate process, started with
the command line and environment the CLI gives it, spoken to over the Analyzer gRPC protocol
with properties encoded as the engine encodes them. Its findings must be exactly those of
`resilience check` (policies/evaluate.py) on the same resource graphs.

How the CLI starts a Python pack (pulumi/pulumi, read at 1b59498, v3.259+; the bundle pins the
CLI to 3.272):
- pkg/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer: reads `<pack>/PulumiPolicy.yaml`
  (workspace.LoadPolicyPack: only `runtime` is required) and, the python language plugin being
  present, starts the pack through it with the engine's address as the only argument, then
  calls Handshake (Unimplemented is accepted) and ConfigureStack (stack, project, organization,
  dry run, config, tags).
- pkg/resource/plugin/plugin.go, newPlugin: a directory is run through its runtime's
  RunPlugin, with RootDirectory = ProgramDirectory = the pack's absolute path and the
  runtime's `options` from PulumiPolicy.yaml.
- sdk/python/cmd/pulumi-language-python/main.go, RunPlugin (kind analyzer): the pack has a
  `__main__.py`, so the command is `<python> -u -m pulumi.policy <engine address> <pack dir>`,
  with the pack's directory as working directory ("python policy packs used to always run with
  the working directory set to the policy pack directory"), and PULUMI_ORGANIZATION,
  PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN and PULUMI_CONFIG (the stack config as a JSON
  object) taken from ConfigureStack, then the engine's own environment.
- sdk/python/toolchain: `virtualenv` is joined to the root directory (`../.venv` is the
  project's .venv); the python is `<venv>/bin/python`, run with ActivateVirtualEnv's
  environment (the venv's bin first on PATH, PYTHONHOME dropped, VIRTUAL_ENV set).
- sdk/policy_proxy.go, Attach: the port is the first line of the pack's stdout, read with
  `fmt.Fscanf(..., "%d\\n", &port)`; the proxy then dials 127.0.0.1:<port> and forwards
  ConfigureStack before anything else.
- pulumi_policy (policy.py, PolicyPack): serves on 127.0.0.1:0 and writes the port to stdout.

How the engine encodes what it sends (pkg/resource/plugin/analyzer_plugin.go and
sdk/go/common/resource/plugin/rpc.go): properties go through MarshalProperties with
KeepUnknowns and KeepSecrets, so a secret is `{"4dabf18193072939515e22adb298388d":
"1b47061264138c4ac30d75fd1eb44270", "value": ...}` (sdk/go/common/resource/sig/sig.go: Key,
Secret), an unknown string is the sentinel "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
(UnknownStringValue) and every number is a protobuf double. Analyze carries a resource's
checked inputs and its provider's inputs (pkg/resource/deploy/step_generator.go,
analyzeAll); AnalyzeStack carries every resource of the stack with its outputs ("Unlike
Analyze, AnalyzeStack is called on the final outputs of each resource"), parent,
dependencies and property dependencies (AnalyzeResources). A provider's inputs hold its
nested config as JSON text (pulumi_aws/provider.py: `.apply(pulumi.runtime.to_json)`) and
its plugin version (source_eval.go: providers.SetProviderVersion).

What this replay cannot reproduce, without a provider plugin: the provider's Check (it may
add defaults to the inputs) and the provider's real outputs (the mocks' stand in).
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import os
import selectors
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from policies.evaluate import evaluate_graph
from policies.pack import PACK_NAME
from policies.rules import ALL_RULES, STACK_RULES, Enforcement, Rule, StackRule
from policies.rules.stack import load_drill
from scripts.engine import SynthResult
from scripts.graph import SECRET, UNKNOWN
from tests.conftest import ROOT

PACK_DIR = ROOT / "policies"

# Pulumi's wire format (sdk/go/common/resource/sig/sig.go and resource/plugin/rpc.go).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# What a secret holds in the engine (the graph keeps only "[secret]"): a value no rule may see
# or print.
PLAINTEXT = "plaintext-only-the-engine-holds"

# Every RPC has a deadline, and the pack's start one too: a hung pack fails the test, never
# the suite (the machine may be busy: generous, but finite).
RPC_TIMEOUT = 60.0
START_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0

LEVELS = {
    analyzer_pb2.ADVISORY: Enforcement.ADVISORY,
    analyzer_pb2.MANDATORY: Enforcement.MANDATORY,
    analyzer_pb2.DISABLED: Enforcement.DISABLED,
}
WIRE_LEVELS = {level: wire for wire, level in LEVELS.items()}

Finding = tuple[str, str, str, str]  # rule id, urn, message, enforcement


# -- the launch -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    cwd: Path
    env: dict[str, str]


def activate_virtualenv(environ: Mapping[str, str], venv: Path) -> dict[str, str]:
    """sdk/python/toolchain/toolchain.go, ActivateVirtualEnv."""
    result = {k: v for k, v in environ.items() if k.upper() not in ("PYTHONHOME", "VIRTUAL_ENV")}
    result["PATH"] = f"{venv / 'bin'}{os.pathsep}{environ.get('PATH', '')}".rstrip(os.pathsep)
    result["VIRTUAL_ENV"] = str(venv)
    return result


def stack_config(stack_file: Path) -> dict[str, str]:
    """The stack's config as the engine hands it to ConfigureStack: every key of the stack
    file, objects as JSON text (the bundle's own include is a key like any other to Pulumi)."""
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    config = document.get("config") or {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def cli_launch(
    engine_address: str,
    configure: analyzer_pb2.AnalyzerStackConfigureRequest,
    pack_dir: Path = PACK_DIR,
) -> Launch:
    """The command, working directory and environment pulumi-language-python's RunPlugin
    gives a policy pack (see the module docstring for the sources)."""
    policy = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    runtime = policy["runtime"]
    assert runtime["name"] == "python", "the CLI would look for another language plugin"
    options = runtime.get("options") or {}
    assert isinstance(options.get("virtualenv"), str), "the pack names no virtualenv"
    # uv's toolchain first runs `uv sync --inexact` into that virtualenv (toolchain/uv.go,
    # Command); the suite runs with the environment as synced, so that step is left out.
    assert options.get("toolchain") in ("uv", "pip"), options
    venv = Path(os.path.normpath(pack_dir / options["virtualenv"]))
    python = venv / "bin" / "python"
    assert python.exists(), f"PulumiPolicy.yaml's virtualenv has no {python}"
    assert (pack_dir / "__main__.py").exists(), "RunPlugin would not run `-m pulumi.policy`"
    env = activate_virtualenv(os.environ, venv)
    stack_env = {
        "PULUMI_ORGANIZATION": configure.organization,
        "PULUMI_PROJECT": configure.project,
        "PULUMI_STACK": configure.stack,
        "PULUMI_DRY_RUN": "true" if configure.dry_run else "false",
        "PULUMI_CONFIG": json.dumps(dict(configure.config)),
    }
    env.update({k: v for k, v in stack_env.items() if v})
    # RunPlugin appends the engine's own environment (req.Env) last, and os/exec keeps the
    # last value of a key: the ambient PATH wins over the activated one (the python is named
    # by its path, so the venv's is run all the same).
    env.update(os.environ)
    argv = [str(python), "-u", "-m", "pulumi.policy", engine_address, str(pack_dir)]
    return Launch(argv=argv, cwd=pack_dir, env=env)


class EngineHost(engine_pb2_grpc.EngineServicer):
    """The engine's host server, whose address the CLI passes to every plugin: it records
    what a plugin logs."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, _context: Any) -> empty_pb2.Empty:
        self.logs.append(request.message)
        return empty_pb2.Empty()


@contextmanager
def engine_host() -> Iterator[tuple[str, EngineHost]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    host = EngineHost()
    engine_pb2_grpc.add_EngineServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", host
    finally:
        server.stop(grace=None)


@dataclass
class RunningPack:
    process: subprocess.Popen[bytes]
    port: int
    stub: Any
    stderr_path: Path
    stdout_rest: list[bytes] = field(default_factory=list)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def _read_port(process: subprocess.Popen[bytes], deadline: float) -> int:
    """The first line of stdout, as the proxy's `fmt.Fscanf(stdout, "%d\\n", &port)` reads
    it: anything the pack prints before its port makes the CLI fail."""
    assert process.stdout is not None
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no port from the pack within {START_TIMEOUT} s")
            if not selector.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                raise RuntimeError(f"the pack exited before writing its port: {line!r}")
            line += chunk
    text = line.decode().strip()
    assert text.isdigit(), f"the pack's first line of stdout is not a port: {text!r}"
    return int(text)


def _stop(process: subprocess.Popen[bytes]) -> int:
    """As the CLI ends a plugin it runs itself: an interrupt, then a kill if it has not
    exited (pkg/resource/plugin/plugin.go: InterruptChildren, 5 s, KillChildren). Under
    RunPlugin the language host's command is killed when the engine cancels it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def running_pack(
    configure: analyzer_pb2.AnalyzerStackConfigureRequest,
) -> Iterator[RunningPack]:
    """Start the pack as the CLI does, answer its handshake and stack configuration as the
    CLI does, and stop it in every case."""
    with engine_host() as (address, host), tempfile.TemporaryDirectory() as tmp:
        launch = cli_launch(address, configure)
        stderr_path = Path(tmp) / "stderr"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                launch.argv,
                cwd=launch.cwd,
                env=launch.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        assert process.stdout is not None
        stdout = process.stdout
        channel = None
        drain = None
        try:
            try:
                port = _read_port(process, time.monotonic() + START_TIMEOUT)
            except (TimeoutError, RuntimeError, AssertionError) as exc:
                raise AssertionError(f"{exc}\n{stderr_path.read_text(errors='replace')}") from exc
            pack = RunningPack(process, port, None, stderr_path)
            # The CLI copies the rest of the pack's stdout to its own (policy_proxy.go).
            drain = threading.Thread(
                target=lambda: pack.stdout_rest.extend(iter(lambda: stdout.read(4096), b"")),
                daemon=True,
            )
            drain.start()
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT)
            pack.stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            _handshake(pack.stub, address)
            pack.stub.ConfigureStack(configure, timeout=RPC_TIMEOUT)
            yield pack
            assert host.logs == [], f"the pack logged to the engine: {host.logs}"
        finally:
            if channel is not None:
                channel.close()
            _stop(process)
            if drain is not None:
                drain.join(timeout=STOP_TIMEOUT)
            stdout.close()


def _handshake(stub: Any, engine_address: str) -> None:
    """NewPolicyAnalyzer's handshake: a pack that does not implement it is accepted."""
    request = analyzer_pb2.AnalyzerHandshakeRequest(
        engine_address=engine_address,
        root_directory=str(PACK_DIR),
        program_directory=str(PACK_DIR),
    )
    try:
        stub.Handshake(request, timeout=RPC_TIMEOUT)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise


def stack_configure(
    result: SynthResult, *, dry_run: bool
) -> analyzer_pb2.AnalyzerStackConfigureRequest:
    graph = result.graph
    assert result.loaded.path is not None
    return analyzer_pb2.AnalyzerStackConfigureRequest(
        stack=str(graph["stack"]),
        project=str(graph["project"]),
        organization="organization",  # a DIY backend's (the StackReference names use it)
        dry_run=dry_run,
        config=stack_config(result.loaded.path),
        tags={"pulumi:project": str(graph["project"]), "pulumi:runtime": "python"},
    )


# -- the engine's side: a graph as Analyze and AnalyzeStack requests --------------------------


def wire(value: Any, secrets: Mapping[str, Any], path: str = "") -> Any:
    """A graph value as the engine holds it: the graph's secret marker as a secret around the
    plaintext (`secrets` by property path, else PLAINTEXT), its unknown marker as the unknown
    sentinel."""
    if value == SECRET:
        return {SIG_KEY: SECRET_SIG, "value": secrets.get(path, PLAINTEXT)}
    if value == UNKNOWN:
        return UNKNOWN_STRING
    if isinstance(value, dict):
        assert SIG_KEY not in value
        assert not ({"asset", "archive"} & set(value)), f"{path}: assets are not replayed"
        return {k: wire(v, secrets, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v, secrets, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(props))
    return message


def _package_version(provider_type: str) -> str:
    package = provider_type.removeprefix("pulumi:providers:")
    return importlib.metadata.version(f"pulumi_{package}")


def provider_inputs(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A provider's inputs as the engine holds them: nested config as JSON text (the graph
    decoded it), and the plugin version."""
    props = {
        k: json.dumps(v) if isinstance(v, dict | list | bool) else v
        for k, v in resource["inputs"].items()
    }
    return {**props, "version": _package_version(resource["type"])}


@dataclass
class Replay:
    """What the engine sends the pack for one stack's graph."""

    graph: Mapping[str, Any]
    # property path -> plaintext, per resource URN (the graph writes "[secret]")
    secrets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return str(self.graph["stack"])

    @property
    def project(self) -> str:
        return str(self.graph["project"])

    @property
    def root_urn(self) -> str:
        """resource.DefaultRootStackURN."""
        head = f"urn:pulumi:{self.stack}::{self.project}"
        return f"{head}::pulumi:pulumi:Stack::{self.project}-{self.stack}"

    def _wire(self, resource: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
        value = wire(dict(props), self.secrets.get(resource["urn"], {}))
        assert isinstance(value, dict)
        return value

    def providers(self) -> dict[str, analyzer_pb2.AnalyzerProviderResource]:
        """Every provider by URN, with the default providers the engine creates for custom
        resources that name none (`default_<version>`; `default` for the builtin `pulumi`
        package the StackReference reads through)."""
        found = {}
        for r in self.graph["resources"]:
            if r["type"].startswith("pulumi:providers:"):
                found[r["urn"]] = analyzer_pb2.AnalyzerProviderResource(
                    urn=r["urn"],
                    type=r["type"],
                    name=r["name"],
                    properties=struct(self._wire(r, provider_inputs(r))),
                )
        for r in self.graph["resources"]:
            urn = self._default_provider_urn(r)
            if urn is None or urn in found:
                continue
            typ, name = urn.rsplit("::", 2)[-2:]
            props = {} if name == "default" else {"version": _package_version(typ)}
            found[urn] = analyzer_pb2.AnalyzerProviderResource(
                urn=urn, type=typ, name=name, properties=struct(props)
            )
        return found

    def _default_provider_urn(self, resource: Mapping[str, Any]) -> str | None:
        if not resource["custom"] or resource["provider"]:
            return None
        if resource["type"].startswith("pulumi:providers:"):
            return None
        package = resource["type"].split(":", 1)[0]
        head = f"urn:pulumi:{self.stack}::{self.project}::pulumi:providers:{package}"
        if package == "pulumi":
            return f"{head}::default"
        version = importlib.metadata.version(f"pulumi_{package}").replace(".", "_")
        return f"{head}::default_{version}"

    def provider_of(
        self, resource: Mapping[str, Any], providers: Mapping[str, Any]
    ) -> analyzer_pb2.AnalyzerProviderResource | None:
        urn = resource["provider"] or self._default_provider_urn(resource)
        return providers[urn] if urn else None

    @staticmethod
    def options(resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
        """marshalResourceOptions (aliases the graph records as specs are not URNs yet)."""
        o = resource["options"]
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=bool(o.get("protect")),
            ignoreChanges=list(o.get("ignore_changes") or []),
            deleteBeforeReplace=bool(o.get("delete_before_replace")),
            deleteBeforeReplaceDefined=bool(o.get("delete_before_replace")),
            additionalSecretOutputs=list(o.get("additional_secret_outputs") or []),
            aliases=[a for a in o.get("aliases") or [] if a.startswith("urn:")],
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
            parent=resource["parent"] or "",
        )

    def analyze_requests(self) -> list[analyzer_pb2.AnalyzeRequest]:
        """One per registered resource (the stack, components, providers and custom
        resources; reads are not analyzed), with its inputs and its provider."""
        providers = self.providers()
        requests = []
        for r in self.graph["resources"]:
            if r["read"]:
                continue
            is_provider = r["type"].startswith("pulumi:providers:")
            props = provider_inputs(r) if is_provider else r["inputs"]
            provider = self.provider_of(r, providers)
            request = analyzer_pb2.AnalyzeRequest(
                urn=r["urn"],
                type=r["type"],
                name=r["name"],
                properties=struct(self._wire(r, props)),
                options=self.options(r),
            )
            if provider is not None:
                request.provider.CopyFrom(provider)
            requests.append(request)
        return requests

    def analyze_stack_request(self) -> analyzer_pb2.AnalyzeStackRequest:
        """Every resource of the stack (default providers too) with its outputs: a custom
        resource's inputs and computed outputs, a provider's inputs, the stack's outputs.
        Not what the program only reads, such as the dr stack's StackReference: the engine
        keeps reads apart ("If it's not managed by Pulumi (i.e. it's the result of a Read
        ...), we'll record it in reads", step_executor.go) and AnalyzeResources sends `news`."""
        providers = self.providers()
        edges: dict[str, dict[str, list[str]]] = {}
        for edge in self.graph["edges"]:
            kind = edge["kind"]
            if kind.startswith("input:"):
                deps = edges.setdefault(edge["from"], {}).setdefault(kind.split(":", 1)[1], [])
                deps.append(edge["to"])
        request = analyzer_pb2.AnalyzeStackRequest()
        listed = set()
        for r in self.graph["resources"]:
            if r["read"]:
                continue
            if r["type"].startswith("pulumi:providers:"):
                props = provider_inputs(r)
            elif r["type"] == "pulumi:pulumi:Stack":
                props = self.graph["outputs"]
            else:
                props = {**r["inputs"], **r["computed"]}
            property_deps = edges.get(r["urn"], {})
            dependencies = sorted(
                set(r["options"].get("depends_on") or [])
                | {u for urns in property_deps.values() for u in urns}
            )
            resource = analyzer_pb2.AnalyzerResource(
                urn=r["urn"],
                type=r["type"],
                name=r["name"],
                properties=struct(self._wire(r, props)),
                options=self.options(r),
                parent=r["parent"] or "",
                dependencies=dependencies,
            )
            for prop, urns in sorted(property_deps.items()):
                resource.propertyDependencies[prop].urns.extend(urns)
            provider = self.provider_of(r, providers)
            if provider is not None:
                resource.provider.CopyFrom(provider)
            request.resources.append(resource)
            listed.add(r["urn"])
        used = {self._default_provider_urn(r) for r in self.graph["resources"] if not r["read"]}
        for urn, provider in providers.items():
            if urn not in listed and urn in used:  # a default provider is in the stack too
                request.resources.append(
                    analyzer_pb2.AnalyzerResource(
                        urn=urn,
                        type=provider.type,
                        name=provider.name,
                        properties=provider.properties,
                        options=analyzer_pb2.AnalyzerResourceOptions(
                            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts()
                        ),
                        parent=self.root_urn,
                    )
                )
        return request


@dataclass
class PackRun:
    findings: list[Finding]
    not_applicable: set[str]
    messages: list[str]  # every diagnostic's full message, as the CLI prints it


def _finding(diagnostic: Any, urn: str, descriptions: Mapping[str, str]) -> tuple[Finding, str]:
    """A diagnostic as a finding: pulumi_policy prefixes the rule's message with the policy's
    description and a newline (policy.py, report_violation)."""
    prefix = descriptions[diagnostic.policyName] + "\n"
    assert diagnostic.message.startswith(prefix), diagnostic.message
    assert diagnostic.policyPackName == PACK_NAME
    level = LEVELS[diagnostic.enforcementLevel].value
    finding = (diagnostic.policyName, urn, diagnostic.message[len(prefix) :], level)
    return finding, diagnostic.message


def configure_request(
    info: Any, overrides: Mapping[str, Enforcement]
) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """ReconcilePolicyPackConfig: every policy at its declared level, then the user's config
    (`--policy-pack-config`); pkg/resource/analyzer/config.go."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in info.policies:
        level = overrides.get(policy.name)
        config = request.policyConfig[policy.name]
        config.enforcementLevel = policy.enforcementLevel if level is None else WIRE_LEVELS[level]
        config.properties.CopyFrom(struct_pb2.Struct())
    return request


def drive(
    pack: RunningPack, replay: Replay, overrides: Mapping[str, Enforcement] | None = None
) -> PackRun:
    """What the engine asks of the pack during one update: its info, its configuration, one
    Analyze per resource, one AnalyzeStack."""
    info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    descriptions = {p.name: p.description for p in info.policies}
    pack.stub.Configure(configure_request(info, overrides or {}), timeout=RPC_TIMEOUT)
    findings: list[Finding] = []
    messages: list[str] = []
    for request in replay.analyze_requests():
        response = pack.stub.Analyze(request, timeout=RPC_TIMEOUT)
        assert list(response.not_applicable) == []
        for diagnostic in response.diagnostics:
            # analyzeResource: OnPolicyViolation(r.URN, d)
            finding, message = _finding(diagnostic, request.urn, descriptions)
            findings.append(finding)
            messages.append(message)
    stack_request = replay.analyze_stack_request()
    response = pack.stub.AnalyzeStack(stack_request, timeout=RPC_TIMEOUT)
    listed = {r.urn for r in stack_request.resources}
    for diagnostic in response.diagnostics:
        # resolveStackPolicyViolationURN: a URN of the stack, else the root stack's
        urn = diagnostic.urn if diagnostic.urn in listed else replay.root_urn
        finding, message = _finding(diagnostic, urn, descriptions)
        findings.append(finding)
        messages.append(message)
    return PackRun(
        findings=sorted(findings),
        not_applicable={n.policy_name for n in response.not_applicable},
        messages=messages,
    )


# Stack rules that judge the primary's outputs, which only the dr stack's StackReference
# carries: the engine does not send it (Replay.analyze_stack_request), so in the pack they
# report not-applicable where `resilience check` applies them (and finds the same: nothing
# on the shipped stacks; README "Policies").
NEEDS_REFERENCE = {"resilience-dr-parity"}


def offline(
    graph: Mapping[str, Any], overrides: Mapping[str, Enforcement] | None = None
) -> tuple[list[Finding], set[str]]:
    """What `resilience check` finds on the graph (with the same drill the pack reads), and
    the stack rules the pack reports not-applicable: those with nothing to judge offline,
    and those that need the StackReference."""
    evaluation = evaluate_graph(graph, drill=load_drill(ROOT), enforcement=overrides)
    findings = sorted(
        (f.rule_id, f.urn, f.message, f.enforcement.value) for f in evaluation.findings
    )
    levels = {r.id: (overrides or {}).get(r.id, r.enforcement) for r in STACK_RULES}
    reference = any(r["type"] == "pulumi:pulumi:StackReference" for r in graph["resources"])
    idle = {  # pulumi_policy skips a disabled policy without a word
        r.id
        for r in STACK_RULES
        if (evaluation.checked.get(r.id) == 0 or (reference and r.id in NEEDS_REFERENCE))
        and levels[r.id] is not Enforcement.DISABLED
    }
    return findings, idle


def assert_same_findings(pack: list[Finding], expected: list[Finding]) -> None:
    """Per rule and resource, so a difference names both."""

    def by_key(findings: list[Finding]) -> dict[tuple[str, str], list[tuple[str, str]]]:
        grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for rule, urn, message, level in findings:
            grouped.setdefault((rule, urn), []).append((message, level))
        return grouped

    got, want = by_key(pack), by_key(expected)
    differences = [
        f"{rule} on {urn}:\n  pack:    {got.get((rule, urn))}\n  offline: {want.get((rule, urn))}"
        for rule, urn in sorted(set(got) | set(want))
        if sorted(got.get((rule, urn), [])) != sorted(want.get((rule, urn), []))
    ]
    assert not differences, "\n".join(differences)


def graph_secrets(graph: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(urn, property path) of every value the graph writes as "[secret]"."""
    found: list[tuple[str, str]] = []

    def walk(urn: str, value: Any, path: str) -> None:
        if value == SECRET:
            found.append((urn, path))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(urn, v, f"{path}.{k}" if path else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(urn, v, f"{path}[{i}]")

    for r in graph["resources"]:
        walk(r["urn"], {**r["inputs"], **r["computed"]}, "")
    return found


# -- a preview of a stack that does not exist yet ----------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def fresh_preview(graph: Mapping[str, Any]) -> dict[str, Any]:
    """The graph as `pulumi preview` of a new stack sees it: what providers compute on create
    (ids, ARNs, every other computed output) is unknown, and so is every input value built from
    another resource's unknown output (found through the property dependencies: a value equal
    to a dependency's computed output or id, or a text embedding its ARN or id). Values the
    program sets, and the StackReference's outputs (read during a preview), stay known."""
    preview: dict[str, Any] = copy.deepcopy(dict(graph))
    by_urn = {r["urn"]: r for r in preview["resources"]}
    unknown_of: dict[str, set[str]] = {}
    for r in graph["resources"]:
        if not r["custom"] or r["read"] or r["type"].startswith("pulumi:providers:"):
            continue
        known = set(_strings(r["inputs"]))
        values = {*_strings(r["computed"]), *([r["id"]] if r["id"] else [])}
        unknown_of[r["urn"]] = {v for v in values if v and v not in known}
    deps: dict[str, dict[str, set[str]]] = {}
    for edge in graph["edges"]:
        if edge["kind"].startswith("input:") and edge["to"] in unknown_of:
            prop = edge["kind"].split(":", 1)[1]
            deps.setdefault(edge["from"], {}).setdefault(prop, set()).update(unknown_of[edge["to"]])

    def blank(value: Any, unknown: set[str]) -> Any:
        if isinstance(value, str) and value not in (SECRET, UNKNOWN):
            embedded = any(u in value for u in unknown if u.startswith("arn:") or len(u) >= 12)
            return UNKNOWN if value in unknown or embedded else value
        if isinstance(value, dict):
            return {k: blank(v, unknown) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v, unknown) for v in value]
        return value

    for urn, props in deps.items():
        inputs = by_urn[urn]["inputs"]
        for prop, unknown in props.items():
            if prop in inputs:
                inputs[prop] = blank(inputs[prop], unknown)
    for urn in unknown_of:
        resource = by_urn[urn]
        resource["computed"] = dict.fromkeys(resource["computed"], UNKNOWN)
    return preview


# -- the tests ----------------------------------------------------------------------------------


def test_the_pack_starts_and_describes_itself_as_the_cli_expects(
    synthesized: dict[str, SynthResult],
) -> None:
    configure = stack_configure(synthesized["example-minimal"], dry_run=True)
    with running_pack(configure) as pack:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        plugin = pack.stub.GetPluginInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    assert pack.process.returncode == 0, pack.stderr()  # it stops on the CLI's interrupt
    assert plugin.version == importlib.metadata.version("pulumi_policy")
    assert info.name == PACK_NAME
    assert info.supportsConfig
    every: list[Rule | StackRule] = [*ALL_RULES, *STACK_RULES]
    rules = {r.id: r for r in every}
    assert [p.name for p in info.policies] == list(rules)
    for policy in info.policies:
        rule = rules[policy.name]
        assert LEVELS[policy.enforcementLevel] is rule.enforcement, policy.name
        assert policy.description == rule.description
        assert policy.url == rule.url
        assert policy.remediation_steps == rule.remediation
        severity = analyzer_pb2.PolicySeverity.Name(policy.severity)
        assert severity == f"POLICY_SEVERITY_{rule.severity.value.upper()}"
        stack_rule = rule in STACK_RULES
        assert policy.policy_type == (
            analyzer_pb2.POLICY_TYPE_STACK if stack_rule else analyzer_pb2.POLICY_TYPE_RESOURCE
        )
    assert b"".join(pack.stdout_rest) == b""


@pytest.mark.parametrize("stack", ["primary", "dr", "example-minimal"])
def test_shipped_stacks_over_the_protocol_find_what_resilience_check_finds(
    synthesized: dict[str, SynthResult], stack: str
) -> None:
    """`pulumi up`: every value known (the graph's outputs stand for the provider's), the
    values the program marks secret sent as secrets around a plaintext."""
    graph = synthesized[stack].graph
    secrets = graph_secrets(graph)
    if stack == "primary":  # the database's master password and its Secrets Manager copy
        assert {p for _, p in secrets} >= {"password", "secretString", "result"}
    expected, idle = offline(graph)
    assert expected == []
    with running_pack(stack_configure(synthesized[stack], dry_run=False)) as pack:
        run = drive(pack, Replay(graph))
    assert_same_findings(run.findings, expected)
    assert run.not_applicable == idle
    assert not any(PLAINTEXT in m for m in run.messages)


@pytest.mark.parametrize("stack", ["primary", "dr", "example-minimal"])
def test_a_preview_of_a_new_stack_finds_nothing_in_either_path(
    synthesized: dict[str, SynthResult], stack: str
) -> None:
    """`pulumi preview` before the first `up` (which runs it, with the pack, mandatory): ids,
    ARNs and the inputs built from them are unknown, and no rule judges a value unknown
    (policies/rules/core.py `opaque`): the shipped stacks pass, in the pack as offline. The
    dr stack's pack sees no StackReference, so recovery.stores_from_dr stands in for the
    primary's outputs: the DR bucket's ARN, the replication rule's destination, is unknown
    and the bucket (its 60-minute RPO tag) is the one the configuration waits for."""
    preview = fresh_preview(synthesized[stack].graph)
    unknown = sum(
        1
        for r in preview["resources"]
        for value in _strings(r["inputs"])
        if value == UNKNOWN and not r["type"].startswith("pulumi:")
    )
    assert unknown > 50  # ARNs of keys, topics, roles, buckets ... in the inputs
    expected, idle = offline(preview)
    assert expected == []
    with running_pack(stack_configure(synthesized[stack], dry_run=True)) as pack:
        run = drive(pack, Replay(preview))
    assert_same_findings(run.findings, expected)
    assert run.not_applicable == idle


def _only(graph: Mapping[str, Any], typ: str, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for r in graph["resources"] if r["type"] == typ and r["name"] == name
    ]
    assert len(found) == 1, (typ, name, len(found))
    return found[0]


Secrets = dict[str, dict[str, Any]]
Breaking = Callable[[Mapping[str, Any]], tuple[dict[str, Any], Secrets]]
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def broken_primary(graph: Mapping[str, Any]) -> tuple[dict[str, Any], Secrets]:
    """The primary with one field broken per rule (as tests/test_rules.py breaks fixtures),
    and the plaintexts behind the secrets it holds."""
    broken: dict[str, Any] = copy.deepcopy(dict(graph))
    _only(broken, "aws:kms/key:Key", "reskflow-primary-key")["inputs"]["enableKeyRotation"] = False
    db = _only(broken, "aws:rds/instance:Instance", "reskflow-primary-orders-db")
    db["inputs"]["backupRetentionPeriod"] = 1
    del db["inputs"]["tags"]["backup-policy"]  # no backup selection picks it any more
    check = _only(broken, HEALTH_CHECK, "reskflow-primary-dns-orders-api-https")
    check["inputs"]["failureThreshold"] = 10  # 10 s x 10 = 100 s > 90 s
    _only(broken, "aws:s3/bucket:Bucket", "reskflow-primary-security-audit")["options"][
        "protect"
    ] = False
    # A value a rule reads, marked secret: the rule sees the marker, never the plaintext (7
    # days would fail), and does not judge what it cannot see ...
    secret_logs = _only(broken, LOG_GROUP, "reskflow-primary-monitoring-platform-logs")
    secret_logs["inputs"]["retentionInDays"] = SECRET
    # ... nor one unknown during the preview.
    unknown_logs = _only(broken, LOG_GROUP, "reskflow-primary-monitoring-audit-logs")
    unknown_logs["inputs"]["retentionInDays"] = UNKNOWN
    return broken, {secret_logs["urn"]: {"retentionInDays": 7}}


def broken_dr(graph: Mapping[str, Any]) -> tuple[dict[str, Any], Secrets]:
    """The dr stack with an RTO its plan cannot meet, and a log retention marked secret (its
    plaintext, 7 days, would fail)."""
    broken: dict[str, Any] = copy.deepcopy(dict(graph))
    for r in broken["resources"]:  # every provider that tags (the serving reader does not)
        if r["type"] == "pulumi:providers:aws" and "defaultTags" in r["inputs"]:
            r["inputs"]["defaultTags"]["tags"]["resilience-rto-minutes"] = "5"
    logs = _only(broken, LOG_GROUP, "reskflow-dr-monitoring-platform-logs")
    logs["inputs"]["retentionInDays"] = SECRET
    return broken, {logs["urn"]: {"retentionInDays": 7}}


def secret_threshold_dr(graph: Mapping[str, Any]) -> tuple[dict[str, Any], Secrets]:
    """The dr stack with a health check's failure threshold (which the RTO's detection term
    reads) marked secret: the RTO is not judged. Its plaintext, 10 failures of 10 s, would
    make detection 100 s and break the 15-minute RTO."""
    broken: dict[str, Any] = copy.deepcopy(dict(graph))
    check = _only(broken, HEALTH_CHECK, "reskflow-dr-dns-users-api-https")
    check["inputs"]["failureThreshold"] = SECRET
    return broken, {check["urn"]: {"failureThreshold": 10}}


# The user's policy config for the broken variants: one rule advisory, one off.
OVERRIDES = {
    "aws-kms-key-rotation-enabled": Enforcement.ADVISORY,
    "aws-stateful-resource-protected": Enforcement.DISABLED,
}

BROKEN: dict[str, tuple[str, Breaking, set[tuple[str, str, str]]]] = {
    # What each break must produce, written from the rules (rule id, resource, level); the
    # opaque values produce nothing.
    "primary": (
        "primary",
        broken_primary,
        {
            ("aws-kms-key-rotation-enabled", "reskflow-primary-key", "advisory"),
            ("aws-rds-automated-backups", "reskflow-primary-orders-db", "mandatory"),
            ("aws-backup-every-data-store-selected", "reskflow-primary-orders-db", "mandatory"),
            (
                "aws-route53-health-check-detects-within-90s",
                "reskflow-primary-dns-orders-api-https",
                "mandatory",
            ),
        },
    ),
    "dr": (
        "dr",
        broken_dr,
        {
            ("resilience-rto-achievable", "resilience-dr", "mandatory"),
        },
    ),
    "dr-secret-threshold": ("dr", secret_threshold_dr, set()),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_stack_over_the_protocol_finds_what_resilience_check_finds(
    synthesized: dict[str, SynthResult], case: str
) -> None:
    """A preview with the user's policy config, rule-read values secret and one unknown:
    the same findings, rule by rule and resource by resource, and no plaintext in them."""
    stack, breaking, wanted = BROKEN[case]
    graph, secrets = breaking(synthesized[stack].graph)
    expected, idle = offline(graph, OVERRIDES)
    assert {(rule, urn.rsplit("::", 1)[-1], level) for rule, urn, _, level in expected} == wanted
    with running_pack(stack_configure(synthesized[stack], dry_run=True)) as pack:
        run = drive(pack, Replay(graph, secrets), OVERRIDES)
    assert_same_findings(run.findings, expected)
    assert run.not_applicable == idle
    # The plaintexts are numbers here: the equality above shows no rule saw them (the
    # offline graph holds none); no message carries the shipped secrets' plaintext either.
    assert not any(PLAINTEXT in m for m in run.messages)


def test_the_pack_reads_numbers_secrets_and_unknowns_off_the_wire_as_the_graph_has_them(
    synthesized: dict[str, SynthResult],
) -> None:
    """The regression cases of the adapter (policies/pack.plain, keep_secrets_secret), on one
    log group each. The engine sends 30 as the double 30.0: the rule (>= 30 days, an int)
    must not read it as "never expires", and must print 7 as 7. A secret or unknown retention
    reads as the graph's marker, which the rule does not judge (the secret's plaintext, 7
    days, would fail: the rule never sees it)."""
    graph = synthesized["example-minimal"].graph
    (base,) = (
        r for r in graph["resources"] if r["name"] == "minimal-primary-monitoring-web-app-logs"
    )
    retention = {"thirty": 30, "seven": 7, "secret": SECRET, "unknown": UNKNOWN}
    resources = []
    for label, days in retention.items():
        resource = copy.deepcopy(base)
        resource["name"] = f"logs-{label}"
        resource["urn"] = f"{base['urn'].rsplit('::', 1)[0]}::logs-{label}"
        resource["inputs"]["retentionInDays"] = days
        resources.append(resource)
    kept = [r for r in graph["resources"] if not r["custom"] or "providers:" in r["type"]]
    mini = {**graph, "resources": [*kept, *resources]}
    secret_urn = next(r["urn"] for r in resources if r["name"] == "logs-secret")
    replay = Replay(mini, {secret_urn: {"retentionInDays": 7}})
    with running_pack(stack_configure(synthesized["example-minimal"], dry_run=True)) as pack:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        descriptions = {p.name: p.description for p in info.policies}
        pack.stub.Configure(configure_request(info, {}), timeout=RPC_TIMEOUT)
        reported: dict[str, list[str]] = {}
        for request in replay.analyze_requests():
            if request.type != LOG_GROUP:
                continue
            response = pack.stub.Analyze(request, timeout=RPC_TIMEOUT)
            reported[request.name] = sorted(
                _finding(d, request.urn, descriptions)[0][2] for d in response.diagnostics
            )
    # Written from the rule (policies/rules/monitoring.py, _retention).
    assert reported == {
        "logs-thirty": [],
        "logs-seven": ["logs-seven: logs kept 7 days, fewer than 30"],
        "logs-secret": [],
        "logs-unknown": [],
    }
    offline_found = evaluate_graph(mini).findings
    assert sorted(
        (f.urn.rsplit("::", 1)[-1], f.message)
        for f in offline_found
        if f.rule_id == "aws-cloudwatch-log-group-retention"
    ) == sorted((name, m) for name, messages in reported.items() for m in messages)
