"""The staff UI's message catalogues under `locale/`: compiling and checking them.

`python -m core.catalogues compile` turns every `locale/<lang>/LC_MESSAGES/*.po` into its
`.mo` with Babel, so that neither `make` nor the Docker image needs GNU gettext (the `.mo`
files are build output and are not committed). `python -m core.catalogues check` lists what
CI refuses: an entry without a translation (every plural form counts), a fuzzy entry, a
translation whose placeholders differ from its msgid's, and a header whose plural forms do
not match the language's. Extracting new strings stays Django's `makemessages` (see the
README, "Adding a language").

Nothing here imports Django, so it runs before settings can load (in the Docker build).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

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
        problems = catalogues_check()
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problems in {len(catalogue_paths())} catalogues.")
        return 1 if problems else 0
    print("usage: python -m core.catalogues compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
