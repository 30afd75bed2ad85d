"""Pulumi entry point: load and validate this stack's config, then run the program for its role.

An invalid config stops here, before any resource is registered, with every problem listed.
"""

import pulumi

from model.loader import ConfigError, load_from_runtime
from stacks import run

try:
    loaded = load_from_runtime()
except ConfigError as error:
    # RunError prints the message without a Python traceback: one line per problem.
    raise pulumi.RunError(f"invalid stack config:\n{error}") from None

run(loaded.config, loaded.stack)
