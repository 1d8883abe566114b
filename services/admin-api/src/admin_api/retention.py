"""``python -m admin_api.retention``: the retention job, for the admin-api image's CronJob.

The same as ``intake retention run``: erase records older than ``RETENTION_DAYS`` (default 730),
print what was done as one JSON line.
"""

from __future__ import annotations

import sys

from intake_core.cli import main

if __name__ == "__main__":
    sys.exit(main(["retention", "run", *sys.argv[1:]]))
