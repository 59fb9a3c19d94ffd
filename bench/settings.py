"""Settings for the benchmarks: the local configuration (DEBUG=true: no secrets needed, plain
HTTP, unhashed static files), measured as production runs it: DEBUG itself off, so there is
no per-query log and no debug template engine in the figures."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403

DEBUG = False

# Only to measure what the per-request `SELECT 1` of the connection health check costs
# (bench/README.md); production keeps it on.
if os.environ.get("BENCH_CONN_HEALTH_CHECKS", "").lower() in ("0", "false", "off"):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
