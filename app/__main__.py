"""`python -m app` runs the switchboard CLI."""

import sys

from app.cli import main

sys.exit(main())
