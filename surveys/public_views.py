"""The buyer's pages, reached through the link token of a survey email, without an account.

- /s/<token>/: one question per step, in the invitation's language or the one the buyer picks
  (?lang=, remembered on the response at the next save). Every step saves what was given
  (services.response_save with submit=False); the last step submits. A GET never records an
  answer: the email's score links (?q<question id>=<score>) only preselect the score, because
  mail scanners open links.
- /s/<token>/thanks/: the survey's thank-you text, once the response is submitted.
- /s/<token>/unsubscribe/: GET asks, POST unsubscribes; the RFC 8058 one-click POST of mail
  providers comes without a CSRF token, so that view is CSRF-exempt and a POST there can only
  ever unsubscribe the link's own contact.

An unknown token, or one whose invitation was never sent, gets a 404 page that names neither
the store nor the survey. Every answer carries noindex and no-store, and a referrer policy that
never lets the token (in the URL) out in a Referer. POSTs are limited per token and all
requests per address (fail-open).

Errors under /s/ are buyer pages too, never the staff ones (no staff link, no "Log in"): any
other path under a valid link (`missing`) is a 404 in the survey's language with a link back
to the survey; config/views.py sends the 404s of other paths under /s/, the 500 and the CSRF
failure here (`page_not_found`, `server_error`, `csrf_failure`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts import ratelimit
from accounts.permissions import client_ip
from core.languages import LANGUAGE_NAMES
from surveys import buyer_texts, selectors, services
from surveys.models import Answer, Invitation, Question, Response, Survey

# A buyer clicking through a survey posts a handful of times; 30 a minute per link is far
# above that and far below what a script hammering one link would do.
TOKEN_POST_LIMIT = 30
# Per address, every request counts; generous because offices and mobile carriers put many
# buyers behind one address.
ADDRESS_LIMIT = 600
RATE_WINDOW = 60  # seconds


ERROR_TEXT_KEYS = {
    "required": "required_error",
    "invalid": "invalid_error",
    "too_long": "too_long_error",
}

# The token is in the URL, so no Referer may carry the path. Pages without a form send
# no-referrer. The answer form cannot: under no-referrer, browsers send `Origin: null` with
# the POST, which Django's CSRF check rightly refuses. strict-origin sends only the origin
# (never the path) in the Referer, and the real Origin with the form.
FORM_REFERRER_POLICY = "strict-origin"

_SCORE_PARAM = re.compile(r"q\d+")
# The link token at the start of a path under /s/ (surveys.tokens makes 32 URL-safe characters).
_TOKEN_IN_PATH = re.compile(r"^/s/([A-Za-z0-9_-]{1,100})/")


def is_buyer_path(request: HttpRequest) -> bool:
    """The request is for a buyer's page (under /s/), whose errors are buyer pages."""
    return request.path_info.startswith("/s/")


def _token_in_path(request: HttpRequest) -> str:
    match = _TOKEN_IN_PATH.match(request.path_info)
    return match.group(1) if match else ""


# --- Shared plumbing


def _over_limit(request: HttpRequest, token: str) -> bool:
    """Count this request; True when it is over one of the limits (then it is not counted)."""
    checks = [("survey-address", client_ip(request) or "", ADDRESS_LIMIT)]
    if request.method == "POST":
        checks.append(("survey-token", token, TOKEN_POST_LIMIT))
    return ratelimit.hit_unless_limited(checks=checks, window=RATE_WINDOW)


def _public(
    view: Callable[[HttpRequest, str], HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """Rate limits and the headers every public token page needs, on every answer."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str) -> HttpResponse:
        if _over_limit(request, token):
            response = _too_many_requests(request, token)
        else:
            response = view(request, token)
        return _private(response)

    return wrapped


def _private(response: HttpResponse) -> HttpResponse:
    """Not indexed, not cached, and no Referer that could carry the token in the URL."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    if "Referrer-Policy" not in response:
        response["Referrer-Policy"] = "no-referrer"
    return response


def _visitor_language(request: HttpRequest) -> str:
    """For pages without a valid invitation: the browser's language, if a survey language."""
    code = translation.get_language_from_request(request)
    return code if code in buyer_texts.LANGUAGES else buyer_texts.FALLBACK_LANGUAGE


def _page_language(request: HttpRequest, invitation: Invitation, response: Response | None) -> str:
    """The buyer's pick (form, then ?lang=), the response's language, the invitation's."""
    survey = invitation.survey
    picked = (
        request.POST.get("lang") if request.method == "POST" else None,
        request.GET.get("lang"),
        response.language if response is not None else None,
        invitation.language,
    )
    for code in picked:
        if code and code in survey.languages:
            return code
    return survey.default_language


def _response_of(invitation: Invitation) -> Response | None:
    try:
        return invitation.response
    except Response.DoesNotExist:
        return None


def _message(
    request: HttpRequest,
    *,
    language: str,
    title: str,
    text: str,
    store: str = "",
    back_to: str = "",
    status: int = 200,
) -> HttpResponse:
    """A page with a title and a text; with back_to (a link token), a link back to the survey."""
    return render(
        request,
        "surveys/public/message.html",
        {
            "language": language,
            "store": store,
            "title": title,
            "text": text,
            "skip_to_content": buyer_texts.text("skip_to_content", language),
            "back_url": _answer_url(back_to) if back_to else "",
            "back_text": buyer_texts.text("back_to_survey", language),
        },
        status=status,
    )


def _not_found(request: HttpRequest) -> HttpResponse:
    """Unknown, forged or never-sent token: the same page, naming nothing."""
    language = _visitor_language(request)
    return _message(
        request,
        language=language,
        title=buyer_texts.text("not_found_title", language),
        text=buyer_texts.text("not_found_text", language),
        status=404,
    )


def _too_many_requests(request: HttpRequest, token: str) -> HttpResponse:
    """429, in the survey's language for a valid link; it says that answers are saved only
    when the link's response has some."""
    invitation = selectors.invitation_by_token(token=token)
    saved = False
    if invitation is None:
        language = _visitor_language(request)
    else:
        survey_response = _response_of(invitation)
        language = _page_language(request, invitation, survey_response)
        saved = survey_response is not None and survey_response.answers.exists()
    text = buyer_texts.text("too_many_requests_text", language)
    if saved:
        text = f"{text} {buyer_texts.text('saved_so_far', language)}"
    response = _message(
        request,
        language=language,
        store=invitation.survey.store.name if invitation is not None else "",
        title=buyer_texts.text("too_many_requests_title", language),
        text=text,
        back_to=token if invitation is not None else "",
        status=429,
    )
    response["Retry-After"] = str(RATE_WINDOW)
    return response


def _see_other(url: str) -> HttpResponse:
    """303: after a POST, the browser GETs the next page (a reload does not post again)."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


# --- The answer page


@dataclass
class Option:
    value: str
    label: str
    checked: bool


@dataclass
class QuestionView:
    """One question as the page shows it, in one language, with the buyer's current answer."""

    pk: int
    name: str  # the form field's name, also the base of the element ids
    kind: str  # scale, single, multiple, text
    text: str
    required: bool
    options: list[Option] = field(default_factory=list)
    low_label: str = ""
    high_label: str = ""
    text_value: str = ""
    error: str = ""
    max_length: int = services.MAX_TEXT_ANSWER

    @property
    def described_by(self) -> str:
        """Ids of the texts a screen reader reads with the question: hint, scale ends, error."""
        ids = [
            f"{self.name}-hint" if not self.required else "",
            f"{self.name}-ends" if self.kind == "scale" else "",
            f"{self.name}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)


def _kind(question: Question) -> str:
    if question.scale is not None:
        return "scale"
    return {
        Question.Type.SINGLE_CHOICE: "single",
        Question.Type.MULTIPLE_CHOICE: "multiple",
    }.get(question.type, "text")  # type: ignore[call-overload]


def _localised(values: dict[str, Any], language: str, survey: Survey) -> Any:
    """A question's text or choices in the language, else the survey's default, else any."""
    values = values or {}
    found = values.get(language) or values.get(survey.default_language)
    return found if found else next(iter(values.values()), None)


def question_view(
    question: Question, *, survey: Survey, language: str, value: Any, error: str
) -> QuestionView:
    """One question as the answer page shows it; the builder's preview shows it the same."""
    store = survey.store.name
    kind = _kind(question)
    view = QuestionView(
        pk=question.pk,
        name=f"q{question.pk}",
        kind=kind,
        text=buyer_texts.fill(_localised(question.text, language, survey) or "", store=store),
        required=question.required,
    )
    if error:
        view.error = buyer_texts.text(
            ERROR_TEXT_KEYS.get(error, "invalid_error"),
            language,
            limit=str(services.MAX_TEXT_ANSWER),
        )
    if kind == "scale":
        low, high = question.scale  # type: ignore[misc]
        view.options = [Option(str(n), str(n), value == str(n)) for n in range(low, high + 1)]
        view.low_label = buyer_texts.text(f"scale_{question.type}_low", language)
        view.high_label = buyer_texts.text(f"scale_{question.type}_high", language)
    elif kind in ("single", "multiple"):
        chosen = set(value) if isinstance(value, list) else {value}
        labels = _localised(question.choices, language, survey) or []
        view.options = [
            Option(str(index), buyer_texts.fill(str(label), store=store), str(index) in chosen)
            for index, label in enumerate(labels)
        ]
    else:
        view.text_value = value if isinstance(value, str) else ""
    return view


def _saved_answers(response: Response | None) -> list[Answer]:
    """The response's answers, read once per request (none without a response)."""
    return list(response.answers.all()) if response is not None else []


def _saved_values(answers: list[Answer], questions: list[Question]) -> dict[int, Any]:
    """Saved answers in the form's own terms: strings, a list of strings for multiple choice."""
    kinds = {q.pk: _kind(q) for q in questions}
    values: dict[int, Any] = {}
    for answer in answers:
        kind = kinds.get(answer.question_id)
        if kind == "multiple":
            values[answer.question_id] = [str(c) for c in answer.choices]
        elif kind == "text":
            values[answer.question_id] = answer.text
        elif kind is not None and answer.number is not None:
            values[answer.question_id] = str(answer.number)
    return values


def _preselected(request: HttpRequest, questions: list[Question]) -> dict[int, str]:
    """Scores from the email's links (?q<id>=<score>): shown as chosen, never saved by a GET."""
    values = {}
    for question in questions:
        raw = (request.GET.get(f"q{question.pk}") or "").strip()
        if question.scale is None or not re.fullmatch(r"-?\d{1,3}", raw):
            continue
        low, high = question.scale
        if low <= int(raw) <= high:
            values[question.pk] = str(int(raw))
    return values


def _step_param(raw: str | None, total: int) -> int | None:
    try:
        step = int(raw or "")
    except ValueError:
        return None
    return min(max(step, 1), total)


def _posted_value(request: HttpRequest, question: Question) -> Any:
    name = f"q{question.pk}"
    if question.type == Question.Type.MULTIPLE_CHOICE:
        return request.POST.getlist(name)
    return request.POST.get(name)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list) and not "".join(value).strip())


def _answer_url(token: str, **params: Any) -> str:
    url = reverse("survey-public:answer", args=[token])
    return f"{url}?{urlencode(params)}" if params else url


def _language_links(
    request: HttpRequest, *, token: str, survey: Survey, language: str, step: int
) -> list[dict[str, Any]]:
    """Links to this step in each of the survey's languages, keeping a preselected score."""
    if len(survey.languages) < 2:
        return []
    keep = {k: v for k, v in request.GET.items() if _SCORE_PARAM.fullmatch(k)}
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
            "url": _answer_url(token, **keep, step=step, lang=code),
            "current": code == language,
        }
        for code in survey.languages
    ]


def _render_step(
    request: HttpRequest,
    *,
    token: str,
    invitation: Invitation,
    saved: bool,
    questions: list[Question],
    step: int,
    values: dict[int, Any],
    errors: dict[int, str],
    language: str,
) -> HttpResponse:
    survey = invitation.survey
    question = questions[step - 1]
    total = len(questions)
    view = question_view(
        question,
        survey=survey,
        language=language,
        value=values.get(question.pk),
        error=errors.get(question.pk, ""),
    )
    context = {
        "language": language,
        "store": survey.store.name,
        "language_links": _language_links(
            request, token=token, survey=survey, language=language, step=step
        ),
        "language_label": buyer_texts.text("language_label", language),
        "skip_to_content": buyer_texts.text("skip_to_content", language),
        "title": buyer_texts.text("page_title", language),
        "progress": buyer_texts.text("progress", language, current=str(step), total=str(total)),
        "step": step,
        "total": total,
        "question": view,
        "is_last": step == total,
        "action_url": _answer_url(token),
        "saved": saved,
        "text": {
            key: buyer_texts.text(key, language)
            for key in ("next", "back", "submit", "optional", "saved")
        },
    }
    page = render(request, "surveys/public/answer.html", context)
    page["Referrer-Policy"] = FORM_REFERRER_POLICY
    return page


@_public
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    found = selectors.answer_page_by_token(token=token)
    if found is None:
        return _not_found(request)
    invitation, questions = found
    survey = invitation.survey
    response = _response_of(invitation)
    language = _page_language(request, invitation, response)
    if response is not None and response.submitted_at is not None:
        return _message(
            request,
            language=language,
            store=survey.store.name,
            title=buyer_texts.text("thank_you_title", language),
            text=buyer_texts.text("already_answered", language),
        )
    if survey.status not in (Survey.Status.ACTIVE, Survey.Status.PAUSED) or not questions:
        return _message(
            request,
            language=language,
            store=survey.store.name,
            title=buyer_texts.text("page_title", language),
            text=buyer_texts.text("closed_text", language),
        )
    if request.method == "POST":
        return _answer_post(request, token, invitation, questions, language)

    if request.method == "GET":  # HEAD is a link checker, not a buyer
        services.invitation_mark_opened(invitation=invitation)
    answers = _saved_answers(response)
    values = _saved_values(answers, questions)
    preselected = _preselected(request, questions)
    values.update(preselected)
    step = _step_param(request.GET.get("step"), len(questions))
    if step is None and preselected:
        step = next(i for i, q in enumerate(questions, 1) if q.pk in preselected)
    if step is None:  # resume at the first question without an answer
        step = next((i for i, q in enumerate(questions, 1) if q.pk not in values), 1)
    return _render_step(
        request,
        token=token,
        invitation=invitation,
        saved=bool(answers),
        questions=questions,
        step=step,
        values=values,
        errors={},
        language=language,
    )


def _answer_post(
    request: HttpRequest,
    token: str,
    invitation: Invitation,
    questions: list[Question],
    language: str,
) -> HttpResponse:
    """Save this step (and any other question posted along), then move on or show errors."""
    total = len(questions)
    step = _step_param(request.POST.get("step"), total) or 1
    action = request.POST.get("action")
    if action not in ("back", "next", "submit"):  # Enter pressed in a field, or a script
        action = "submit" if step == total else "next"
    current = questions[step - 1]
    posted = {
        q.pk: _posted_value(request, q)
        for q in questions
        if q.pk == current.pk or f"q{q.pk}" in request.POST
    }
    response, errors = services.response_save(
        invitation=invitation,
        answers=posted,
        language=language,
        submit=action == "submit",
        questions=questions,
    )
    if response.submitted_at is not None:
        return _see_other(reverse("survey-public:thanks", args=[token]))
    if (
        action == "next"
        and current.required
        and current.pk not in errors
        and _is_empty(posted[current.pk])
    ):
        errors[current.pk] = "required"
    if action == "back":
        # Going back never demands an answer; only an answer that cannot be saved stops it.
        errors = {pk: code for pk, code in errors.items() if code != "required"}
    if not errors:
        target = step - 1 if action == "back" else step + 1
        return _see_other(_answer_url(token, step=min(max(target, 1), total)))
    # Show the first question with an error; what was posted stays in the form as given.
    answers = _saved_answers(response)
    values = _saved_values(answers, questions)
    values.update({pk: value for pk, value in posted.items() if pk in errors})
    first_error = next(i for i, q in enumerate(questions, 1) if q.pk in errors)
    return _render_step(
        request,
        token=token,
        invitation=invitation,
        saved=bool(answers),
        questions=questions,
        step=first_error,
        values=values,
        errors=errors,
        language=language,
    )


@_public
@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_by_token(token=token)
    if invitation is None:
        return _not_found(request)
    response = _response_of(invitation)
    if response is None or response.submitted_at is None:
        return HttpResponseRedirect(_answer_url(token))
    survey = invitation.survey
    language = _page_language(request, invitation, response)
    return _message(
        request,
        language=language,
        store=survey.store.name,
        title=buyer_texts.text("thank_you_title", language),
        text=buyer_texts.fill(survey.text("thank_you_text", language), store=survey.store.name),
    )


# --- Unsubscribing


@csrf_exempt  # RFC 8058 one-click POSTs come from mail providers, without a CSRF token
@_public
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks; any POST (the page's button or `List-Unsubscribe=One-Click`) unsubscribes."""
    invitation = selectors.invitation_by_token(token=token)
    if invitation is None:
        return _not_found(request)
    contact = invitation.contact
    if request.method == "POST":
        contact = services.contact_unsubscribe(contact=contact)
    language = _page_language(request, invitation, _response_of(invitation))
    store = invitation.survey.store.name
    return render(
        request,
        "surveys/public/unsubscribe.html",
        {
            "language": language,
            "store": store,
            "skip_to_content": buyer_texts.text("skip_to_content", language),
            "title": buyer_texts.text("unsubscribe_title", language),
            "done": contact.unsubscribed_at is not None,
            "question": buyer_texts.text("unsubscribe_text", language, store=store),
            "button": buyer_texts.text("unsubscribe_button", language),
            "done_text": buyer_texts.text("unsubscribed_text", language, store=store),
            "action_url": reverse("survey-public:unsubscribe", args=[token]),
        },
    )


# --- Errors under /s/


@_public
def missing(request: HttpRequest, token: str) -> HttpResponse:
    """Any other path under a link (/s/<token>/anything, any method): a 404 in the survey's
    language with a link back to the survey; the neutral one when the token is not valid."""
    slashed = f"{request.path_info}/"
    # /s/<token>/thanks: add the slash, as APPEND_SLASH would (only for reading: a redirected
    # POST would lose its body).
    if request.method in ("GET", "HEAD") and not slashed.endswith("//") and _is_a_page(slashed):
        query = request.META.get("QUERY_STRING", "")
        return HttpResponseRedirect(f"{request.path}/" + (f"?{query}" if query else ""))
    invitation = selectors.invitation_by_token(token=token)
    if invitation is None:
        return _not_found(request)
    return _link_error(request, invitation, token, "page_not_found", status=404)


def _link_error(
    request: HttpRequest, invitation: Invitation, token: str, texts: str, *, status: int
) -> HttpResponse:
    """An error page of a valid link: the buyer texts `<texts>_title` and `<texts>_text` in
    the survey's language, the store named, a link back to the survey."""
    language = _page_language(request, invitation, _response_of(invitation))
    return _message(
        request,
        language=language,
        store=invitation.survey.store.name,
        title=buyer_texts.text(f"{texts}_title", language),
        text=buyer_texts.text(f"{texts}_text", language),
        back_to=token,
        status=status,
    )


def _is_a_page(path: str) -> bool:
    try:
        return resolve(path).url_name != "missing"
    except Resolver404:
        return False


def page_not_found(request: HttpRequest) -> HttpResponse:
    """The 404 of a path under /s/ that no pattern takes (/s/ itself): the neutral page."""
    return _private(_not_found(request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form under /s/ refused for its CSRF token (a page kept open, or its cookie gone): the
    survey's language, a link back to the survey; the neutral 404 for a token not valid."""
    token = _token_in_path(request)
    invitation = selectors.invitation_by_token(token=token) if token else None
    if invitation is None:
        return page_not_found(request)
    return _private(_link_error(request, invitation, token, "csrf_failure", status=403))


def _error_language(request: HttpRequest) -> str:
    """Without the database: ?lang= (the language links and the form carry it), then the
    language cookie and the browser's languages, among the survey languages."""
    try:
        picked = request.GET.get("lang") or (
            request.POST.get("lang") if request.method == "POST" else None
        )
    except Exception:  # a body that cannot be read must not turn the 500 page into another
        picked = None
    if picked in buyer_texts.LANGUAGES:
        return str(picked)
    return _visitor_language(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 of a path under /s/. It touches no database and no context processor (the
    error may be the database), and uses no template tag that can fail (the stylesheet by
    its plain name, which whitenoise serves beside the hashed one)."""
    language = _error_language(request)
    token = _token_in_path(request)
    html = loader.render_to_string(
        "surveys/public/server_error.html",
        {
            "language": language,
            "stylesheet": f"{settings.STATIC_URL}css/survey.css",
            "title": buyer_texts.text("server_error_title", language),
            "text": buyer_texts.text("server_error_text", language),
            "skip_to_content": buyer_texts.text("skip_to_content", language),
            "back_url": _answer_url(token) if token else "",
            "back_text": buyer_texts.text("back_to_survey", language),
        },
    )
    return _private(HttpResponse(html, status=500))
