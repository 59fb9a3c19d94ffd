"""Settings for the benchmarks: production's, on loopback.

config/settings.py as it loads with DEBUG off, so everything it switches on for production is
in the figures: the security middleware's HTTPS redirect and HSTS, secure cookies, the proxy's
X-Forwarded-Proto trusted, hashed and compressed static files served by WhiteNoise, no
per-query log, prepared statements, and Redis for the cache and the rate limits when REDIS_URL
is set. What stands in for a deployment (bench/_setup.py puts it in the environment, which
gunicorn inherits): a throw-away SECRET_KEY and FIELD_ENCRYPTION_KEYS per run, 127.0.0.1 as
the only host, SITE_URL on it, and static files collected into a temporary folder. What still
differs from a real deployment is listed in bench/README.md.
"""

import os

os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
# Required with DEBUG off (links in emails); the benches send no email that leaves the machine.
os.environ.setdefault("SITE_URL", "http://127.0.0.1")

from config.settings import *  # noqa: F403

if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]

# Only to measure what the per-request `SELECT 1` of the connection health check costs
# (bench/README.md); production keeps it on.
if os.environ.get("BENCH_CONN_HEALTH_CHECKS", "").lower() in ("0", "false", "off"):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
