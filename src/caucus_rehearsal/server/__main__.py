"""``python -m caucus_rehearsal.server``: run the reference server (see runner.main)."""

import sys

from caucus_rehearsal.server.runner import main

sys.exit(main())
