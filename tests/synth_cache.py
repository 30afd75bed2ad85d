"""Synthesized stacks shared by every test process of a run (pytest-xdist workers) and by
later runs of the same tree: a synth is deterministic (the same code and config give a
byte-identical graph: tests/test_engine.py), so its result is keyed by everything it reads.

The key hashes every Python source outside tests/, every YAML file of the project (stack
files, systems, examples), uv.lock (the installed packages) and RESILIENCE_TODAY. The first
process to need a key synthesizes and writes it under an exclusive lock; the others wait for
the lock and read it. A change to any input is a new key; nothing is ever stale.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from model.loader import LoadedConfig
from scripts.engine import SynthResult

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".pytest_cache" / "resilience-synth"
_SKIP = {".venv", ".tools", ".git", "tests", "out", "node_modules", ".pytest_cache"}


def _inputs() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if parts and parts[0] in _SKIP:
            continue
        if path.suffix in (".py", ".yaml", ".yml") and path.is_file():
            found.append(path)
    return sorted([*found, ROOT / "uv.lock"])


@functools.cache
def tree_key() -> str:
    """One digest of everything a synth of this tree can read."""
    digest = hashlib.sha256(os.environ.get("RESILIENCE_TODAY", "").encode())
    for path in _inputs():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def cached_synth(
    name: str,
    loaded: Sequence[LoadedConfig],
    synthesize: Callable[[Sequence[LoadedConfig]], list[SynthResult]],
) -> list[SynthResult]:
    """`synthesize(loaded)`, or what another process of this tree already wrote for `name`
    (the loaded configs are the caller's; graphs and outputs come from the cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stacks = [c.stack for c in loaded]
    path = CACHE / f"{name}-{tree_key()}.json"
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.exists():
                stored = json.loads(path.read_text())
                if [s["stack"] for s in stored] == stacks:
                    return [
                        SynthResult(loaded=c, graph=s["graph"], outputs=s["outputs"])
                        for c, s in zip(loaded, stored, strict=True)
                    ]
            results = synthesize(loaded)
            document = [{"stack": r.stack, "graph": r.graph, "outputs": r.outputs} for r in results]
            for old in CACHE.glob(f"{name}-*.json"):  # another tree's: never read again
                old.unlink(missing_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(document))
            os.replace(temporary, path)
            return results
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
