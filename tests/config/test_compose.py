"""docker-compose.yml, the Dockerfile, .dockerignore and .env.example.

No Docker engine runs where the tests run, so the files are parsed and checked against the
settings; the steps that can run without Docker (collectstatic as the Dockerfile runs it, the
web health check against a real gunicorn) are run for real.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
# The files whose environment variables .env.example must document.
SETTINGS_FILES = [
    ROOT / "config" / "settings.py",
    ROOT / "config" / "embedded_db.py",
    ROOT / "config" / "embedded_redis.py",
    ROOT / "config" / "demo.py",
]
APP_SERVICES = ("web", "worker", "beat")
# Documented in .env.example but read by docker-compose.yml only, never by the settings.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
QUEUES = {"default", "email", "metrics"}


# --- Parsing helpers


def settings_env_names() -> set[str]:
    """Every environment variable the settings files read, found with ast.

    Recognised: env("X"), env.<type>("X") (django-environ), os.environ.get("X"),
    os.environ["X"], os.environ.setdefault("X", ...), os.getenv("X"). A read whose name is not
    a string literal fails the test: it could not be checked against .env.example.
    """
    names: set[str] = set()
    unreadable: list[str] = []
    for path in SETTINGS_FILES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    names.add(key.value)
                else:
                    unreadable.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
                continue
            if not isinstance(node, ast.Call):
                continue
            func = ast.unparse(node.func)
            reads_env = (
                func == "env"
                or (func.startswith("env.") and func.count(".") == 1 and func != "env.read_env")
                or func in {"os.environ.get", "os.environ.setdefault", "os.getenv"}
            )
            if not reads_env:
                continue
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
            else:
                unreadable.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not unreadable, f"environment reads without a literal name: {unreadable}"
    return names


def env_example() -> dict[str, tuple[str, list[str]]]:
    """NAME -> (value, the comment lines directly above it) for each entry of .env.example."""
    entries: dict[str, tuple[str, list[str]]] = {}
    comments: list[str] = []
    for number, raw in enumerate(ENV_EXAMPLE.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line:
            comments = []
        elif line.startswith("#"):
            comments.append(line.lstrip("# "))
        else:
            match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
            assert match, f".env.example line {number} is not NAME=value: {raw!r}"
            name, value = match.groups()
            assert name not in entries, f"{name} is listed twice in .env.example"
            entries[name] = (value, comments)
            comments = []
    return entries


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, Any]:
    return compose()["services"]


def environment_names(service: dict[str, Any]) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return set(environment)
    return {item.split("=", 1)[0] for item in environment}


def environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return {k: str(v) for k, v in environment.items()}
    return dict(item.split("=", 1) for item in environment)


def command_line(service: dict[str, Any]) -> str:
    """The service's command as one string; `sh -c SCRIPT` gives the script."""
    command = service["command"]
    if isinstance(command, str):
        return command
    if command[:2] == ["sh", "-c"]:
        return " ".join(command[2:])
    return shlex.join(command)


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency -> condition (short list syntax means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def healthcheck_test(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, arguments = pending.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def clean_env(**overrides: str) -> dict[str, str]:
    """os.environ without anything the settings read (the test settings set some of them)."""
    drop = settings_env_names() | set(env_example()) | {"DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(overrides)
    return env


def production_env(**overrides: str) -> dict[str, str]:
    return clean_env(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="app.example.com",
        SITE_URL="https://app.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        **overrides,
    )


# --- docker-compose.yml


def test_compose_has_the_five_services() -> None:
    assert set(services()) >= {"postgres", "redis", "web", "worker", "beat"}


def test_compose_images_are_postgres_16_and_redis_7() -> None:
    assert re.fullmatch(r"postgres:16([.-].*)?", services()["postgres"]["image"])
    assert re.fullmatch(r"redis:7([.-].*)?", services()["redis"]["image"])


def test_compose_services_others_depend_on_have_healthchecks() -> None:
    all_services = services()
    depended_on = {dep for service in all_services.values() for dep in depends_on(service)}
    assert depended_on >= {"postgres", "redis"}
    for name in depended_on:
        assert name in all_services, f"{name} is depended on but not defined"
        test = all_services[name].get("healthcheck", {}).get("test")
        assert test and test != ["NONE"], f"{name} is depended on but has no healthcheck"
    assert "pg_isready" in healthcheck_test(all_services["postgres"])
    assert healthcheck_test(all_services["redis"]).split()[-2:] == ["redis-cli", "ping"]


def test_compose_app_services_wait_for_healthy_postgres_and_redis() -> None:
    for name in APP_SERVICES:
        deps = depends_on(services()[name])
        for dep in ("postgres", "redis"):
            assert deps.get(dep) == "service_healthy", f"{name} must wait for a healthy {dep}"


def test_compose_web_builds_the_image_and_publishes_8000() -> None:
    all_services = services()
    web = all_services["web"]
    build = web["build"]
    assert (build if isinstance(build, str) else build.get("context")) == "."
    published = set()
    for port in web.get("ports", []):
        if isinstance(port, dict):
            published.add((str(port.get("published")), str(port["target"])))
        else:
            host, _, container = str(port).rpartition(":")
            published.add((host.rpartition(":")[2], container.split("/")[0]))
    assert ("8000", "8000") in published
    # The worker and beat run the very image the web service builds.
    for name in ("worker", "beat"):
        assert all_services[name].get("image") == web.get("image")
        assert all_services[name].get("build", build) == build


def test_compose_web_migrates_then_serves_with_gunicorn() -> None:
    command = command_line(services()["web"])
    migrate = command.index("python manage.py migrate --no-input")
    gunicorn = command.index("gunicorn config.wsgi:application")
    assert migrate < gunicorn
    # A failed migration must stop the start-up, not fall through to gunicorn.
    assert "&&" in command[migrate:gunicorn]
    assert ";" not in command[migrate:gunicorn]
    assert re.search(r"(--bind|-b)[ =]0\.0\.0\.0:8000\b", command)


def test_compose_web_healthcheck_uses_python_urllib_on_healthz() -> None:
    web = services()["web"]
    test = web["healthcheck"]["test"]
    assert isinstance(test, list)
    assert test[0] == "CMD"
    assert test[1] == "python"
    code = test[-1]
    assert "urllib.request" in code
    assert "http://127.0.0.1:8000/healthz" in code
    assert "curl" not in healthcheck_test(web)
    compile(code, "healthcheck", "exec")  # valid Python


def test_compose_worker_consumes_the_three_queues() -> None:
    from django.conf import settings

    words = shlex.split(command_line(services()["worker"]))
    assert words[:4] == ["celery", "-A", "config.worker", "worker"]
    queues = words[words.index("-Q") + 1] if "-Q" in words else ""
    assert set(queues.split(",")) == QUEUES
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == QUEUES


def test_compose_beat_runs_celery_beat() -> None:
    words = shlex.split(command_line(services()["beat"]))
    assert words[:4] == ["celery", "-A", "config.worker", "beat"]
    # The image's user cannot write to /app: the schedule file must live elsewhere.
    schedule = words[words.index("--schedule") + 1] if "--schedule" in words else ""
    assert schedule.startswith("/tmp/")


def test_compose_app_services_read_env_file_and_point_at_the_services() -> None:
    read_by_settings = settings_env_names()
    for name in APP_SERVICES:
        service = services()[name]
        env_file = service.get("env_file")
        env_files = [env_file] if isinstance(env_file, str) else list(env_file or [])
        assert ".env" in [f if isinstance(f, str) else f.get("path") for f in env_files]
        values = environment(service)
        assert re.fullmatch(r"postgres://[^@]+@postgres:5432/\w+", values["DATABASE_URL"])
        assert re.fullmatch(r"redis://redis:6379/\d+", values["REDIS_URL"])
        unknown = environment_names(service) - read_by_settings
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"


def test_compose_refuses_to_start_the_app_without_site_url() -> None:
    """The web app and the worker (which sends the emails) both build links from it."""
    for name in APP_SERVICES:
        value = environment(services()[name]).get("SITE_URL", "")
        assert re.fullmatch(r"\$\{SITE_URL:\?[^}]+\}", value), f"{name}: SITE_URL={value!r}"


def test_compose_env_names_are_documented_in_env_example() -> None:
    documented = set(env_example())
    used = set()
    for name in APP_SERVICES:
        used |= environment_names(services()[name])
    # Variables compose itself substitutes from .env or the shell: ${NAME}, ${NAME:?...}.
    interpolated = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    assert used, "no environment found for the app services"
    assert interpolated, "no ${...} substitution found in docker-compose.yml"
    assert (used | interpolated) - documented == set()


# --- .env.example


def test_every_env_var_the_settings_read_is_in_env_example() -> None:
    read = settings_env_names()
    # The parser itself must find what is certainly there.
    assert read >= {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "EMBEDDED_POSTGRES_DIR"}
    documented = set(env_example())
    assert read - documented == set(), "undocumented settings variables"
    assert documented - read - COMPOSE_ONLY == set(), "documented variables nothing reads"


def test_env_example_explains_each_variable_and_its_default() -> None:
    for name, (_, comments) in env_example().items():
        text = " ".join(comments)
        assert text.startswith(f"{name}:"), f"{name} needs a comment saying what it does"
        assert "default" in text.lower(), f"{name}'s comment must give its default"


def test_env_example_is_production_oriented() -> None:
    values = {name: value for name, (value, _) in env_example().items()}
    assert values["DEBUG"] == "false"
    assert values["SECURE_SSL_REDIRECT"] == "true"
    assert int(values["SECURE_HSTS_SECONDS"]) > 0
    assert values["CELERY_TASK_ALWAYS_EAGER"] == "false"
    # Secrets are left empty: a copied example must not start with a shared, public secret.
    for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "POSTGRES_PASSWORD"):
        assert values[secret] == "", f"{secret} must be empty in the example"


def _example_values() -> dict[str, str]:
    """.env.example as django-environ reads it (quotes removed)."""
    import environ

    values: dict[str, str] = {}
    original = environ.Env.ENVIRON
    environ.Env.ENVIRON = values  # type: ignore[assignment]
    try:
        environ.Env.read_env(str(ENV_EXAMPLE))
    finally:
        environ.Env.ENVIRON = original
    return values


SHOW_SETTINGS = """
import json
from django.conf import settings
import config.settings as s
print(json.dumps({"DEBUG": s.DEBUG, "EMAIL_BACKEND": s.EMAIL_BACKEND,
                  "DEFAULT_FROM_EMAIL": s.DEFAULT_FROM_EMAIL, "DB": s.DATABASES["default"]["HOST"],
                  "CACHE": s.CACHES["default"]["BACKEND"]}))
"""


def test_env_example_with_its_secrets_filled_in_gives_production_settings() -> None:
    secrets_env = production_env()
    env = clean_env(**_example_values())
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
        env[name] = secrets_env[name]
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {
        "DEBUG": False,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DEFAULT_FROM_EMAIL": "MomentMap <no-reply@example.com>",
        "DB": "postgres",
        "CACHE": "core.cache.FailSoftRedisCache",
    }


def test_env_example_copied_unchanged_refuses_to_start() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=clean_env(**_example_values()),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


# --- Dockerfile and .dockerignore


def test_dockerfile_base_image_install_and_user() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0][0] == "FROM"
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim\S*( AS \w+)?", instructions[0][1], re.I)
    installs = [
        i
        for i, (keyword, args) in enumerate(instructions)
        if keyword == "RUN" and "pip install" in args
    ]
    assert installs, "no pip install in the Dockerfile"
    for i in installs:
        words = shlex.split(instructions[i][1])
        assert "--require-hashes" in words
        assert words[words.index("-r") + 1] == "requirements.lock"
    lock_copy = next(
        i
        for i, (keyword, args) in enumerate(instructions)
        if keyword == "COPY" and "requirements.lock" in args.split()
    )
    assert lock_copy < installs[0]
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the image must not run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # The USER comes after every RUN that needs root, and before the CMD.
    assert keywords.index("USER") > max(installs)
    assert ("EXPOSE", "8000") in instructions


def test_dockerfile_default_command_is_gunicorn_on_port_8000() -> None:
    cmd = [args for keyword, args in dockerfile_instructions() if keyword == "CMD"][-1]
    words = json.loads(cmd)  # exec form: signals reach gunicorn directly
    assert words[0] == "gunicorn"
    assert "config.wsgi:application" in words
    assert any(
        w in {"--bind", "-b"} and words[i + 1] == "0.0.0.0:8000" for i, w in enumerate(words)
    )


def _collectstatic_step() -> tuple[dict[str, str], list[str]]:
    """The collectstatic RUN line: its inline variables and its command."""
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    lines = [args for args in runs if "collectstatic" in args]
    assert len(lines) == 1, "one RUN line must run collectstatic"
    words = shlex.split(lines[0])
    variables = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        variables[name] = value
    return variables, words


def test_dockerfile_build_only_values_stay_on_the_collectstatic_line() -> None:
    variables, command = _collectstatic_step()
    assert command[:3] == ["python", "manage.py", "collectstatic"]
    assert "--no-input" in command or "--noinput" in command
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"} <= set(variables)
    assert variables.get("DEBUG", "false").lower() in {"false", "0", "no", "off"}
    # ENV and ARG would keep them in the image (or its history) for the running container.
    for keyword, args in dockerfile_instructions():
        if keyword in {"ENV", "ARG"}:
            for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "DEBUG"):
                assert not re.search(rf"\b{name}\b", args), f"{keyword} sets {name}"


def _dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    patterns = set(_dockerignore_patterns())
    expected = {".venv", ".data", ".git", ".env", "staticfiles", ".pytest_cache", ".ruff_cache"}
    assert expected <= patterns
    assert ".mypy_cache" in patterns
    assert {"**/__pycache__", "**/*.pyc"} <= patterns


def _ignored(relative: str, patterns: list[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if fnmatch.fnmatch(relative, pattern.strip("/")):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatch(name, pattern[3:]):
            return True
    return False


def test_dockerfile_collectstatic_step_runs_in_the_build_context(tmp_path: Path) -> None:
    """What `docker build` would do: the build context, then the RUN line, without a database."""
    patterns = _dockerignore_patterns()
    context = tmp_path / "app"

    def ignore(directory: str, names: list[str]) -> set[str]:
        base = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else base + "/"
        return {name for name in names if _ignored(prefix + name, patterns)}

    shutil.copytree(ROOT, context, ignore=ignore)
    assert not (context / ".venv").exists()
    assert (context / "requirements.lock").is_file()
    assert (context / "manage.py").is_file()
    variables, command = _collectstatic_step()
    result = subprocess.run(
        [sys.executable, *command[1:]],
        env=clean_env(**variables),
        cwd=context,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((context / "staticfiles" / "staticfiles.json").read_text())
    assert "css/app.css" in manifest["paths"]
    assert not (context / ".data").exists(), "collectstatic must not start the embedded database"
    # Our ES modules import each other by hashed names, so an entry module cached for a year
    # never meets modules of another deploy.
    entry = context / "staticfiles" / manifest["paths"]["js/journey-editor/main.js"]
    imported = re.findall(r'from\s+"(\./[^"]+)"', entry.read_text())
    assert imported, "main.js imports nothing?"
    assert [name for name in imported if not re.search(r"\.[0-9a-f]{12}\.js$", name)] == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_compose_web_healthcheck_passes_against_gunicorn_in_production_mode(
    tmp_path: Path,
) -> None:
    """The healthcheck's request (Host header, HTTPS-redirect exemption) against the real app."""
    port = _free_port()
    # conftest.py has made sure DATABASE_URL names a running server; with REDIS_URL unset the
    # app starts its embedded Redis, here in the test's own folder.
    env = production_env(
        DATABASE_URL=os.environ["DATABASE_URL"], EMBEDDED_REDIS_DIR=str(tmp_path / "redis")
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        test = services()["web"]["healthcheck"]["test"]
        code = test[-1]
        assert "127.0.0.1:8000" in code
        result = subprocess.run(
            [sys.executable, *test[2:-1], code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_dockerfile_compiles_the_message_catalogues_without_gettext(tmp_path: Path) -> None:
    """The image compiles locale/*.po (its .mo files are not committed, nor in the build
    context) with Babel, after the code is copied and before root is dropped."""
    instructions = dockerfile_instructions()
    compiles = [
        i
        for i, (keyword, args) in enumerate(instructions)
        if keyword == "RUN" and args == "python -m core.catalogues compile"
    ]
    assert len(compiles) == 1
    code_copy = instructions.index(("COPY", ". ."))
    user = [i for i, (keyword, _) in enumerate(instructions) if keyword == "USER"][-1]
    assert code_copy < compiles[0] < user
    assert "locale/**/*.mo" in (ROOT / ".dockerignore").read_text().splitlines()
    # The same command on a copy of the catalogues, with no GNU gettext on the PATH.
    shutil.copytree(ROOT / "locale", tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    shutil.copytree(ROOT / "core", tmp_path / "core", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "core.catalogues", "compile"],
        cwd=tmp_path,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Compiled 10 message catalogues."
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("locale/*/*/*.mo")) == [
        f"locale/{language}/LC_MESSAGES/{domain}.mo"
        for language in ("cs", "et", "lt", "lv", "ro")
        for domain in ("django", "djangojs")
    ]
