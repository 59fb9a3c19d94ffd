"""The survey templates and the public interface text: complete, translated, well-formed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from surveys.blueprints import TEMPLATES
from surveys.buyer_texts import PUBLIC_TEXT, text

LANGUAGES = ["en", "lt", "lv", "et", "cs", "ro"]
TEXT_FIELDS = ["name", "email_subject", "email_intro", "thank_you"]
HEADLINE = {"csat": "rating", "nps": "nps", "ces": "ces", "custom": "rating"}
CHOICE_TYPES = {"single_choice", "multiple_choice"}
QUESTION_TYPES = {"nps", "rating", "ces", "single_choice", "multiple_choice", "free_text"}

# Texts that are legitimately the same in English and another language. Keep it tiny.
SAME_AS_ENGLISH_ALLOWED: set[str] = {"NPS"}

LETTERS = {
    "lt": "ąčęėįšųūž",
    "lv": "āčēģīķļņšūž",
    "et": "äõöüšž",
    "cs": "áčďéěíňóřšťúůýž",
    "ro": "ăâîșț",
}

PUBLIC_KEYS = {
    "page_title": set(),
    "progress": {"current", "total"},
    "next": set(),
    "back": set(),
    "submit": set(),
    "optional": set(),
    "required_error": set(),
    "invalid_error": set(),
    "too_long_error": {"limit"},
    "language_label": set(),
    "scale_nps_low": set(),
    "scale_nps_high": set(),
    "scale_rating_low": set(),
    "scale_rating_high": set(),
    "scale_ces_low": set(),
    "scale_ces_high": set(),
    "your_answer": set(),
    "thank_you_title": set(),
    "already_answered": set(),
    "not_found_title": set(),
    "not_found_text": set(),
    "closed_text": set(),
    "email_cta": set(),
    "email_open_link": set(),
    "email_footer": {"store"},
    "unsubscribe_link": set(),
    "unsubscribe_title": set(),
    "unsubscribe_text": {"store"},
    "unsubscribe_button": set(),
    "unsubscribed_text": {"store"},
    "saved": set(),
    "skip_to_content": set(),
    "reminder_subject_prefix": set(),
    "too_many_requests_title": set(),
    "too_many_requests_text": set(),
    "saved_so_far": set(),
    "back_to_survey": set(),
    "page_not_found_title": set(),
    "page_not_found_text": set(),
    "server_error_title": set(),
    "server_error_text": set(),
    "csrf_failure_title": set(),
    "csrf_failure_text": set(),
}

BRACED = re.compile(r"\{[^{}]*\}")


def placeholders(value: str) -> set[str]:
    return {m[1:-1] for m in BRACED.findall(value)}


def per_language_texts(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    """Every {language: text} of a template, with a label saying where it is."""
    for field in TEXT_FIELDS:
        yield field, template[field]
    for n, question in enumerate(template["questions"], start=1):
        yield f"question {n}", question["text"]
        if question["choices"]:
            count = len(question["choices"]["en"])
            for i in range(count):
                yield (
                    f"question {n} choice {i + 1}",
                    {lang: question["choices"][lang][i] for lang in question["choices"]},
                )


def all_template_texts() -> Iterator[tuple[str, str, dict[str, str]]]:
    for key, template in TEMPLATES.items():
        for where, texts in per_language_texts(template):
            yield key, where, texts


def test_settings_languages_are_the_survey_languages() -> None:
    assert [code for code, _name in settings.LANGUAGES] == LANGUAGES


def test_the_six_templates_in_order_with_their_settings() -> None:
    assert list(TEMPLATES) == [
        "post-purchase-csat",
        "delivery-experience",
        "product-satisfaction",
        "nps",
        "checkout-ces",
        "review-request",
    ]
    summary = {
        key: (
            t["kind"],
            t["moment"],
            t["trigger_event"],
            t["delay_hours"],
            t["reminder_after_days"],
        )
        for key, t in TEMPLATES.items()
    }
    assert summary == {
        "post-purchase-csat": ("csat", "SMOT", "purchase", 24, 3),
        "delivery-experience": ("csat", "TMOT", "delivered", 24, 3),
        "product-satisfaction": ("csat", "SMOT", "delivered", 24 * 14, 3),
        "nps": ("nps", "UMOT", "delivered", 24 * 30, 3),
        "checkout-ces": ("ces", "SMOT", "purchase", 1, None),
        "review-request": ("custom", "UMOT", "delivered", 24 * 7, 3),
    }


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_template_shape(key: str) -> None:
    template = TEMPLATES[key]
    assert str(template["label"]).strip()
    assert str(template["description"]).strip()
    assert isinstance(template["delay_hours"], int)
    questions = template["questions"]
    assert 2 <= len(questions) <= 4, "a headline question and 1-3 follow-ups"
    for question in questions:
        assert question["type"] in QUESTION_TYPES
        assert isinstance(question["required"], bool)
        if question["type"] in CHOICE_TYPES:
            assert question["choices"], "a choice question needs choices"
        else:
            assert question["choices"] == {}, "only choice questions have choices"
    assert questions[0]["required"] is True, "the headline question is required"


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_first_question_is_the_headline_scale(key: str) -> None:
    template = TEMPLATES[key]
    assert template["questions"][0]["type"] == HEADLINE[template["kind"]]


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_text_has_all_languages_non_empty(key: str) -> None:
    template = TEMPLATES[key]
    for field in TEXT_FIELDS:
        assert list(template[field]) == LANGUAGES, field
    for where, texts in per_language_texts(template):
        assert set(texts) == set(LANGUAGES), (key, where)
        for language, value in texts.items():
            assert isinstance(value, str), (key, where, language)
            assert value.strip(), (key, where, language)
            assert value == value.strip(), (key, where, language, "stray whitespace")


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_choice_lists_match_across_languages(key: str) -> None:
    for question in TEMPLATES[key]["questions"]:
        if not question["choices"]:
            continue
        choices = question["choices"]
        assert list(choices) == LANGUAGES
        lengths = {language: len(items) for language, items in choices.items()}
        assert len(set(lengths.values())) == 1, (key, lengths)
        assert lengths["en"] >= 2
        for language, items in choices.items():
            assert all(isinstance(c, str) and c.strip() for c in items), (key, language)
            assert len(set(items)) == len(items), (key, language, "duplicate choice")


def test_templates_use_no_placeholder_but_store() -> None:
    for key, where, texts in all_template_texts():
        english = placeholders(texts["en"])
        assert english <= {"store"}, (key, where, english)
        for language, value in texts.items():
            assert placeholders(value) == english, (key, where, language)
            # No stray braces outside the placeholder either.
            stripped = BRACED.sub("", value)
            assert "{" not in stripped and "}" not in stripped, (key, where, language)


def test_nps_question_names_the_store() -> None:
    question = TEMPLATES["nps"]["questions"][0]
    for language in LANGUAGES:
        assert "{store}" in question["text"][language], language


def test_no_translation_is_a_copy_of_the_english() -> None:
    copies = [
        (key, where, language, value)
        for key, where, texts in all_template_texts()
        for language, value in texts.items()
        if language != "en" and value == texts["en"] and value not in SAME_AS_ENGLISH_ALLOWED
    ]
    copies += [
        ("PUBLIC_TEXT", key, language, value)
        for key, texts in PUBLIC_TEXT.items()
        for language, value in texts.items()
        if language != "en" and value == texts["en"] and value not in SAME_AS_ENGLISH_ALLOWED
    ]
    assert copies == []


def _all_texts_in(language: str) -> list[str]:
    values = [texts[language] for _key, _where, texts in all_template_texts()]
    values += [texts[language] for texts in PUBLIC_TEXT.values()]
    return values


def test_romanian_uses_comma_below_never_cedilla() -> None:
    everything = "".join(_all_texts_in("ro"))
    assert "ș" in everything and "ț" in everything  # U+0219, U+021B
    assert "\u0219" in everything and "\u021b" in everything
    for language in LANGUAGES:
        for value in _all_texts_in(language):
            for cedilla in ("\u015f", "\u0163", "\u015e", "\u0162"):  # ş ţ Ş Ţ
                assert cedilla not in value, (language, value)


@pytest.mark.parametrize("language", sorted(LETTERS))
def test_each_language_uses_its_own_letters(language: str) -> None:
    templates = "".join(texts[language] for _k, _w, texts in all_template_texts()).lower()
    assert set(templates) & set(LETTERS[language]), language
    public = "".join(texts[language] for texts in PUBLIC_TEXT.values()).lower()
    assert set(public) & set(LETTERS[language]), language


def test_public_text_has_exactly_the_keys_in_all_languages() -> None:
    assert set(PUBLIC_TEXT) == set(PUBLIC_KEYS)
    for key, texts in PUBLIC_TEXT.items():
        assert list(texts) == LANGUAGES, key
        for language, value in texts.items():
            assert isinstance(value, str) and value.strip(), (key, language)


def test_public_text_placeholders_are_the_listed_ones() -> None:
    for key, texts in PUBLIC_TEXT.items():
        for language, value in texts.items():
            assert placeholders(value) == PUBLIC_KEYS[key], (key, language)
            stripped = BRACED.sub("", value)
            assert "{" not in stripped and "}" not in stripped, (key, language)


def test_reminder_prefix_ends_with_a_space() -> None:
    for language, value in PUBLIC_TEXT["reminder_subject_prefix"].items():
        assert value.endswith(": "), language


def test_text_fills_placeholders() -> None:
    assert text("progress", "en", current="2", total="5") == "Question 2 of 5"
    assert text("progress", "cs", current="2", total="5") == "Otázka 2 z 5"
    assert text("too_long_error", "lt", limit="2000") == "Prašome neviršyti 2000 simbolių."
    assert text("submit", "ro") == "Trimite"


def test_text_falls_back_to_english() -> None:
    assert text("next", "de") == "Next"
    assert text("next", "") == "Next"
    assert text("email_footer", "xx", store="Shop") == (
        "You are receiving this email because you bought from Shop."
    )


def test_text_keeps_braces_in_a_store_name() -> None:
    assert text("email_footer", "en", store="A{b}c") == (
        "You are receiving this email because you bought from A{b}c."
    )
    assert text("unsubscribed_text", "lv", store="A{b}c") == (
        "Jūs esat atteikušies no aptaujām. Veikals A{b}c Jums tās vairs nesūtīs."
    )
    # A value that looks like another placeholder is not filled in turn.
    assert text("progress", "en", current="{total}", total="3") == "Question {total} of 3"
    assert text("unsubscribe_text", "et", store="{0} {store} %s") == (
        "Kas soovite, et {0} {store} %s e-pood ei saadaks Teile enam rahuloluküsitlusi?"
    )


def test_text_leaves_unfilled_placeholders_and_ignores_extra_values() -> None:
    assert text("progress", "en", current="1") == "Question 1 of {total}"
    assert text("next", "en", store="Shop") == "Next"


def test_text_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        text("no_such_key", "en")


def test_the_satisfaction_scale_ends_speak_as_the_questions_do() -> None:
    """The polite plural of the questions ("Kiek esate patenkinti", "Jak jste spokojeni"), never
    a masculine singular; in Estonian both ends answer "Kui rahul olete?" alike."""
    ends = {
        lang: (text("scale_rating_low", lang), text("scale_rating_high", lang))
        for lang in LANGUAGES
    }
    assert ends == {
        "en": ("Very dissatisfied", "Very satisfied"),
        "lt": ("Labai nepatenkinti", "Labai patenkinti"),
        "lv": ("Ļoti neapmierināti", "Ļoti apmierināti"),
        "et": ("Üldse mitte rahul", "Väga rahul"),
        "cs": ("Velmi nespokojeni", "Velmi spokojeni"),
        "ro": ("Foarte nemulțumiți", "Foarte mulțumiți"),
    }
    for key, template in TEMPLATES.items():
        for question in template["questions"]:
            if question["type"] == "rating":
                assert "mulțumit " not in question["text"]["ro"], key


def test_unsubscribing_is_confirmed_in_a_sentence_not_under_a_done_label() -> None:
    for language in LANGUAGES:
        confirmation = text("unsubscribed_text", language, store="Shop")
        assert not confirmation.split()[0].endswith(":"), language
    assert text("unsubscribe_button", "et") != "Loobu"  # reads as "Cancel"
    assert "odběr" in text("unsubscribe_button", "cs")  # "Odhlásit se" is "Log out"
    assert "odběr" in text("unsubscribe_link", "cs")
    assert "odběr" in text("unsubscribe_title", "cs")
