"""The staff UI's message catalogues under `locale/`: compiling and checking them.

`python -m core.catalogues compile` turns every `locale/<lang>/LC_MESSAGES/*.po` into its
`.mo` with Babel, so that neither `make` nor the Docker image needs GNU gettext (the `.mo`
files are build output and are not committed). `python -m core.catalogues check` lists what
CI refuses: an entry without a translation (every plural form counts), a fuzzy entry, a
translation whose placeholders differ from its msgid's, a header whose plural forms do not
match the language's, and a catalogue out of step with the code: a string marked in Python,
a template or static/js that no catalogue has (run `makemessages`, README "Adding a
language"), or an entry whose string the code no longer has. That comparison extracts the
strings with Babel and Django's own template-to-gettext step, as `makemessages` does with
GNU xgettext, so it needs no GNU gettext either.

Nothing here needs Django's settings, so it runs before they can load (the Docker build).
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_javascript, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
# Where makemessages looks, less what it is told to ignore (see the README).
SOURCE_SKIP = {".venv", "tests", "bench", "staticfiles", "node_modules", ".data", "locale"}
# The gettext functions, as Babel spells their arguments: (context, singular, plural).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
# An entry as the comparison sees it: (context, msgid, msgid_plural).
Key = tuple[str | None, str, str | None]

# How many plural forms each language's catalogue must have (gettext's own rules: Lithuanian,
# Latvian, Czech and Romanian three, Estonian two).
PLURAL_FORMS = {"lt": 3, "lv": 3, "et": 2, "cs": 3, "ro": 3}

# printf-style (`%(name)s`, `%s`, `%d`; `%%` is a literal percent sign) and brace-style
# (`{name}`, `{0}`, `{}`) placeholders. `{{` and `}}` are literal braces in str.format.
_PRINTF = re.compile(r"%(?:\((?P<name>[^)]+)\))?[-#0 +]*\d*(?:\.\d+)?(?P<kind>[sdifrxXeEgGc%])")
_BRACE = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*|\d*)\}(?!\})")


@dataclass(frozen=True)
class Problem:
    path: Path
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}: {self.msgid[:70]!r}"


def catalogue_paths(base: Path = LOCALE_DIR) -> list[Path]:
    return sorted(base.glob("*/LC_MESSAGES/*.po"))


def placeholders(text: str) -> frozenset[str]:
    """The placeholders a string uses, as a set of their spellings."""
    found = {m.group(0) for m in _PRINTF.finditer(text) if m.group("kind") != "%"}
    found |= {"{" + m.group(1) + "}" for m in _BRACE.finditer(text)}
    return frozenset(found)


def _read(path: Path) -> Catalog:
    locale = path.parent.parent.name
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=path.stem)


def _translations(message: Message) -> list[str]:
    if isinstance(message.string, tuple | list):
        return list(message.string)
    return [message.string or ""]


def catalogue_problems(path: Path) -> list[Problem]:
    """Everything in one catalogue that CI refuses."""
    catalogue = _read(path)
    language = path.parent.parent.name
    problems: list[Problem] = []
    expected = PLURAL_FORMS.get(language)
    if expected is not None and catalogue.num_plurals != expected:
        problems.append(
            Problem(path, "", f"{catalogue.num_plurals} plural forms in the header, not {expected}")
        )
    for message in catalogue:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        if message.fuzzy:
            problems.append(Problem(path, ids[0], "fuzzy"))
        strings = _translations(message)
        if isinstance(message.id, tuple | list) and len(strings) != catalogue.num_plurals:
            problems.append(Problem(path, ids[0], f"{len(strings)} plural forms"))
        allowed = [placeholders(text) for text in ids]
        for index, text in enumerate(strings):
            if not text.strip():
                problems.append(Problem(path, ids[0], "untranslated"))
                break
            used = placeholders(text)
            # A plural form may leave out the count (Czech "jeden", Lithuanian "vienas"), but
            # must not bring a placeholder its msgid lacks, nor drop a named one.
            if len(ids) > 1:
                pool = frozenset().union(*allowed)
                if not used <= pool or not _named(allowed[0] & allowed[-1]) <= used:
                    problems.append(
                        Problem(
                            path, ids[0], f"placeholders of form {index} differ: {sorted(used)}"
                        )
                    )
            elif used != allowed[0]:
                problems.append(
                    Problem(
                        path,
                        ids[0],
                        f"placeholders differ: {sorted(used)} for {sorted(allowed[0])}",
                    )
                )
    return problems


def _named(found: frozenset[str]) -> frozenset[str]:
    """The placeholders that carry a value other than the count itself."""
    return frozenset(p for p in found if p not in {"%(count)s", "%(count)d", "%s", "%d", "{count}"})


def _keys(extracted: Iterable[Any]) -> set[Key]:
    # Each item is (line, function, message or messages, comments).
    keys: set[Key] = set()
    for _line, function, messages, _comments in extracted:
        parts = list(messages) if isinstance(messages, tuple) else [messages]
        context = parts.pop(0) if function.startswith(("pgettext", "npgettext")) else None
        if parts and parts[0]:
            keys.add((context, parts[0], parts[1] if len(parts) > 1 else None))
    return keys


def _sources(root: Path, pattern: str) -> list[Path]:
    return [
        path
        for path in sorted(root.glob(pattern))
        if not SOURCE_SKIP.intersection(path.relative_to(root).parts)
    ]


def source_messages(root: Path = ROOT) -> dict[str, set[Key]]:
    """Every string the code marks for translation, by domain: `django` (Python and the
    templates) and `djangojs` (static/js)."""
    from django.utils.translation.template import templatize

    django: set[Key] = set()
    for path in _sources(root, "**/*.py"):
        django |= _keys(extract_python(io.BytesIO(path.read_bytes()), KEYWORDS, [], {}))
    for path in _sources(root, "**/templates/**/*.html") + _sources(root, "**/templates/**/*.txt"):
        # templatize writes each tag as a gettext call; Babel's tokenizer wants no indent.
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        flat = "\n".join(line.lstrip() for line in code.splitlines())
        django |= _keys(extract_python(io.BytesIO(flat.encode()), KEYWORDS, [], {}))
    javascript: set[Key] = set()
    options: Any = {"parse_template_string": True}
    for path in _sources(root, "static/js/**/*.js"):
        extracted = extract_javascript(io.BytesIO(path.read_bytes()), KEYWORDS, [], options)
        javascript |= _keys(extracted)
    return {"django": django, "djangojs": javascript}


def _catalogue_keys(path: Path) -> set[Key]:
    keys: set[Key] = set()
    for message in _read(path):
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        keys.add((message.context, ids[0], ids[1] if len(ids) > 1 else None))
    return keys


def catalogues_out_of_step(root: Path = ROOT, base: Path = LOCALE_DIR) -> list[Problem]:
    """Strings the code marks that a catalogue lacks, and entries the code no longer has."""
    sources = source_messages(root)
    problems = []
    for path in catalogue_paths(base):
        wanted = sources.get(path.stem, set())
        held = _catalogue_keys(path)
        for _context, msgid, _plural in sorted(wanted - held, key=str):
            problems.append(Problem(path, msgid, "not in the catalogue: run makemessages"))
        for _context, msgid, _plural in sorted(held - wanted, key=str):
            problems.append(Problem(path, msgid, "no longer in the code: run makemessages"))
    return problems


def catalogues_check(base: Path = LOCALE_DIR) -> list[Problem]:
    return [problem for path in catalogue_paths(base) for problem in catalogue_problems(path)]


def catalogues_compile(base: Path = LOCALE_DIR) -> list[Path]:
    """Write each catalogue's `.mo` beside it (fuzzy entries left out, as gettext does)."""
    written = []
    for path in catalogue_paths(base):
        catalogue = _read(path)
        target = path.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=False)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "compile":
        written = catalogues_compile()
        print(f"Compiled {len(written)} message catalogues.")
        return 0
    if command == "check":
        problems = catalogues_check() + catalogues_out_of_step()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problems in {len(catalogue_paths())} catalogues.")
        return 1 if problems else 0
    print("usage: python -m core.catalogues compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
