"""The catalogue checks CI runs (core/catalogues.py) catch what they promise to, and compiling
needs no GNU gettext."""

from __future__ import annotations

import gettext
from pathlib import Path

from core import catalogues

HEADER = """msgid ""
msgstr ""
"Language: {lang}\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: {forms}\\n"

"""
LT = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) ? 1 : 2);"


def _catalogue(tmp_path: Path, body: str, lang: str = "lt", forms: str = LT) -> Path:
    path = tmp_path / lang / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER.format(lang=lang, forms=forms) + body, encoding="utf-8")
    return path


def _whats(path: Path) -> list[str]:
    return [problem.what for problem in catalogues.catalogue_problems(path)]


def test_placeholders_of_both_styles_are_found_and_literal_percent_signs_are_not() -> None:
    assert catalogues.placeholders("%(count)s of %(total)d, 50 %% and %s") == {
        "%(count)s",
        "%(total)d",
        "%s",
    }
    assert catalogues.placeholders("{store} e-pood, {0}, {{literal}}") == {"{store}", "{0}"}


def test_a_complete_catalogue_has_no_problem(tmp_path: Path) -> None:
    path = _catalogue(
        tmp_path,
        'msgid "Save"\nmsgstr "Išsaugoti"\n\n'
        'msgid "Hello %(name)s"\nmsgstr "Sveiki, %(name)s"\n\n'
        'msgid "%(count)s day"\nmsgid_plural "%(count)s days"\n'
        'msgstr[0] "%(count)s diena"\nmsgstr[1] "%(count)s dienos"\nmsgstr[2] "%(count)s dienų"\n',
    )
    assert _whats(path) == []


def test_untranslated_fuzzy_and_placeholder_mismatches_are_refused(tmp_path: Path) -> None:
    path = _catalogue(
        tmp_path,
        'msgid "Save"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Open"\nmsgstr "Atidaryti"\n\n'
        'msgid "Hello %(name)s"\nmsgstr "Sveiki, %(vardas)s"\n\n'
        'msgid "In {store}"\nmsgstr "Parduotuvėje"\n\n'
        'msgid "%(count)s day"\nmsgid_plural "%(count)s days"\n'
        'msgstr[0] "%(count)s diena"\nmsgstr[1] "%(count)s dienos"\nmsgstr[2] ""\n',
    )
    assert _whats(path) == [
        "untranslated",
        "fuzzy",
        "placeholders differ: ['%(vardas)s'] for ['%(name)s']",
        "placeholders differ: [] for ['{store}']",
        "untranslated",
    ]


def test_a_header_with_the_wrong_number_of_plural_forms_is_refused(tmp_path: Path) -> None:
    path = _catalogue(
        tmp_path, 'msgid "Save"\nmsgstr "Išsaugoti"\n', forms="nplurals=2; plural=(n != 1);"
    )
    assert _whats(path) == ["2 plural forms in the header, not 3"]


def test_compiled_catalogues_are_read_by_gettext(tmp_path: Path) -> None:
    _catalogue(
        tmp_path,
        'msgid "Save"\nmsgstr "Išsaugoti"\n\n'
        'msgid "%(count)s day"\nmsgid_plural "%(count)s days"\n'
        'msgstr[0] "%(count)s diena"\nmsgstr[1] "%(count)s dienos"\nmsgstr[2] "%(count)s dienų"\n\n'
        '#, fuzzy\nmsgid "Open"\nmsgstr "Atidaryti"\n',
    )
    [mo] = catalogues.catalogues_compile(tmp_path)
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.gettext("Save") == "Išsaugoti"
    assert [compiled.ngettext("%(count)s day", "%(count)s days", n) for n in (1, 3, 10, 21)] == [
        "%(count)s diena",
        "%(count)s dienos",
        "%(count)s dienų",
        "%(count)s diena",
    ]
    assert compiled.gettext("Open") == "Open"  # fuzzy entries are left out


def test_strings_marked_in_python_templates_and_scripts_are_compared_with_the_catalogue(
    tmp_path: Path,
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(
        "from django.utils.translation import gettext as _, ngettext, pgettext\n"
        "A = _('Save')\n"
        "B = ngettext('%(n)s day', '%(n)s days', 2)\n"
        "C = pgettext('survey status', 'Active')\n",
        encoding="utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        "{% load i18n %}<p>\n    {% translate 'Open' %}\n"
        "    {% blocktranslate count n=3 %}{{ n }} store{% plural %}{{ n }} stores"
        "{% endblocktranslate %}</p>",
        encoding="utf-8",
    )
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "app.js").write_text(
        "const a = gettext('Not saved');\nconst b = `${gettext('Moved')}`;\n", encoding="utf-8"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("_('Not a UI string')\n", encoding="utf-8")

    assert catalogues.source_messages(tmp_path) == {
        "django": {
            (None, "Save", None),
            (None, "%(n)s day", "%(n)s days"),
            ("survey status", "Active", None),
            (None, "Open", None),
            (None, "%(n)s store", "%(n)s stores"),
        },
        "djangojs": {(None, "Not saved", None), (None, "Moved", None)},
    }

    locale = tmp_path / "locale"
    _catalogue(locale, 'msgid "Save"\nmsgstr "Išsaugoti"\n\nmsgid "Gone"\nmsgstr "Nebėra"\n')
    whats = {(p.msgid, p.what) for p in catalogues.catalogues_out_of_step(tmp_path, locale)}
    assert ("Gone", "no longer in the code: run makemessages") in whats
    assert ("Open", "not in the catalogue: run makemessages") in whats
    assert ("Active", "not in the catalogue: run makemessages") in whats
    assert ("Save", "not in the catalogue: run makemessages") not in whats


def test_the_catalogues_are_complete_and_in_step_with_the_code() -> None:
    """What CI refuses in the real catalogues: see core/catalogues.py and the README."""
    problems = catalogues.catalogues_check() + catalogues.catalogues_out_of_step()
    assert [str(problem) for problem in problems] == []
