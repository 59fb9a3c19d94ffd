"""Comment themes: the words and two-word phrases that recur in buyers' free-text answers, per
language. Text in, counts out; no database here (surveys/services/themes.py reads the answers
and stores what this counts) and nothing leaves the process: lemmas come from the
dictionaries inside the `simplemma` package, stop words from the lists inside `stopwordsiso`.

What an answer contributes, exactly (`terms`):
- Its text is cut into tokens: runs of letters and digits, with an apostrophe or a hyphen
  inside a word kept (`courier's`, `e-shop`). Anything else that is not a space (a full stop,
  a comma, `!`, `€`, an emoji) ends a clause.
- A token is dropped when it holds a digit (`2`, `10eur`), has one character, or is a stop
  word of the answer's language (numbers from one to ten written as words are stop words
  too), as written or as its lemma. Every other token becomes its lemma (`kurjerio`,
  `kurjeriui` → `kurjeris`), lower-cased: a **word**.
- A **phrase** is two words kept one after the other in the same clause, in their order
  (`Kurjeris vėlavo` → `kurjeris vėluoti`); dropped stop words and numbers between them do not
  part them (`The box was crushed` → `box crush`), but a negation does (`did not call`:
  no `courier call`), and a clause's end does. A word twice in a row makes no phrase.
- An answer counts once for each distinct word and phrase in it, however often it repeats it.

The packages' coverage of the six survey languages (stopwordsiso 0.7.1, simplemma 2.0.0),
and what is added here (EXTRA_STOP_WORDS) where a list lacks common function words:
- en: 1,298 stop words, a broad list (it also drops `order`, `good`, `great`, `new`), so
  English themes name things (courier, parcel, price) more than praise; the answers' mean
  score beside each carries the sentiment. simplemma: dictionary and rules.
- lt: 474 stop words, 139 of them shipped mis-encoded (ISO-8859-13 read as Latin-1: `dël`
  for `dėl`, `að` for `aš`), repaired here on load; no form of "to be", added. simplemma:
  dictionary only (no rules), not always consistent (`siuntinys` stays, `siuntinio` →
  `siuntinis`).
- lv: 161 stop words, few pronouns (added). simplemma's Latvian dictionary is the smallest
  of the six: some nouns collapse (`paka`, `pakas`, `paku` → `paka`), many inflected forms
  stay as written (`kurjera`, `kurjeram`), so a Latvian theme may be split over forms.
- et: only 35 stop words; the commonest function words are added (`ka`, `ning`, `väga`,
  `olema`...). simplemma: dictionary and rules.
- cs: 423 stop words; ro: 434 stop words, written with the cedilla (`şi`) where simplemma
  and today's keyboards write the comma below (`și`): both are read as the comma below.
  simplemma: dictionary and rules for both. Both lists count "day" (`den`, `zi`) as a stop
  word, which English does not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stopwordsiso
from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy

LANGUAGES = ("en", "lt", "lv", "et", "cs", "ro")

# A word or phrase is a theme once this many answers of the group use it: one answer alone
# is that buyer's wording, not something buyers say.
MIN_ANSWERS = 2
# The most frequent themes kept per stage, language and period (the page and the API show
# them all); the rest are cut, ties by fewer words then alphabetically.
MAX_THEMES = 50
# Example answers kept per theme, newest first.
EXAMPLES = 3
SCALES = ("csat", "nps", "ces")

# What the packaged lists lack among the commonest function words of each language (found by
# checking them: Lithuanian has no form of "to be", Latvian few pronouns, Estonian 35 words in
# all), and the numbers from one to ten written as words.
EXTRA_STOP_WORDS = {
    "en": set(),
    "lt": {
        "būti", "buvo", "yra", "bus", "nebūti", "nebuvo", "nėra", "jau", "labai", "visai",
        "vienas", "du", "trys", "keturi", "penki", "šeši", "septyni", "aštuoni", "devyni",
        "dešimt",
    },
    "lv": {
        "ļoti", "vēl", "tas", "to", "tā", "tie", "viņš", "viņa", "viņi", "es", "tu", "mēs",
        "jūs", "viss", "visu", "kad", "mans", "mana",
        "viens", "divi", "trīs", "četri", "pieci", "seši", "septiņi", "astoņi", "deviņi",
        "desmit",
    },
    "et": {
        "ka", "ning", "või", "kuid", "väga", "olema", "olnud", "oleks", "olid", "oleme",
        "nagu", "veel", "juba", "ainult", "kes", "kus", "kuhu", "kuidas", "miks", "need",
        "seal", "mina", "sina", "tema", "meie", "teie", "nemad", "ise", "iga", "mõni",
        "kuni", "pärast", "enne", "peale", "sest", "kuna", "ikka", "siiski", "küll", "kõige",
        "rohkem", "vähem", "koos", "saama",
        "üks", "kaks", "kolm", "neli", "viis", "kuus", "seitse", "kaheksa", "üheksa", "kümme",
    },
    "cs": {
        "velmi", "vše",
        "jeden", "dva", "tři", "čtyři", "pět", "šest", "sedm", "osm", "devět", "deset",
    },
    "ro": {
        "încă",
        "unu", "doi", "trei", "patru", "cinci", "șase", "șapte", "opt", "nouă", "zece",
    },
}  # fmt: skip

# Words that end a phrase (they are stop words too): what follows a negation is not said of
# what came before it.
NEGATIONS = {
    "en": {"not", "no", "never", "nor", "without", "nothing", "nobody", "none", "cannot"},
    "lt": {"ne", "nei", "nė", "be", "niekada", "nebe", "niekas"},
    "lv": {"ne", "nav", "nebija", "nevis", "bez", "nekad", "nedz", "neviens", "nekas"},
    "et": {"ei", "pole", "polnud", "mitte", "ilma", "ega", "keegi", "midagi"},
    "cs": {"ne", "bez", "nikdy", "ani", "nic", "nikdo"},
    "ro": {"nu", "fără", "niciodată", "nici", "niciun", "nicio", "niciunul", "nimic", "nimeni"},
}

# Romanian's s and t with a comma below, as simplemma's dictionary writes them; stopwordsiso's
# list and older keyboards use the cedilla (ş, ţ).
_COMMA_BELOW = str.maketrans("şţŞŢ", "șțȘȚ")

# Letters and digits, with an apostrophe or hyphen inside a word; `_` is no letter here.
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_DIGIT = re.compile(r"\d")

# The low-memory dictionaries: all six languages hold about 50 MB in a worker instead of
# about 380 MB (Estonian's alone is 226 MB as a plain dict), at the cost of slower look-ups
# of words it does not know; each run looks each distinct token up once (Vocabulary).
_LEMMATIZER = Lemmatizer(cache_max_size=0, lemmatization_strategy=DefaultStrategy(low_memory=True))


def _repaired(word: str) -> str:
    """A Lithuanian stop word as it was meant: the list was read from ISO-8859-13 as Latin-1.
    A word that is already right (or plain ASCII) comes back unchanged."""
    try:
        return word.encode("latin-1").decode("iso-8859-13")
    except UnicodeEncodeError:
        return word


@functools.cache
def stop_words(language: str) -> frozenset[str]:
    """The stop words of one of the six languages: stopwordsiso's, repaired and completed."""
    words = stopwordsiso.stopwords(language)
    if language == "lt":
        words = {_repaired(word) for word in words}
    words = {_normal(word, language) for word in words}
    return frozenset(words | EXTRA_STOP_WORDS[language] | NEGATIONS[language])


def _normal(token: str, language: str) -> str:
    """Lower case, one apostrophe, and Romanian's comma-below letters."""
    token = token.casefold().replace("’", "'")
    return token.translate(_COMMA_BELOW) if language == "ro" else token


class Vocabulary:
    """Tokens to lemmas for one run, each distinct token looked up once; then freed with it."""

    def __init__(self) -> None:
        self._lemmas: dict[tuple[str, str], str | None] = {}

    def word(self, token: str, language: str) -> str | None:
        """The token's lemma, or None when it is dropped (a stop word, a number, one letter)."""
        key = (token, language)
        if key not in self._lemmas:
            self._lemmas[key] = self._lookup(token, language)
        return self._lemmas[key]

    @staticmethod
    def _lookup(token: str, language: str) -> str | None:
        stops = stop_words(language)
        if len(token) < 2 or _DIGIT.search(token) or token in stops:
            return None
        lemma = _LEMMATIZER.lemmatize(token, lang=language).casefold()
        # The dictionaries number homonyms (`kartas2`) and join some compounds (`nici_un`).
        lemma = lemma.rstrip("0123456789").replace("_", "")
        return None if lemma in stops or len(lemma) < 2 else lemma


def terms(text: str, language: str, vocabulary: Vocabulary | None = None) -> set[str]:
    """The distinct words and phrases of one answer (see the module's docstring)."""
    vocabulary = vocabulary or Vocabulary()
    negations = NEGATIONS[language]
    found: set[str] = set()
    previous: str | None = None  # the last word kept in this clause
    end = 0
    for match in _TOKEN.finditer(text):
        if text[end : match.start()].strip():
            previous = None  # punctuation or a symbol between: a new clause
        end = match.end()
        token = _normal(match.group(), language)
        if token in negations:
            previous = None
            continue
        word = vocabulary.word(token, language)
        if word is None:
            continue
        found.add(word)
        if previous is not None and previous != word:
            found.add(f"{previous} {word}")
        previous = word
    return found


@dataclass(frozen=True)
class Comment:
    """One free-text answer, with the scores its response gave on each headline scale."""

    answer_id: int
    text: str
    language: str
    answered_at: datetime
    scores: dict[str, int]  # "csat" / "nps" / "ces" -> the response's score on that scale


@dataclass(slots=True)
class _Tally:
    answers: int = 0
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])  # per scale in SCALES
    sums: list[int] = field(default_factory=lambda: [0, 0, 0])
    examples: list[int] = field(default_factory=list)  # answer ids, newest first

    def add(self, comment: Comment) -> None:
        self.answers += 1
        for index, scale in enumerate(SCALES):
            score = comment.scores.get(scale)
            if score is not None:
                self.counts[index] += 1
                self.sums[index] += score
        if len(self.examples) < EXAMPLES:
            self.examples.append(comment.answer_id)

    def scores(self) -> dict[str, dict[str, float | int] | None]:
        """Per scale, the answers with a score on it and their mean (2 places), or None."""
        return {
            scale: {"count": n, "mean": round(self.sums[index] / n, 2)} if n else None
            for index, (scale, n) in enumerate(zip(SCALES, self.counts, strict=True))
        }


class ThemeCounter:
    """The themes of one group of comments (a stage, a language, a period), fed newest first
    so that the first answers a theme meets are its newest examples."""

    def __init__(self) -> None:
        self.all = _Tally()
        self.themes: dict[str, _Tally] = {}

    def add(self, comment: Comment, found: Iterable[str]) -> None:
        self.all.add(comment)
        for term in found:
            tally = self.themes.get(term)
            if tally is None:
                tally = self.themes[term] = _Tally()
            tally.add(comment)

    def result(self) -> Counted:
        """The group's themes: MIN_ANSWERS or more answers, the MAX_THEMES most frequent."""
        kept = sorted(
            ((term, tally) for term, tally in self.themes.items() if tally.answers >= MIN_ANSWERS),
            key=lambda item: (-item[1].answers, item[0].count(" "), item[0]),
        )[:MAX_THEMES]
        return Counted(
            answers=self.all.answers,
            scores=self.all.scores(),
            themes=[
                {
                    "phrase": term,
                    "words": term.count(" ") + 1,
                    "answers": tally.answers,
                    "scores": tally.scores(),
                    "examples": tally.examples,
                }
                for term, tally in kept
            ],
        )


@dataclass(frozen=True)
class Counted:
    """What a group's comments came to: how many, their scores per scale, and their themes,
    each with its `phrase`, `words` (1 or 2), `answers`, `scores` and `examples` (answer ids,
    newest first), most answers first."""

    answers: int
    scores: dict[str, dict[str, float | int] | None]
    themes: list[dict[str, Any]]
