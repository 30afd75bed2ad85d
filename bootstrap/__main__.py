"""`pulumi up` in this directory creates the state backend (see program.py)."""

import sys
from pathlib import Path

# The bundle's packages (components, model) live one directory up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bootstrap.program import main

main()
