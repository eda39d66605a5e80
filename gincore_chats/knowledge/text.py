"""Normalisation, tokens and stems: the one tokeniser both storage and search use.

Questions are compared on *stems*: lower-cased words without their inflection ("deliveries",
"delivered" -> "deliv"; "замовлення", "замовленням" -> "замовлен"). Snowball stems the
languages it knows; Ukrainian, which neither Snowball nor PostgreSQL ships, gets the small
suffix stripper below. Function words ("the", "is", "мій", "как") are dropped: they carry no
meaning of their own and would only make unrelated questions look alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import snowballstemmer

#: Primary language subtag -> Snowball algorithm.
SNOWBALL = {
    "en": "english",
    "ru": "russian",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "tr": "turkish",
    "pl": "polish",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "fi": "finnish",
    "ro": "romanian",
    "hu": "hungarian",
    "cs": "czech",
}

_APOSTROPHES = "'’ʼ`´‘"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
#: Longest token kept (a stem column stores them; longer "words" are hashes or junk).
MAX_TOKEN = 40


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "en": _wordset(
        """a an the and or but if of to in on at by for with from into onto about as is are was
        were be been being am do does did doing done have has had having i me my mine myself we
        us our ours you your yours he him his she her hers it its they them their theirs this
        that these those there here so than too very just also please pls plz hi hello hey
        thanks thank any some all would could should shall will may might must can get got
        let s t im ive id ill dont doesnt didnt isnt arent wasnt cant wont one"""
    ),
    "uk": _wordset(
        """і й та а але або чи що це цей ця ці той та ті ось тут там як так же ж би б бо в у
        на з із зі до від по за про при для над під між через мене мені мій моя моє мої ми нас
        нам наш наша наше наші ви вас вам ваш ваша ваше ваші він його йому вона її їй воно
        вони їх їм я ти тебе тобі твій є був була було були буде будь будь-ласка ласка
        будьласка привіт добрий день вечір ранок дякую дуже вже ще теж також лише тільки
        можна мож"""
    ),
    "ru": _wordset(
        """и й а но или ли что это этот эта эти тот та те вот тут там как так же ж бы б в во у
        на с со к ко до от по за про при для над под между через меня мне мой моя мое моё мои
        мы нас нам наш наша наше наши вы вас вам ваш ваша ваше ваши он его ему она ее её ей оно
        они их им я ты тебя тебе твой есть был была было были будет пожалуйста привет добрый
        день вечер утро здравствуйте спасибо очень уже еще ещё тоже также лишь только
        можно"""
    ),
}

# Ukrainian inflection, longest first. Stripping stops at three letters of stem.
_UK_SUFFIXES = sorted(
    _wordset(
        """ування ювання ення ання іння ість ості ами ями ові еві ого ому ими іми
    ити іти ати яти ути ють ають ують ить ять ете ите уть ала али ало ила или ило ула ули
    уло ний ній ною ною ної ним них ний ому ого ій ий ої ою ею єю ах ях ів їв ом ем ам ям
    им ім ия ія ья ть ти ла ли ло ся сь а я о е є и і ї у ю й ь"""
    ),
    key=len,
    reverse=True,
)
_UK_VOWELS = set("аеєиіїоуюя")


def normalize(text: str) -> str:
    """Lower-cased, NFKC, apostrophes dropped, "ё" as "е", whitespace collapsed."""
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = value.translate({ord(c): None for c in _APOSTROPHES}).replace("ё", "е")
    return _SPACES.sub(" ", value).strip()


def words(text: str) -> list[str]:
    """The words of already normalised text (letters and digits, nothing else)."""
    return [w[:MAX_TOKEN] for w in _WORD.findall(text)]


def primary(language: str | None) -> str:
    return (language or "").split("-")[0].split("_")[0].lower()


def _stem_uk(word: str) -> str:
    for suffix in _UK_SUFFIXES:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if len(stem) >= 3 and any(c in _UK_VOWELS for c in stem):
                return stem
    return word


@functools.lru_cache(maxsize=8)
def _stemmer(algorithm: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(algorithm)


@functools.lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    lang = primary(language)
    if lang == "uk":
        return _stem_uk(word)
    algorithm = SNOWBALL.get(lang)
    if algorithm is None or word.isdigit():
        return word
    return str(_stemmer(algorithm).stemWord(word))


def stems(text: str, language: str | None) -> list[str]:
    """The stems of ``text`` in order, function words dropped (duplicates kept)."""
    lang = primary(language)
    stop = STOPWORDS.get(lang, frozenset())
    result = []
    for word in words(normalize(text)):
        if word in stop or (len(word) == 1 and not word.isdigit()):
            continue
        result.append(stem(word, lang))
    return result


def stem_string(text: str, language: str | None) -> str:
    """Stems joined by spaces: what the search columns store."""
    return " ".join(stems(text, language))
