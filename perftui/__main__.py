"""`python -m perftui` runs the same entry point as the `perftui` script."""

import sys

from perftui.cli import main

sys.exit(main())
