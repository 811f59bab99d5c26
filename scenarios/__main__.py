"""`python -m scenarios`: the lab's command line."""

import sys

from scenarios.cli import main

sys.exit(main())
