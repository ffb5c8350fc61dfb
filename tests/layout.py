"""The layout checks by hand: `python tests/layout.py` prints what tests/test_layout.py asserts
(import cycles, upward imports, long modules, assignments importing the engine beyond the kit)
and exits 1 when any is found. The logic is in tests/helpers/layout.py."""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.helpers.layout import main

    sys.exit(main())
