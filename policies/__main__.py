"""CrossGuard entry point: `pulumi preview --policy-pack policies/`.

Only builds the pack; the rules live in importable modules (policies/rules/).
"""

import sys
from pathlib import Path

# The pack runs with policies/ as its working directory; the rules import as `policies.*`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies.pack import PACK_NAME, build_policies, keep_secrets_secret

keep_secrets_secret()  # rules see "[secret]", as in `resilience check`
PolicyPack(
    name=PACK_NAME, policies=build_policies(project_dir=Path(__file__).resolve().parent.parent)
)
