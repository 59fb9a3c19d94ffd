# syntax=docker/dockerfile:1
# MomentMap: one image for the web server (gunicorn) and for the Celery worker and beat
# (docker-compose.yml overrides the command for those). Settings come from the environment
# at run time; see .env.example.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# Dependencies before the code, so that a code change does not reinstall them. Every
# package in the lock is pinned with its hashes: pip refuses anything unpinned or altered.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .

# The message catalogues compiled (Babel, no GNU gettext); .mo files are not committed.
RUN python -m core.catalogues compile

# Static files are collected into the image; whitenoise serves them. With DEBUG off the
# settings refuse to load without these variables, so this one step gets throwaway,
# build-only values inline. They are not ENV: nothing of them reaches the running image.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-key-not-used-at-run-time \
    ALLOWED_HOSTS=localhost \
    SITE_URL=http://localhost \
    FIELD_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --no-input

# The code stays owned by root and read-only for the service user; Celery beat keeps its
# schedule file under /tmp (see docker-compose.yml).
RUN groupadd --system --gid 10001 momentmap \
    && useradd --system --uid 10001 --gid momentmap --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin momentmap
USER 10001:10001

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
