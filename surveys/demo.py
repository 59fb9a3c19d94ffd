"""Demo surveys for Baltic Goods: three or four active surveys per store, a few hundred
contacts with local names and languages, and 90 days of invitations, responses and answers
in realistic proportions (see DEMO_STORES), with free-text answers in the contact's language.

Idempotent: the data comes from a seeded random.Random, every time is an offset from today's
midnight (UTC), and a second run deletes the contacts it made (their invitations, responses
and answers go with them) and makes them again; the surveys are kept. So two runs on the same
day give the same data, and a run on a later day moves it to the last 90 days again.

Nothing is ever emailed, now or later: no invitation is left queued, and every unanswered
invitation has had its one reminder (or belongs to a survey that sends none).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Organisation, Store
from accounts.services import SYSTEM
from journeys.models import Journey, Touchpoint
from surveys import services, tokens
from surveys.models import (
    Answer,
    Contact,
    Invitation,
    Question,
    Response,
    StoreSurveySettings,
    Survey,
)

DAYS = 90
# Invitations are sent until this long before today, so that every unanswered one has had
# its reminder (the templates remind after 3 days) and the worker finds nothing to send.
QUIET_DAYS = 4


@dataclass(frozen=True)
class DemoStore:
    name: str
    seed: str
    contacts: int
    languages: dict[str, int]  # contact language -> weight
    survey_languages: list[str]
    surveys: dict[str, int]  # template -> share of orders it surveys
    key_prefix: str
    reply_to: str
    # Per template: the weights of the headline scale's values, low to high.
    scores: dict[str, list[int]] = field(default_factory=dict)


CSAT_SCORES = [4, 5, 9, 30, 52]  # 1..5: CSAT (4–5) about 82 %
NPS_SCORES = [1, 1, 1, 2, 3, 5, 7, 15, 20, 20, 25]  # 0..10: 45 % promoters, 20 % detractors
CES_SCORES = [2, 4, 6, 8, 15, 30, 35]  # 1..7

DEMO_STORES = [
    DemoStore(
        name="Baltic Goods LT",
        seed="momentmap-demo-surveys-lt",
        contacts=280,
        languages={"lt": 80, "en": 9, "lv": 7, "et": 4},
        survey_languages=["lt", "en", "lv", "et"],
        surveys={
            "post-purchase-csat": 25,
            "delivery-experience": 25,
            "nps": 35,
            "checkout-ces": 15,
        },
        key_prefix="LT",
        reply_to="pagalba@lt.balticgoods.example",
        scores={
            "post-purchase-csat": CSAT_SCORES,
            "delivery-experience": [5, 6, 11, 30, 48],
            "nps": NPS_SCORES,
            "checkout-ces": CES_SCORES,
        },
    ),
    DemoStore(
        name="Baltic Goods RO",
        seed="momentmap-demo-surveys-ro",
        contacts=220,
        languages={"ro": 84, "en": 10, "cs": 6},
        survey_languages=["ro", "en", "cs"],
        surveys={"post-purchase-csat": 30, "delivery-experience": 30, "nps": 40},
        key_prefix="RO",
        reply_to="ajutor@ro.balticgoods.example",
        scores={
            "post-purchase-csat": CSAT_SCORES,
            # The RO store's couriers are its weak spot: the demo's dashboards show it.
            "delivery-experience": [9, 10, 15, 29, 37],
            "nps": [2, 1, 2, 2, 3, 6, 8, 16, 20, 18, 22],
        },
    ),
]

# --- People

# (male first names, female first names, surnames as (male, female) pairs)
NAMES: dict[str, tuple[list[str], list[str], list[tuple[str, str]]]] = {
    "lt": (
        ["Jonas", "Tomas", "Mantas", "Lukas", "Darius", "Andrius", "Paulius", "Mindaugas",
         "Rokas", "Vytautas", "Gediminas", "Justas", "Karolis", "Dovydas", "Žygimantas",
         "Šarūnas", "Kęstutis", "Marius"],
        ["Rūta", "Eglė", "Ieva", "Greta", "Austėja", "Gabija", "Agnė", "Indrė", "Laura",
         "Justina", "Simona", "Jurgita", "Kristina", "Aistė", "Dovilė", "Goda", "Ugnė",
         "Živilė"],
        [("Kazlauskas", "Kazlauskienė"), ("Jankauskas", "Jankauskaitė"),
         ("Petrauskas", "Petrauskienė"), ("Stankevičius", "Stankevičiūtė"),
         ("Vasiliauskas", "Vasiliauskienė"), ("Žukauskas", "Žukauskaitė"),
         ("Butkus", "Butkienė"), ("Paulauskas", "Paulauskaitė"), ("Urbonas", "Urbonienė"),
         ("Kavaliauskas", "Kavaliauskienė"), ("Navickas", "Navickaitė"),
         ("Ramanauskas", "Ramanauskienė"), ("Balčiūnas", "Balčiūnaitė"),
         ("Rimkus", "Rimkutė"), ("Šimkus", "Šimkienė")],
    ),
    "lv": (
        ["Jānis", "Andris", "Mārtiņš", "Edgars", "Kārlis", "Roberts", "Artūrs", "Raivis"],
        ["Anna", "Līga", "Inese", "Kristīne", "Ilze", "Santa", "Elīna", "Zane"],
        [("Bērziņš", "Bērziņa"), ("Kalniņš", "Kalniņa"), ("Ozoliņš", "Ozoliņa"),
         ("Jansons", "Jansone"), ("Ozols", "Ozola"), ("Liepiņš", "Liepiņa"),
         ("Krūmiņš", "Krūmiņa"), ("Balodis", "Balode")],
    ),
    "et": (
        ["Martin", "Rasmus", "Markus", "Kristjan", "Andres", "Tõnu", "Priit", "Siim"],
        ["Mari", "Kadri", "Liis", "Kristiina", "Triin", "Anu", "Piret", "Kätlin"],
        [(s, s) for s in ("Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk", "Rebane", "Pärn")],
    ),
    "en": (
        ["George", "Oliver", "James", "Thomas", "Harry", "Jack", "William", "Daniel"],
        ["Olivia", "Amelia", "Emily", "Sophie", "Charlotte", "Grace", "Lucy", "Hannah"],
        [(s, s) for s in ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans",
                          "Walker", "Wright", "Davies")],
    ),
    "ro": (
        ["Andrei", "Alexandru", "Mihai", "Ionuț", "Ștefan", "Cristian", "Gabriel", "Vlad",
         "Bogdan", "Răzvan", "Florin", "Adrian"],
        ["Maria", "Elena", "Ioana", "Andreea", "Alexandra", "Cristina", "Mihaela", "Ana",
         "Raluca", "Bianca", "Diana", "Roxana"],
        [(s, s) for s in ("Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica",
                          "Gheorghe", "Rusu", "Munteanu", "Matei", "Constantin",
                          "Ștefănescu", "Moldovan", "Lungu", "Mărginean")],
    ),
    "cs": (
        ["Jan", "Tomáš", "Petr", "Jakub", "Martin", "Lukáš", "Jiří", "Ondřej"],
        ["Jana", "Tereza", "Eva", "Lucie", "Kateřina", "Veronika", "Petra", "Barbora"],
        [("Novák", "Nováková"), ("Svoboda", "Svobodová"), ("Dvořák", "Dvořáková"),
         ("Černý", "Černá"), ("Procházka", "Procházková"), ("Kučera", "Kučerová"),
         ("Veselý", "Veselá"), ("Němec", "Němcová")],
    ),
}  # fmt: skip
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

# --- Free-text answers, in the contact's language: (topic, sentiment, text). Sentences of a
# topic share their words in different forms (the courier, for the courier, the courier's),
# as buyers' comments do, so that the comment themes have something to find in every language.

POSITIVE, NEGATIVE = "positive", "negative"
TEXTS: dict[str, list[tuple[str, str, str]]] = {
    "lt": [
        ("delivery", POSITIVE, "Prekė atkeliavo greičiau nei tikėjausi, ačiū kurjeriui!"),
        ("delivery", POSITIVE, "Kurjeris paskambino iš anksto ir atvežė laiku."),
        ("delivery", POSITIVE, "Siuntinį gavau kitą dieną, kurjerio darbas puikus."),
        ("packaging", POSITIVE, "Labai kruopščiai supakuota, niekas nesudužo."),
        ("packaging", POSITIVE, "Pakuotė tvarkinga ir graži, tiko dovanai."),
        ("quality", POSITIVE, "Kokybė puiki, tikrai užsisakysiu dar kartą."),
        ("quality", POSITIVE, "Puiki kokybė už tokią kainą."),
        ("price", POSITIVE, "Kaina gera, palyginus su kitomis parduotuvėmis."),
        ("general", POSITIVE, "Viskas sklandu – nuo užsakymo iki pristatymo."),
        ("general", POSITIVE, "Greitas pristatymas ir maloni komunikacija."),
        ("delivery", NEGATIVE, "Siuntinys vėlavo dvi dienas, o apie tai niekas nepranešė."),
        ("delivery", NEGATIVE, "Kurjeris vėlavo ir net nepaskambino."),
        ("delivery", NEGATIVE, "Kurjerio teko laukti visą dieną."),
        ("delivery", NEGATIVE, "Siuntinio sekimas neveikė, nežinojau, kada atvyks kurjeris."),
        ("packaging", NEGATIVE, "Dėžė buvo įplėšta, nors prekė liko sveika."),
        ("packaging", NEGATIVE, "Per daug plastiko pakuotėje."),
        ("packaging", NEGATIVE, "Pakuotė sulamdyta, dėžės kampas įplėštas."),
        ("quality", NEGATIVE, "Spalva kitokia nei nuotraukoje."),
        ("quality", NEGATIVE, "Dydis neatitiko lentelės, teko grąžinti."),
        ("quality", NEGATIVE, "Kokybė prastesnė nei tikėjausi, siūlės atsiknojo."),
        ("price", NEGATIVE, "Pristatymas į paštomatą galėtų būti pigesnis."),
        ("price", NEGATIVE, "Pristatymo kaina per didelė mažam užsakymui."),
        ("checkout", NEGATIVE, "Trūko galimybės apmokėti per el. bankininkystę."),
        ("checkout", NEGATIVE, "Registracija prieš apmokėjimą užtruko per ilgai."),
    ],
    "ro": [
        ("delivery", POSITIVE, "Coletul a ajuns mai repede decât mă așteptam, mulțumesc!"),
        ("delivery", POSITIVE, "Curierul a sunat înainte și a venit la timp."),
        ("delivery", POSITIVE, "Curierului îi mulțumesc, coletul a ajuns a doua zi."),
        ("packaging", POSITIVE, "Produsul a fost ambalat foarte bine, nimic deteriorat."),
        ("quality", POSITIVE, "Calitate foarte bună, voi mai comanda cu siguranță."),
        ("price", POSITIVE, "Prețul este corect față de alte magazine."),
        ("general", POSITIVE, "Totul a decurs fără probleme, de la comandă la livrare."),
        ("delivery", NEGATIVE, "Livrarea a întârziat trei zile și nu am primit nicio notificare."),
        ("delivery", NEGATIVE, "Curierul nu a sunat și a lăsat coletul la vecini."),
        ("delivery", NEGATIVE, "Am așteptat curierul toată ziua, livrarea a întârziat."),
        ("packaging", NEGATIVE, "Cutia era deteriorată, dar produsul a fost în regulă."),
        ("packaging", NEGATIVE, "Prea mult plastic în ambalaj."),
        ("packaging", NEGATIVE, "Coletul a ajuns cu cutia turtită."),
        ("quality", NEGATIVE, "Culoarea nu seamănă cu cea din fotografie."),
        ("quality", NEGATIVE, "Mărimea nu corespunde tabelului, a trebuit să returnez produsul."),
        ("quality", NEGATIVE, "Calitatea este mai slabă decât mă așteptam."),
        ("price", NEGATIVE, "Taxa de livrare este prea mare pentru comenzi mici."),
        ("checkout", NEGATIVE, "Formularul de comandă cere prea multe date."),
        ("checkout", NEGATIVE, "Aș vrea să pot plăti cu cardul la livrare."),
    ],
    "en": [
        ("delivery", POSITIVE, "The parcel arrived a day earlier than promised, thanks!"),
        ("delivery", POSITIVE, "The courier called ahead and came on time."),
        ("delivery", POSITIVE, "Fast delivery, the parcel was at my door the next day."),
        ("packaging", POSITIVE, "Very well packed, nothing was damaged."),
        ("quality", POSITIVE, "Great quality for the price, will order again."),
        ("quality", POSITIVE, "The quality is better than I expected."),
        ("price", POSITIVE, "Prices are better than in other shops I checked."),
        ("general", POSITIVE, "Everything went smoothly, from ordering to delivery."),
        ("delivery", NEGATIVE, "The parcel was two days late and nobody told me."),
        ("delivery", NEGATIVE, "The courier never called and left the parcel with a neighbour."),
        ("packaging", NEGATIVE, "The box was crushed, although the product was fine."),
        ("packaging", NEGATIVE, "Far too much plastic in the packaging."),
        ("quality", NEGATIVE, "The colour looks different from the photo."),
        ("quality", NEGATIVE, "Poor quality: the seams came apart after a week."),
        ("price", NEGATIVE, "Shipping costs are too high for small orders."),
        ("price", NEGATIVE, "The delivery costs more than the product itself."),
        ("checkout", NEGATIVE, "Let me check out without creating an account."),
        ("checkout", NEGATIVE, "The payment page kept timing out at checkout."),
    ],
    "lv": [
        ("delivery", POSITIVE, "Paka pienāca ātrāk, nekā gaidīju, paldies!"),
        ("delivery", POSITIVE, "Kurjers piezvanīja iepriekš, paku saņēmu laikā."),
        ("packaging", POSITIVE, "Ļoti rūpīgi iepakots, nekas nebija bojāts."),
        ("quality", POSITIVE, "Lieliska kvalitāte, noteikti pasūtīšu vēlreiz."),
        ("price", POSITIVE, "Cena ir laba, salīdzinot ar citiem veikaliem."),
        ("general", POSITIVE, "Viss noritēja gludi, cena laba, paka pienāca laikā."),
        ("delivery", NEGATIVE, "Piegāde kavējās divas dienas, un neviens mani nebrīdināja."),
        ("delivery", NEGATIVE, "Paku nācās gaidīt vairāk nekā nedēļu."),
        ("packaging", NEGATIVE, "Pakas kaste bija saplēsta, bet prece palika vesela."),
        ("quality", NEGATIVE, "Krāsa atšķiras no fotogrāfijā redzamās."),
        ("quality", NEGATIVE, "Kvalitāte ir sliktāka, nekā gaidīju."),
        ("price", NEGATIVE, "Piegādes maksa mazam pasūtījumam ir pārāk augsta."),
        ("checkout", NEGATIVE, "Pietrūka iespējas samaksāt ar internetbanku."),
    ],
    "et": [
        ("delivery", POSITIVE, "Pakk jõudis kohale kiiremini, kui ootasin, aitäh!"),
        ("delivery", POSITIVE, "Kuller helistas ette ja pakk oli õigel ajal kohal."),
        ("packaging", POSITIVE, "Väga hoolikalt pakitud, midagi ei olnud katki."),
        ("quality", POSITIVE, "Suurepärane kvaliteet, tellin kindlasti uuesti."),
        ("price", POSITIVE, "Hind on teiste poodidega võrreldes hea."),
        ("general", POSITIVE, "Kõik sujus hästi, pakk jõudis õigel ajal."),
        ("delivery", NEGATIVE, "Tarne hilines kaks päeva ja keegi ei teavitanud mind."),
        ("delivery", NEGATIVE, "Paki pidin ootama üle nädala."),
        ("packaging", NEGATIVE, "Paki karp oli mõlkis, kuid toode jäi terveks."),
        ("quality", NEGATIVE, "Värv erineb pildil olevast."),
        ("quality", NEGATIVE, "Kvaliteet on kehvem, kui selle hinna eest ootasin."),
        ("price", NEGATIVE, "Väikese tellimuse saatmiskulu on liiga suur."),
        ("checkout", NEGATIVE, "Puudus võimalus maksta pangalingiga."),
    ],
    "cs": [
        ("delivery", POSITIVE, "Balík dorazil dříve, než jsem čekal, děkuji!"),
        ("delivery", POSITIVE, "Kurýr zavolal předem a balík přivezl včas."),
        ("packaging", POSITIVE, "Velmi pečlivě zabaleno, nic nebylo poškozené."),
        ("quality", POSITIVE, "Skvělá kvalita, určitě objednám znovu."),
        ("price", POSITIVE, "Cena je v porovnání s jinými obchody dobrá."),
        ("general", POSITIVE, "Vše proběhlo hladce, balík přišel včas."),
        ("delivery", NEGATIVE, "Doručení se zpozdilo o dva dny a nikdo mi nic nedal vědět."),
        ("delivery", NEGATIVE, "Na balík jsem čekal přes týden."),
        ("packaging", NEGATIVE, "Balík měl roztrženou krabici, ale zboží zůstalo v pořádku."),
        ("quality", NEGATIVE, "Barva je jiná než na fotografii."),
        ("quality", NEGATIVE, "Kvalita je horší, než jsem čekal."),
        ("price", NEGATIVE, "Poštovné je u malých objednávek příliš vysoké."),
        ("checkout", NEGATIVE, "Chyběla mi možnost zaplatit bankovním převodem."),
    ],
}
# The topics a template's free-text question is mostly answered about.
TOPICS = {
    "post-purchase-csat": ("quality", "price", "general", "packaging"),
    "delivery-experience": ("delivery", "packaging"),
    "nps": ("quality", "price", "delivery", "general"),
    "checkout-ces": ("checkout", "general", "price"),
}

BOUNCE_REASON = "bounced (Postmark): smtp;550 5.1.1 The email account does not exist."


# --- Generation


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _make_contacts(spec: DemoStore, store: Store, rng: random.Random) -> list[Contact]:
    contacts: list[Contact] = []
    emails: set[str] = set()
    codes, weights = zip(*spec.languages.items(), strict=True)
    for number in range(spec.contacts):
        language = rng.choices(codes, weights)[0]
        males, females, surnames = NAMES[language]
        female = rng.random() < 0.56  # a gift shop's buyers
        first = rng.choice(females if female else males)
        surname = rng.choice(surnames)[1 if female else 0]
        local = rng.choice(
            [
                f"{_ascii(first)}.{_ascii(surname)}",
                f"{_ascii(first)}{_ascii(surname)}",
                f"{_ascii(first)[0]}.{_ascii(surname)}",
                f"{_ascii(first)}{rng.randint(1, 99)}",
            ]
        )
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in emails:
            email = f"{local}{rng.randint(2, 999)}@{email.split('@')[1]}"
        emails.add(email)
        contacts.append(
            Contact(
                organisation_id=store.organisation_id,
                store=store,
                email=email,
                customer_key=f"{spec.key_prefix}-{104_000 + number * 7 + rng.randint(0, 6)}",
                name=f"{first} {surname}",
                # A few imported without a language: the store's default applies.
                language="" if rng.random() < 0.04 else language,
            )
        )
    return contacts


def _quota(weights: list[int], count: int, rng: random.Random) -> list[int]:
    """`count` scores (0-based offsets) in the weights' exact proportions, shuffled: a demo of
    a few dozen answers then shows the intended distribution, not sampling noise."""
    total = sum(weights)
    exact = [w * count / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for index in by_remainder[: count - sum(counts)]:
        counts[index] += 1
    scores = [offset for offset, n in enumerate(counts) for _ in range(n)]
    rng.shuffle(scores)
    return scores


def _answer_values(
    *,
    rng: random.Random,
    comments: random.Random,
    template: str,
    questions: list[Question],
    score: int,
    language: str,
) -> list[tuple[Question, dict[str, Any]]]:
    """The answers of one response: the headline scale, then the optional questions, more
    often answered by unhappy customers. Whether and what they write comes from `comments`,
    a stream of its own, so that the comments can change without moving anything else."""
    headline = questions[0]
    low, high = headline.scale or (1, 5)
    position = (score - low) / (high - low)  # 0 worst .. 1 best
    unhappy = position < (0.75 if headline.type == Question.Type.NPS else 0.7)
    answers: list[tuple[Question, dict[str, Any]]] = [(headline, {"number": score})]
    for question in questions[1:]:
        choices = len(next(iter((question.choices or {}).values()), []))
        kind = question.type
        if kind == Question.Type.MULTIPLE_CHOICE and rng.random() < (0.7 if unhappy else 0.2):
            weights = [4, 2, 3, 1, 3, 1, 1, 1][:choices]
            picked = {rng.choices(range(choices), weights)[0] for _ in range(rng.randint(1, 2))}
            answers.append((question, {"choices": sorted(picked)}))
        elif kind == Question.Type.SINGLE_CHOICE and rng.random() < (0.65 if unhappy else 0.15):
            weights = [3, 2, 2, 1, 1, 1, 1, 1][:choices]
            answers.append((question, {"number": rng.choices(range(choices), weights)[0]}))
        elif kind == Question.Type.FREE_TEXT and comments.random() < (0.8 if unhappy else 0.5):
            sentiment = NEGATIVE if unhappy else POSITIVE
            pool = [t for t in TEXTS[language] if t[1] == sentiment]
            on_topic = [t for t in pool if t[0] in TOPICS.get(template, ())]
            answers.append((question, {"text": comments.choice(on_topic or pool)[2]}))
    return answers


@dataclass
class _Started:
    """A response: submitted, or begun and left (submitted_at None)."""

    invitation: Invitation
    template: str
    started_at: datetime
    submitted_at: datetime | None
    answers: list[tuple[Question, dict[str, Any]]] = field(default_factory=list)


def _simulate(
    *,
    spec: DemoStore,
    rng: random.Random,
    contacts: list[Contact],
    surveys: dict[str, Survey],
    fatigue: timedelta,
    anchor: datetime,
) -> tuple[list[Invitation], list[_Started]]:
    """Orders over the last DAYS days; most are surveyed by one of the store's surveys (a
    sample, as a store would set it up), subject to the fatigue cap; then a customer answers,
    opens, ignores, bounces or unsubscribes."""
    invitations: list[Invitation] = []
    started: list[_Started] = []
    templates, shares = zip(*spec.surveys.items(), strict=True)
    first_day, last_day = anchor - timedelta(days=DAYS), anchor - timedelta(days=QUIET_DAYS)
    for contact in contacts:
        planned = []
        # Repeat customers come back every few weeks: a chain of orders from the first one.
        # From before the period too: an NPS survey goes out a month after the delivery.
        ordered_at = anchor - timedelta(days=rng.uniform(QUIET_DAYS, DAYS + 35))
        orders = []
        while ordered_at < last_day:
            orders.append(ordered_at)
            ordered_at += timedelta(days=21 + rng.expovariate(1 / 45))
        for ordered_at in orders:
            if rng.random() < 0.15:
                continue  # not sampled for a survey
            template = rng.choices(templates, shares)[0]
            survey = surveys[template]
            triggered_at = ordered_at
            if survey.trigger_event == "delivered":
                triggered_at += timedelta(hours=rng.uniform(20, 96))
            due_at = triggered_at + survey.delay
            if first_day <= due_at <= last_day:
                planned.append((due_at, triggered_at, template, survey))
        last_sent: datetime | None = None
        for due_at, triggered_at, template, survey in sorted(planned, key=lambda p: p[0]):
            nonce = tokens.new_nonce()
            invitation = Invitation(
                survey=survey,
                contact=contact,
                nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for(nonce)),
                language=(
                    contact.language
                    if contact.language in survey.languages
                    else survey.default_language
                ),
                trigger_event=survey.trigger_event,
                triggered_at=triggered_at,
                due_at=due_at,
            )
            invitations.append(invitation)
            if not contact.can_be_emailed:
                invitation.status = Invitation.Status.FAILED
                invitation.last_error = "unsubscribed" if contact.unsubscribed_at else "suppressed"
                continue
            if last_sent is not None and due_at - last_sent < fatigue:
                invitation.status = Invitation.Status.CAPPED
                continue
            sent_at = due_at + timedelta(seconds=rng.randint(20, 300))
            last_sent = sent_at
            invitation.attempts = 1
            invitation.sending_started_at = sent_at - timedelta(seconds=1)
            invitation.sent_at = sent_at
            invitation.status = Invitation.Status.SENT
            # Without a reminder (the CES template), "answers the reminder" is a late answer.
            reminds = survey.reminder_after_days is not None
            reminder_at = sent_at + timedelta(days=survey.reminder_after_days or 3)
            fate = rng.random()
            answered_at = None
            if fate < 0.02:
                invitation.status = Invitation.Status.BOUNCED
                contact.suppressed_at = sent_at + timedelta(minutes=2)
                contact.suppression_reason = BOUNCE_REASON
            elif fate < 0.04:
                invitation.status = Invitation.Status.OPENED
                invitation.opened_at = sent_at + timedelta(hours=rng.uniform(0.2, 30))
                contact.unsubscribed_at = invitation.opened_at + timedelta(minutes=1)
            elif fate < 0.32:  # answers the email itself, mostly within hours
                answered_at = sent_at + timedelta(hours=min(rng.lognormvariate(0.7, 1.1), 70))
            else:
                invitation.reminder_sent_at = reminder_at if reminds else None
                if fate < 0.42:  # answers the reminder
                    answered_at = reminder_at + timedelta(hours=rng.lognormvariate(0.5, 1.0))
                elif fate < 0.68:
                    invitation.status = Invitation.Status.OPENED
                    invitation.opened_at = sent_at + timedelta(hours=rng.uniform(0.1, 80))
                    if rng.random() < 0.15:
                        started.append(
                            _Started(
                                invitation, template, invitation.opened_at + timedelta(minutes=1),
                                None,
                            )
                        )  # fmt: skip
            if answered_at is not None and answered_at >= anchor:
                invitation.status = Invitation.Status.OPENED  # will answer later, perhaps
                invitation.opened_at = anchor - timedelta(hours=2)
            elif answered_at is not None:
                invitation.status = Invitation.Status.ANSWERED
                invitation.answered_at = answered_at
                invitation.opened_at = answered_at - timedelta(minutes=rng.randint(1, 6))
                started.append(
                    _Started(
                        invitation, template, invitation.opened_at + timedelta(seconds=20),
                        answered_at,
                    )
                )  # fmt: skip
    return invitations, started


def _answer(
    *,
    spec: DemoStore,
    rng: random.Random,
    started: list[_Started],
    questions: dict[int, list[Question]],
) -> None:
    """Scores per survey in the template's proportions; a response left unsubmitted has
    only its first answer."""
    comments = random.Random(f"{spec.seed}-comments")  # noqa: S311 (demo data, nothing secret)
    for template, weights in spec.scores.items():
        submitted = [r for r in started if r.template == template and r.submitted_at]
        for response, offset in zip(submitted, _quota(weights, len(submitted), rng), strict=True):
            survey_questions = questions[response.invitation.survey_id]
            low = (survey_questions[0].scale or (1, 5))[0]
            response.answers = _answer_values(
                rng=rng,
                comments=comments,
                template=template,
                questions=survey_questions,
                score=low + offset,
                language=response.invitation.language,
            )
    for response in started:
        if response.submitted_at is None:
            headline = questions[response.invitation.survey_id][0]
            low = (headline.scale or (1, 5))[0]
            offset = rng.choices(range(len(spec.scores[response.template])),
                                 spec.scores[response.template])[0]  # fmt: skip
            response.answers = [(headline, {"number": low + offset})]


# --- Loading


def _journey_touchpoint(store: Store, survey: Survey) -> Touchpoint | None:
    """The active journey's touchpoint of the survey's moment that its trigger event signals."""
    journey = Journey.objects.filter(store=store, status="active").order_by("id").first()
    if journey is None:
        return None
    return (
        Touchpoint.objects.filter(
            stage__journey=journey,
            stage__moment=survey.moment,
            event_names__contains=[survey.trigger_event],
        )
        .order_by("stage__position", "position", "id")
        .first()
    )


def _surveys(spec: DemoStore, store: Store, anchor: datetime) -> dict[str, Survey]:
    surveys = {}
    for template in spec.surveys:
        survey = Survey.objects.filter(store=store, template_key=template).order_by("id").first()
        if survey is None:
            survey = services.survey_create_from_template(
                organisation=store.organisation,
                store=store,
                actor=SYSTEM,
                template=template,
                languages=spec.survey_languages,
            )
            touchpoint = _journey_touchpoint(store, survey)
            if touchpoint is not None:
                survey = services.survey_update(survey=survey, actor=SYSTEM, touchpoint=touchpoint)
        if survey.status != Survey.Status.ACTIVE:
            survey = services.survey_set_status(
                survey=survey, actor=SYSTEM, status=Survey.Status.ACTIVE
            )
        Survey.objects.filter(pk=survey.pk).update(created_at=anchor - timedelta(days=DAYS + 5))
        surveys[template] = survey
    return surveys


def _load_store(spec: DemoStore, store: Store, anchor: datetime) -> None:
    rng = random.Random(spec.seed)  # noqa: S311 (demo data, nothing secret)
    settings_row, _created = StoreSurveySettings.objects.update_or_create(
        store=store, defaults={"sender_name": "Baltic Goods", "reply_to": spec.reply_to}
    )
    surveys = _surveys(spec, store, anchor)
    questions: dict[int, list[Question]] = {s.pk: [] for s in surveys.values()}
    for question in Question.objects.filter(survey__in=surveys.values()).order_by("position", "id"):
        questions[question.survey_id].append(question)
    contacts = _make_contacts(spec, store, rng)
    # A second run: the contacts made before go, with their invitations and answers.
    Contact.objects.filter(store=store, email__in=[c.email for c in contacts]).delete()
    invitations, started = _simulate(
        spec=spec,
        rng=rng,
        contacts=contacts,
        surveys=surveys,
        fatigue=timedelta(days=settings_row.fatigue_days),
        anchor=anchor,
    )
    _answer(spec=spec, rng=rng, started=started, questions=questions)
    # A few hundred rows each: one INSERT per table.
    Contact.objects.bulk_create(contacts, batch_size=1000)
    Invitation.objects.bulk_create(invitations, batch_size=1000)
    responses = [
        Response(
            invitation=r.invitation,
            survey_id=r.invitation.survey_id,
            store=store,
            language=r.invitation.language,
            submitted_at=r.submitted_at,
        )
        for r in started
    ]
    Response.objects.bulk_create(responses, batch_size=1000)
    Answer.objects.bulk_create(
        (
            Answer(
                response=response,
                question=question,
                answered_at=r.submitted_at or r.started_at,
                **{"number": None, "choices": [], "text": "", **values},
            )
            for response, r in zip(responses, started, strict=True)
            for question, values in r.answers
        ),
        batch_size=2000,
    )
    # The automatic timestamps say "now"; the story happened over the last 90 days.
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        created_at=anchor - timedelta(days=DAYS + 30)
    )
    Invitation.objects.filter(contact__in=contacts).update(created_at=F("triggered_at"))
    if responses:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Response._meta.db_table} AS r SET started_at = v.started, "  # noqa: S608
                "updated_at = COALESCE(r.submitted_at, v.started) "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, started) "
                "WHERE r.id = v.id",
                [[r.pk for r in responses], [r.started_at for r in started]],
            )


@transaction.atomic
def load(*, organisation: Organisation, now: datetime | None = None) -> None:
    anchor = (now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    for spec in DEMO_STORES:
        store = Store.objects.filter(organisation=organisation, name=spec.name).first()
        if store is not None:
            _load_store(spec, store, anchor)


def comment_themes_load(*, organisation: Organisation) -> dict[str, dict[str, int]]:
    """The demo stores' comment themes, computed once their answers are in (`make demo`,
    settings.DEMO_LOADERS, after `load`), as the worker's task computes them."""
    return {
        store.name: services.comment_themes_compute(store_id=store.pk)
        for store in Store.objects.filter(organisation=organisation).order_by("pk")
    }
