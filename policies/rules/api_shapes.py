"""AWS's own API models (botocore's service-2 models, offline) applied to Pulumi inputs.

The mapping table (policies/rules/api_models.py) says, per resource kind, which API request
its inputs become and which request member each input fills; this module loads the models
(each once), resolves member paths, translates the models' Java regular expressions and
checks values against the shapes' constraints: enum, pattern, length, numeric range, list
and map sizes, and required members.

How AWS applies a shape's constraints is what its validation errors show: a value is checked
against the whole pattern, not searched for a match. "Value 'testServiceName:latest-metrics'
at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression
pattern: [\\.\\-_/#A-Za-z0-9]+" (awslabs/aws-embedded-metrics-java#65): that value contains
runs that match, and is still refused. Lengths count characters (Unicode code points), as
botocore's own parameter validation does (botocore/validate.py, `_validate_string`).
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape, StringShape, StructureShape

# Values a rule cannot judge: unknown until the engine creates another resource, or secret
# (policies/rules/core.py `opaque`).
from policies.rules.core import SECRET, UNKNOWN

QUOTE_MAX = 80


@dataclass(frozen=True)
class F:
    """One Pulumi input (its wire name is the key that maps to it) as an API member.

    path: the member path from the parent's shape, dotted; `Name[]` steps into the elements
    of list member `Name`; "" is the parent's shape itself (a Pulumi object whose fields are
    members of the enclosing structure).
    fields: a Pulumi object's (or each list element's) fields, paths relative to `path`.
    pairs: a Pulumi map becomes a list of {key, value} structures with these member names
    (CloudWatch dimensions: {Name, Value}; tags: {Key, Value}).
    keyed: a Pulumi list of objects becomes a map from one field's value to another's
    (Budgets cost filters: [{name, values}] -> {name: values}).
    join: a Pulumi list sent as one string joined by this separator.
    json: the input is JSON text of the API shape itself (member names as keys).
    operation: the request this input goes to, when not the kind's own.
    provider_values: values the provider accepts beyond the API's enum and handles without
    sending them (with why, in the table's comment).
    autoname: when absent, pulumi-aws names the resource `<logical name>-<7 hex>` within
    this many characters; that name is checked instead.
    defaults / unchecked: nested fields the provider fills when absent / deliberately not
    mapped (field name -> why).
    """

    path: str
    fields: Mapping[str, F | str] = field(default_factory=dict)
    pairs: tuple[str, str] | None = None
    keyed: tuple[str, str] | None = None
    join: str | None = None
    json: bool = False
    operation: str | None = None
    provider_values: tuple[str, ...] = ()
    autoname: int | None = None
    defaults: Mapping[str, str] = field(default_factory=dict)
    unchecked: Mapping[str, str] = field(default_factory=dict)


Spec = F | str


@dataclass(frozen=True)
class Api:
    """A resource kind's API request: service (botocore's name), operation, and per Pulumi
    input its member path (`F` or a plain path). defaults: inputs the provider fills when
    absent (input -> how), so the API's requiring them is no finding; unchecked: inputs not
    mapped (input -> why)."""

    service: str
    operation: str
    fields: Mapping[str, Spec]
    defaults: Mapping[str, str] = field(default_factory=dict)
    unchecked: Mapping[str, str] = field(default_factory=dict)


def as_f(spec: Spec) -> F:
    return spec if isinstance(spec, F) else F(spec)


# --- the models -----------------------------------------------------------------------------


@functools.cache
def _loader() -> Loader:
    return Loader()


@functools.cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of one service, loaded once per process."""
    return ServiceModel(_loader().load_service_model(service, "service-2"), service)


@functools.cache
def input_shape(service: str, operation: str) -> StructureShape:
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        raise PathError(f"{service}.{operation} takes no input")
    return shape


class PathError(LookupError):
    """A member path names a member the model does not have."""


@dataclass(frozen=True)
class Target:
    shape: Shape
    label: str  # the member path as the API names it, e.g. "BackupPlan.Rules[].RuleName"
    required: bool  # every step is a required member of its parent


def resolve(shape: Shape, path: str, label: str = "") -> Target:
    """The shape at a member path below `shape` (see `F.path`)."""
    required = True
    current = shape
    if path:
        for step in path.split("."):
            into_list = step.endswith("[]")
            name = step.removesuffix("[]")
            if not isinstance(current, StructureShape) or name not in current.members:
                raise PathError(f"{current.name} has no member {name!r} (path {path!r})")
            required = required and name in current.required_members
            current = current.members[name]
            label = f"{label}.{name}" if label else name
            if into_list:
                if current.type_name != "list":
                    raise PathError(f"{name} is a {current.type_name}, not a list ({path!r})")
                current = current.member  # type: ignore[attr-defined]
                label += "[]"
    return Target(current, label, required)


# --- Java regular expressions ---------------------------------------------------------------


class Untranslatable(ValueError):
    """A Java construct with no faithful Python equivalent here."""


# Java's POSIX classes (java.util.regex.Pattern, "POSIX character classes (US-ASCII only)").
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7F",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0B\\f\\r",
}


@functools.cache
def _categories() -> dict[str, list[tuple[int, int]]]:
    """Code point ranges per Unicode general category (major and minor), from Python's
    Unicode database: Java's \\p{L}, \\p{Lu}, ... name the same categories."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        for key in (category, category[0]):
            spans = ranges.setdefault(key, [])
            if spans and spans[-1][1] == code - 1:
                spans[-1] = (spans[-1][0], code)
            else:
                spans.append((code, code))
    return ranges


def _class_text(spans: list[tuple[int, int]]) -> str:
    return "".join(f"\\U{a:08X}" if a == b else f"\\U{a:08X}-\\U{b:08X}" for a, b in spans)


def _property(name: str) -> str:
    """A \\p{...} property as character-class contents."""
    if name in _POSIX:
        return _POSIX[name]
    category = name.removeprefix("Is")
    spans = _categories().get(category)
    if spans is None:
        raise Untranslatable(f"\\p{{{name}}}")
    return _class_text(spans)


def _hex4(text: str, at: int) -> int:
    digits = text[at : at + 4]
    if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise Untranslatable(f"malformed \\u escape at {at}")
    return int(digits, 16)


def translate(pattern: str) -> str:
    """A Java (java.util.regex) pattern as a Python `re` pattern of the same language, for the
    constructs botocore's models use: \\uXXXX escapes (surrogate pairs as one code point, as
    Java reads them), \\x{...}, \\p{...} POSIX classes and Unicode categories, \\Q...\\E,
    \\z, inline flags in mid-pattern (scoped to their group, as in Java), named groups.
    Compile the result with re.ASCII: Java's \\w, \\d, \\s and case folding are ASCII-only
    by default. Raises Untranslatable for what it cannot render faithfully (class
    intersection or nesting, \\P inside a class, \\G, \\R, ...)."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    # Per open group: how many scoped flag groups were opened inside it (closed with it).
    scoped: list[int] = [0]
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise Untranslatable("trailing backslash")
            e = pattern[i + 1]
            if e == "u":
                code = _hex4(pattern, i + 2)
                i += 6
                if 0xD800 <= code <= 0xDBFF and pattern[i : i + 2] == "\\u":
                    low = _hex4(pattern, i + 2)
                    if 0xDC00 <= low <= 0xDFFF:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                out.append(f"\\U{code:08X}")
                continue
            if e == "x" and pattern[i + 2 : i + 3] == "{":
                end = pattern.index("}", i)
                out.append(f"\\U{int(pattern[i + 3 : end], 16):08X}")
                i = end + 1
                continue
            if e in "pP":
                if pattern[i + 2 : i + 3] == "{":
                    end = pattern.index("}", i)
                    name = pattern[i + 3 : end]
                    i = end + 1
                else:
                    name = pattern[i + 2]
                    i += 3
                body = _property(name)
                if e == "P":
                    if in_class:
                        raise Untranslatable(f"\\P{{{name}}} inside a character class")
                    out.append(f"[^{body}]")
                else:
                    out.append(body if in_class else f"[{body}]")
                if in_class and pattern[i : i + 1] == "-":
                    out.append("\\-")  # Java: a dash after a class escape is literal
                    i += 1
                continue
            if e == "Q":
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end
                out.append(re.escape(pattern[i + 2 : end]))
                i = end + 2
                continue
            if e == "z":
                out.append("\\Z")
                i += 2
                continue
            if e == "Z":
                out.append("(?=\\n?\\Z)")
                i += 2
                continue
            if e in "GRXhHvVkKcN0" or (e.isdigit() and in_class):
                raise Untranslatable(f"\\{e}")
            out.append(pattern[i : i + 2])
            i += 2
            if in_class and e in "wdsWDS" and pattern[i : i + 1] == "-":
                out.append("\\-")  # Java: a dash after a class escape is literal
                i += 1
            continue
        if in_class:
            if c == "[":
                raise Untranslatable("a character class inside a character class (union)")
            if c == "&" and pattern[i + 1 : i + 2] == "&":
                raise Untranslatable("character class intersection (&&)")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            continue
        if c == "(":
            if pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
                out.append("(?P<")
                i += 3
                scoped.append(0)
                continue
            flags = re.match(r"\(\?([a-zA-Z]*)(-[a-zA-Z]*)?\)", pattern[i:])
            if flags:
                text = flags.group(0)
                if not all(f in "imsux-" for f in text[2:-1]):
                    raise Untranslatable(f"inline flags {text}")
                py_flags = text[2:-1].replace("u", "").replace("x", "")
                if not py_flags.strip("-"):
                    i += len(text)
                    continue
                if "x" in text:
                    raise Untranslatable("comments mode (?x)")
                # Java: the flags hold to the end of the enclosing group; Python wants them
                # scoped, so open a group that closes with the enclosing one.
                out.append(f"(?{py_flags}:")
                scoped[-1] += 1
                i += len(text)
                continue
            scoped.append(0)
            out.append(c)
            i += 1
            continue
        if c == ")":
            out.append(")" * scoped.pop())
            if not scoped:
                raise Untranslatable("unbalanced parenthesis")
            out.append(")")
            i += 1
            continue
        out.append(c)
        i += 1
    if in_class or len(scoped) != 1:
        raise Untranslatable("unterminated class or group")
    out.append(")" * scoped[0])
    return "".join(out)


# Patterns of mapped members that `translate` cannot render, with why they are not checked.
# tests/test_api_models.py walks every mapped member and fails on one that is neither
# translatable nor listed here.
UNCHECKED_PATTERNS: dict[str, str] = {}


# Patterns whose literal text is a "contains" test, not a whole-value shape: tflint-ruleset-aws
# reads a bare \S as ".*\S.*" for the same reason (rules/models/generator/rule.go).
_CONTAINS = {"\\S": "(?s:.*\\S.*)"}


@functools.cache
def compiled(pattern: str) -> re.Pattern[str] | str:
    """The pattern, compiled for a whole-value match; or why it cannot be checked."""
    try:
        text = _CONTAINS.get(pattern) or translate(pattern)
        return re.compile(text, re.ASCII)
    except (Untranslatable, re.error, ValueError) as error:
        return f"{type(error).__name__}: {error}"


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    service: str
    operation: str
    skip: frozenset[str]  # string values that are other resources' outputs
    logical: str  # the resource's logical name (what Pulumi auto-names from)


# What pulumi-aws appends to a logical name: "-" and 7 random hex digits (the bridge's
# tfbridge.AutoName uses resource.NewUniqueHex(name+"-", 7, maxlen)).
AUTONAME_SUFFIX = "-0000000"


def absent(value: Any) -> bool:
    """Unset, or an empty list or map: the provider sends no member for those."""
    return value is None or value in ([], {})


def quote(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= QUOTE_MAX:
        return text
    length = f" ({len(value)} chars)" if isinstance(value, str) else ""
    return text[: QUOTE_MAX - 1] + "…" + length


def skipped(value: Any, ctx: Context) -> bool:
    return isinstance(value, str) and (value in (UNKNOWN, SECRET) or value in ctx.skip)


def _where(ctx: Context, label: str) -> str:
    return f"{ctx.service}.{ctx.operation} {label}"


def _enum_text(values: list[str]) -> str:
    shown = ", ".join(values[:12])
    return shown + (f", … ({len(values)} values)" if len(values) > 12 else "")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _scalar(
    value: Any, shape: Shape, spec: F, *, label: str, prop: str, ctx: Context
) -> Iterator[str]:
    meta = shape.metadata
    kind = shape.type_name
    # A member the model marks sensitive (secret values, passwords) is never quoted.
    shown = "(sensitive)" if meta.get("sensitive") else quote(value)
    if kind == "string":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return
        text = value if isinstance(value, str) else str(value)
        enum = shape.enum if isinstance(shape, StringShape) else []
        if enum and text not in enum and text not in spec.provider_values:
            yield f"{prop}={shown}: {_where(ctx, label)}: enum {_enum_text(enum)}"
        if "min" in meta and len(text) < meta["min"]:
            yield (
                f"{prop}={shown}: {_where(ctx, label)}: min length {meta['min']} (is {len(text)})"
            )
        if "max" in meta and len(text) > meta["max"]:
            yield (
                f"{prop}={shown}: {_where(ctx, label)}: max length {meta['max']} (is {len(text)})"
            )
        pattern = meta.get("pattern")
        if pattern:
            regex = compiled(pattern)
            if isinstance(regex, str):
                if pattern not in UNCHECKED_PATTERNS:
                    yield (
                        f"{prop}={shown}: {_where(ctx, label)}: pattern {pattern} "
                        f"cannot be checked ({regex}); add it to UNCHECKED_PATTERNS with why"
                    )
            elif not regex.fullmatch(text):
                yield f"{prop}={shown}: {_where(ctx, label)}: pattern {pattern}"
    elif kind in ("integer", "long", "double", "float"):
        number = _number(value)
        if number is None:
            return
        if "min" in meta and number < meta["min"]:
            yield f"{prop}={shown}: {_where(ctx, label)}: min {meta['min']}"
        if "max" in meta and number > meta["max"]:
            yield f"{prop}={shown}: {_where(ctx, label)}: max {meta['max']}"


def _count(n: int, shape: Shape, label: str, prop: str, ctx: Context) -> Iterator[str]:
    meta = shape.metadata
    if "min" in meta and n < meta["min"]:
        yield f"{prop} ({n} items): {_where(ctx, label)}: min {meta['min']} items"
    if "max" in meta and n > meta["max"]:
        yield f"{prop} ({n} items): {_where(ctx, label)}: max {meta['max']} items"


IDENTITY = F("", fields={})  # json inputs: the keys are the members' own names

# Plans per (spec, shape, label) and element specs per spec, built once: the table and the
# models live as long as the process, so their ids are stable (the values keep them alive).
_PLANS: dict[tuple[int, int, str], tuple[list[tuple[str, F, Target]], F, Shape]] = {}
_ELEMENTS: dict[int, tuple[F, F]] = {}


def _plan(spec: F, shape: Shape, label: str) -> list[tuple[str, F, Target]]:
    key = (id(spec), id(shape), label)
    cached = _PLANS.get(key)
    if cached is None:
        fields = []
        for name, raw in spec.fields.items():
            fspec = as_f(raw)
            fields.append((name, fspec, resolve(shape, fspec.path, label)))
        cached = _PLANS[key] = (fields, spec, shape)
    return cached[0]


def _element(spec: F) -> F:
    """The spec of one element (a list's) or value (a map's) of what `spec` maps."""
    if spec is IDENTITY:
        return IDENTITY
    cached = _ELEMENTS.get(id(spec))
    if cached is None:
        cached = _ELEMENTS[id(spec)] = (spec, F("", fields=spec.fields))
    return cached[1]


@functools.cache
def _pair_spec(key: str, val: str) -> F:
    return F("", fields={key: key, val: val})


def check(
    value: Any, shape: Shape, spec: F, *, label: str, prop: str, ctx: Context
) -> Iterator[str]:
    """Every constraint of `shape` the value breaks, as messages naming `prop`."""
    if absent(value) or skipped(value, ctx):
        return
    if spec.join is not None and isinstance(value, list):
        if any(skipped(v, ctx) for v in value):
            return
        value = spec.join.join(str(v) for v in value)
    if spec.json and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return  # not JSON text: the provider refuses it before AWS sees it
        spec = IDENTITY
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if isinstance(value, list):  # a Pulumi list of at most one object
            for i, item in enumerate(value):
                yield from check(item, shape, spec, label=label, prop=f"{prop}[{i}]", ctx=ctx)
        elif isinstance(value, dict):
            yield from check_object(value, shape, spec, label=label, prop=prop, ctx=ctx)
        return
    if kind == "list":
        member: Shape = shape.member  # type: ignore[attr-defined]
        element = _element(spec)
        items: list[tuple[str, Any]]
        if isinstance(value, dict) and spec.pairs is not None:
            key, val = spec.pairs
            items = [(f"{prop}[{k!r}]", {key: k, val: v}) for k, v in value.items()]
            element = _pair_spec(key, val)
        elif isinstance(value, dict):
            items = [(prop, value)]
        elif isinstance(value, list):
            items = [(f"{prop}[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(prop, value)]
        yield from _count(len(items), shape, label, prop, ctx)
        for item_prop, item in items:
            yield from check(item, member, element, label=label + "[]", prop=item_prop, ctx=ctx)
        return
    if kind == "map":
        if isinstance(value, list) and spec.keyed is not None:
            key, val = spec.keyed
            value = {i.get(key): i.get(val) for i in value if isinstance(i, dict)}
        if not isinstance(value, dict):
            return
        yield from _count(len(value), shape, label, prop, ctx)
        key_shape: Shape = shape.key  # type: ignore[attr-defined]
        value_shape: Shape = shape.value  # type: ignore[attr-defined]
        inner = _element(spec)
        for k, v in value.items():
            yield from check(
                k, key_shape, F(""), label=f"{label} (key)", prop=f"{prop} key", ctx=ctx
            )
            yield from check(
                v, value_shape, inner, label=f"{label}[{k}]", prop=f"{prop}[{k!r}]", ctx=ctx
            )
        return
    if isinstance(value, list):  # a Pulumi list into one member of each API element
        for i, item in enumerate(value):
            yield from check(item, shape, spec, label=label, prop=f"{prop}[{i}]", ctx=ctx)
        return
    yield from _scalar(value, shape, spec, label=label, prop=prop, ctx=ctx)


def check_object(
    obj: Mapping[str, Any],
    shape: StructureShape,
    spec: F,
    *,
    label: str,
    prop: str,
    ctx: Context,
) -> Iterator[str]:
    """A Pulumi object's fields against the structure they fill, and the structure's required
    members that a mapped field would fill but none does (unless the provider fills it)."""
    if spec is IDENTITY:
        for name, value in obj.items():
            if name in shape.members:
                sub = shape.members[name]
                where = f"{label}.{name}" if label else name
                yield from check(value, sub, IDENTITY, label=where, prop=f"{prop}.{name}", ctx=ctx)
        return
    wanted: dict[str, list[str]] = {}  # required target -> the fields that would fill it
    filled: set[str] = set()
    for name, fspec, target in _plan(spec, shape, label):
        value = obj.get(name)
        child = f"{prop}.{name}" if prop else name
        if not absent(value):
            yield from check(value, target.shape, fspec, label=target.label, prop=child, ctx=ctx)
            filled.add(target.label)
        elif fspec.autoname is not None:
            generated = ctx.logical + AUTONAME_SUFFIX
            auto = Context(ctx.service, ctx.operation, frozenset(), ctx.logical)
            for message in check(
                generated, target.shape, fspec, label=target.label, prop=child, ctx=auto
            ):
                yield message.replace(f"{child}=", f"{child} (auto-named)=", 1)
            filled.add(target.label)
        elif name in spec.defaults:
            filled.add(target.label)
        if target.required and fspec.path:
            wanted.setdefault(target.label, []).append(name)
    for where, names in wanted.items():
        if where not in filled:
            fields = "/".join(f"{prop}.{n}" if prop else n for n in names)
            yield f"{fields} missing: {_where(ctx, where)}: required"


_REQUESTS: dict[int, tuple[Api, list[tuple[str, F]]]] = {}


def requests(api: Api) -> list[tuple[str, F]]:
    """The kind's requests: (operation, the spec of the inputs it carries), the kind's own
    operation first."""
    cached = _REQUESTS.get(id(api))
    if cached is None:
        by_operation: dict[str, dict[str, Spec]] = {api.operation: {}}
        for name, raw in api.fields.items():
            operation = as_f(raw).operation or api.operation
            by_operation.setdefault(operation, {})[name] = raw
        specs = [(op, F("", fields=f, defaults=api.defaults)) for op, f in by_operation.items()]
        cached = _REQUESTS[id(api)] = (api, specs)
    return cached[1]


def check_resource(
    api: Api, props: Mapping[str, Any], skip: frozenset[str], logical: str
) -> Iterator[str]:
    """Every API constraint a resource's inputs break, request by request."""
    for operation, spec in requests(api):
        if operation != api.operation and all(absent(props.get(n)) for n in spec.fields):
            continue  # the provider makes this call only for the inputs it carries
        ctx = Context(api.service, operation, skip, logical)
        shape = input_shape(api.service, operation)
        yield from check_object(props, shape, spec, label="", prop="", ctx=ctx)
