"""Single static files taken from installed Python packages.

The pinned Python package is the one source of a third-party asset (no CDN, no copy in
static/): collectstatic picks the file up like any other static file, so whitenoise serves it
compressed under a hashed name with a year's caching, and the browser tests' live server
finds it too. Only the listed files are exposed, not the rest of the package's data.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

# static path -> (package, file inside the package)
PACKAGE_FILES: dict[str, tuple[str, str]] = {
    "vendor/plotly.min.js": ("plotly", "package_data/plotly.min.js"),
}


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class PackageFileFinder(BaseFinder):
    def _locate(self, static_path: str) -> Path | None:
        package, relative = PACKAGE_FILES[static_path]
        directory = _package_dir(package)
        if directory is None:
            return None
        path = directory / relative
        return path if path.is_file() else None

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        return [
            Error(
                f"{static_path}: {package}/{relative} is not installed",
                id="config.E101",
            )
            for static_path, (package, relative) in PACKAGE_FILES.items()
            if self._locate(static_path) is None
        ]

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        # Django 5.2 renamed `all` to `find_all`; accept both spellings.
        find_all = find_all or kwargs.get("all", False)
        located = self._locate(path) if path in PACKAGE_FILES else None
        if located is None:
            return [] if find_all else None
        return [str(located)] if find_all else str(located)

    def list(self, ignore_patterns: Any) -> Any:
        for static_path in PACKAGE_FILES:
            located = self._locate(static_path)
            if located is None:
                continue
            prefix, _slash, name = static_path.rpartition("/")
            storage = FileSystemStorage(location=str(located.parent))
            storage.prefix = prefix  # type: ignore[attr-defined]  # read by collectstatic
            yield name, storage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's compressed, hashed storage, which also rewrites the imports between our
    own ES modules (static/js/) to hashed names: otherwise the entry module would be hashed and
    cached for a year while the modules it imports keep their plain names, and a browser could
    mix a new entry module with old ones after a deploy. Only our files: a package's modules
    may import files that do not exist (django-htmx's extensions do), which would fail
    collectstatic."""

    patterns = (
        *CompressedManifestStaticFilesStorage.patterns,
        ("js/*.js", CompressedManifestStaticFilesStorage._js_module_import_aggregation_patterns[1]),
    )
