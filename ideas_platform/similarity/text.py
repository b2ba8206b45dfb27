"""From an idea's title and body to weighted terms, for German and English.

The steps, each small and deterministic (nothing is downloaded, no PostgreSQL extension):

1. lower case, fold umlauts and ß (so "Gründer" and "Gruender" meet);
2. a domain thesaurus maps synonyms and abbreviations to one canonical term ("künstliche
   Intelligenz", "KI", "AI" -> ``ki``; "3D-Druck", "additive Fertigung" -> ``3ddruck``);
3. words are split at hyphens ("Wasserstoff-Tankstellen" -> wasserstoff, tankstellen), stop words
   dropped, the rest stemmed with the Snowball stemmer (German, or English for English text);
4. each term gets a weight: title words count double, words that appear in nearly every idea of
   such a process ("Projekt", "Unternehmen", "Sachsen") count less.

Compounds ("Gründerzentren" vs "Zentren für Gründer") are not split here; the scorer matches a
term that is the head or the start of a longer one (see ``scorer.term_similarity``).
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "é": "e", "è": "e"})
_WORD = re.compile(r"[a-z0-9]+")

# Function words of both languages; they carry no topic.
STOP_WORDS = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch auf
    aus bei beim bereits bis bisher bzw da dabei dadurch dafur dagegen damit dann daran darauf
    daraus darin darum das dass davon dazu dem den denen denn der deren des deshalb dessen die
    dies diese diesem diesen dieser dieses doch dort durch eben ein eine einem einen einer eines
    einige einigen einiger etwa etwas euch fur gegen gibt hat hatte hatten hier hin hinaus ihr
    ihre ihrem ihren ihrer im in indem ins ist je jede jedem jeden jeder jedes jetzt kann kein
    keine konnen konnte man manche mehr mit muss mussen nach nicht noch nun nur ob oder ohne
    sehr sein seine sich sie sind so soll sollen sollte sollten sondern sowie uber um und uns
    unser unsere unter viel viele vom von vor wahrend war waren was weil weiter welche welchen
    wenn wer werden wie wieder will wir wird wo wurde wurden zu zum zur zwar zwischen z b usw
    ca ggf sowohl insbesondere vor allem gerade ganz immer schon bitte gern gerne statt
    a an and are as at be been but by can could do does for from has have how if in into is
    it its more most no not of on or our should so such than that the their them there these
    they this to too up us very was we were what when where which while who will with would
    your also any each other per via e g etc
    ich mir mich wir uns unserem unseren wäre ware hätte hatte haben habe hab hast gibt geht
    kaum oft seit schon dafür vorschlagen schlage schlagen vorgeschlagen fordern fordere
    möchten mochten wollen wäre sollen müsste musste könnten konnten dürfen durfen
    i my me we us would like propose suggest
    """.split()
)

# Words that nearly every idea of an industrial-strategy process contains. They still count, but
# less, so that two ideas are not "similar" because both want to "support companies in Saxony".
_GENERIC_GERMAN = """
    idee ideen projekt projekte vorhaben vorschlag sachsen sachsische sachsischen freistaat
    region regionen regional regionale unternehmen betrieb betriebe firma firmen industrie
    industrielle wirtschaft fordern forderung entwickeln entwicklung schaffen neue neuen starken
    verbessern unterstutzen unterstutzung aufbau aufbauen ausbau ausbauen einfuhren angebot
    angebote moglich beispiel zukunft gut gute besser grosse kleine eigene land landesweit ziel
    brauchen benotigt geben gemeinsam gemeinsame nutzen setzen machen stellen bringen jahr jahre
    teil thema bereich
"""
_GENERIC_ENGLISH = """
    project projects idea ideas proposal region regional company companies business support
    develop development new improve build create need use make help better
"""
MAX_WORD = 40
GENERIC_WEIGHT = 0.35
TITLE_WEIGHT = 2.0

# Synonyms and abbreviations of the domain -> one canonical term, as regular expressions over the
# folded, lower-cased text. "Whole" entries match whole words (with inflection endings); "start"
# entries may also begin a compound, whose rest stays a word of its own ("Wasserstofftankstellen"
# -> wasserstoff tankstellen). Extend here when moderators find pairs the scorer misses.
_WHOLE: dict[str, list[str]] = {
    "ki": [r"kunstliche[nrs]? intelligenz", "artificial intelligence", "ki", "ai"],
    "kmu": [
        r"kleine[nr]? und mittlere[nr]? (?:unternehmen|betrieb)",
        r"small and medium[- ]sized (?:enterprises|companies|businesses)",
        "kmus?",
        "smes?",
        r"mittelstand\w*",
    ],
    "3ddruck": [
        r"3d[- ]?(?:druck|printing|printed|printer)\w*",
        r"additive[nr]? (?:fertigung|verfahren)",
        "additive manufacturing",
        r"additiv gefertigte?[nr]?",
    ],
    "wasserstoff": ["h2", "hydrogen"],
    "solar": ["pv", "solar"],
    "weiterbildung": [
        "further training",
        "continuing education",
        "training courses?",
        "upskilling",
        "reskilling",
    ],
    "berufsschule": [r"berufliche[nr]? schulen?", "vocational schools?"],
    "azubi": [r"auszubildende[nr]?", "azubis?", "lehrlinge?", "apprentices?", "apprenticeships?"],
    "lkw": ["lastkraftwagen", "lkws?", "lastwagen", "trucks?", "hgvs?", "heavy goods vehicles?"],
    "eauto": [r"e-autos?", "electric vehicles?", "evs?", "electric cars?"],
    "startup": [r"start-?ups?"],
    "grunder": ["grunderinnen und grunder", "grunderinnen", "founders?"],
    "cybersicherheit": ["cyber-?sicherheit", "it-sicherheit", "cyber ?security"],
    "breitband": ["broadband", "fib(?:re|er) optics?", "fib(?:re|er)"],
    "genehmigung": ["permits?", "permitting", "approval procedures?"],
    "burokratie": ["bureaucracy", "red tape"],
    "kreislaufwirtschaft": ["circular economy"],
    "halbleiter": ["semiconductors?", "chips?", "microelectronics"],
    "fachkrafte": ["skilled workers?", "skilled labou?r"],
    "rechenzentrum": [r"data cent(?:er|re)s?"],
    "digitalzwilling": [r"digitale[nr]? zwillinge?n?", "digital twins?"],
}
_START: dict[str, list[str]] = {
    "ki": ["ki-"],
    "3ddruck": [r"3d-druck-?"],
    "wasserstoff": ["wasserstoff", "h2-"],
    "solar": ["photovoltaik", "solar", "pv-"],
    "weiterbildung": ["weiterbildung", "fortbildung", "qualifizierung", "schulung"],
    "berufsschule": ["berufsschul"],
    "hochschule": ["hochschul", "universitat", "fachhochschul", "uni-"],
    "startup": ["existenzgrundung", "ausgrundung", "neugrundung", "start-?up-?"],
    "grunder": ["grunder"],
    "cybersicherheit": ["cybersicherheit", "informationssicherheit", "it-sicherheit"],
    "breitband": ["breitband", "glasfaser"],
    "genehmigung": ["genehmigung"],
    "burokratie": ["burokratie"],
    "kreislaufwirtschaft": ["kreislaufwirtschaft"],
    "halbleiter": ["halbleiter", "mikroelektronik", "chip-"],
    "fachkrafte": ["fachkraft", "fachkrafte"],
    "rechenzentrum": ["rechenzentr"],
    "forschung": ["forschungseinrichtung", "forschungsinstitut"],
    "kmu": ["mittelstand", "kmu-"],
}
# Longer alternatives first, so that "künstliche Intelligenz" wins over a bare "ki".
_THESAURUS_COMPILED = [
    # Inflection endings only after words; an abbreviation takes a plural "s" at most
    # ("KMUs", but "Kies" is not "KI" + "es").
    (
        re.compile(
            rf"\b(?:{alternative})(?:{'e|en|es|er|n|s' if len(alternative) > 3 else 's'})?\b"
        ),
        f" {canonical} ",
    )
    for canonical, alternatives in _WHOLE.items()
    for alternative in sorted(alternatives, key=len, reverse=True)
] + [
    # A Fugen-s ("Weiterbildungsangebote") belongs to the first part of the compound.
    (re.compile(rf"\b(?:{alternative})(?:en|e|s(?=[a-z]{{3}}))?"), f" {canonical} ")
    for canonical, alternatives in _START.items()
    for alternative in sorted(alternatives, key=len, reverse=True)
]
_CANONICAL = frozenset(_WHOLE) | frozenset(_START)
_REGEX_SYNTAX = frozenset("()[]{}?*+|\\.^$")


def _literal_start(pattern: re.Pattern[str]) -> str:
    """The letters every match of a thesaurus pattern begins with: a cheap `in` test that
    spares most of the ~100 substitutions per text (the result is the same)."""
    alternative = pattern.pattern.removeprefix(r"\b(?:")
    literal = ""
    for position, char in enumerate(alternative):
        optional = alternative[position + 1 : position + 2] in ("?", "*", "{")
        if char in _REGEX_SYNTAX or optional:
            break
        literal += char
    return literal


_THESAURUS_STARTS = [_literal_start(pattern) for pattern, _ in _THESAURUS_COMPILED]
# How a canonical term is written for people (theme titles).
DISPLAY: dict[str, str] = {
    "ki": "KI",
    "kmu": "KMU",
    "3ddruck": "3D-Druck",
    "wasserstoff": "Wasserstoff",
    "solar": "Solar",
    "weiterbildung": "Weiterbildung",
    "berufsschule": "Berufsschule",
    "azubi": "Azubis",
    "hochschule": "Hochschulen",
    "lkw": "Lkw",
    "eauto": "E-Autos",
    "startup": "Start-ups",
    "grunder": "Gründer",
    "cybersicherheit": "Cybersicherheit",
    "breitband": "Breitband",
    "genehmigung": "Genehmigungen",
    "burokratie": "Bürokratie",
    "kreislaufwirtschaft": "Kreislaufwirtschaft",
    "halbleiter": "Halbleiter",
    "fachkrafte": "Fachkräfte",
    "rechenzentrum": "Rechenzentren",
    "forschung": "Forschung",
    "digitalzwilling": "Digitaler Zwilling",
}

_GERMAN = snowballstemmer.stemmer("german")
_ENGLISH = snowballstemmer.stemmer("english")
# Words that only English has (German "in", "an" or "also" would mislead).
_ENGLISH_MARKERS = frozenset("the and for with of to is are our should would this that".split())


def normalise(text: str) -> str:
    text = text.lower().translate(FOLD)
    # "Technologie- und Gründerzentren": the dangling hyphen joins nothing, keep the word.
    text = re.sub(r"-\s", " ", text)
    for start, (pattern, canonical) in zip(_THESAURUS_STARTS, _THESAURUS_COMPILED, strict=True):
        if start in text:
            text = pattern.sub(canonical, text)
    return text


def looks_english(words: list[str]) -> bool:
    markers = sum(1 for word in words if word in _ENGLISH_MARKERS)
    return markers >= max(1, len(words) // 15)


@lru_cache(maxsize=200_000)
def _stem(word: str, english: bool) -> str:
    if word in _CANONICAL or word.isdigit():
        return word
    stem = (_ENGLISH if english else _GERMAN).stemWord(word)
    # Latin plurals the German stemmer keeps apart: Zentrum/Zentren, Gremium/Gremien.
    if not english and len(stem) >= 7 and stem.endswith("um"):
        stem = stem[:-2]
    return stem


GENERIC_STEMS = frozenset(_stem(word, False) for word in _GENERIC_GERMAN.split()) | frozenset(
    _stem(word, True) for word in _GENERIC_ENGLISH.split()
)


def stems(text: str, *, english: bool | None = None) -> list[str]:
    words = _WORD.findall(normalise(text))
    if english is None:
        english = looks_english(words)
    # A word longer than any real one is cut: the index and the lookups see the same term.
    return [
        _stem(word[:MAX_WORD], english)
        for word in words
        if word not in STOP_WORDS and (len(word) > 2 or word in _CANONICAL)
    ]


def weighted_terms(title: str, body: str) -> dict[str, float]:
    """Term -> weight for an idea; the representation the scorer and the index work on."""
    english = looks_english(_WORD.findall(normalise(f"{title} {body}")))
    weights: dict[str, float] = {}
    for factor, text in ((TITLE_WEIGHT, title), (1.0, body)):
        for stem in stems(text, english=english):
            weights[stem] = weights.get(stem, 0.0) + factor
    # Repetition counts, but with diminishing returns; generic words count less.
    return {
        term: min(weight, 4.0) ** 0.5 * (GENERIC_WEIGHT if term in GENERIC_STEMS else 1.0)
        for term, weight in weights.items()
    }
