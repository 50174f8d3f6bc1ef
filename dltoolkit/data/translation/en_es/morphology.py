"""English and Spanish word forms for the embedded translation corpus.

The lexicon (:mod:`dltoolkit.data.translation.en_es.lexicon`) as objects, and
the rules that inflect it: Spanish plurals (ratón -> ratones, lápiz ->
lápices), gender and number agreement of determiners and adjectives, verb
conjugation by person and tense (regular -ar/-er/-ir endings, stem changes,
irregular first persons, strong preterites, spelling changes, irregular
futures), English plurals and third persons.
"""

from __future__ import annotations

import dataclasses
import re

from dltoolkit.data.translation.en_es import lexicon as lex

PERSONS = ("1s", "2s", "3s", "1p", "3p")
TENSES = ("present", "past", "future")


@dataclasses.dataclass(frozen=True)
class Noun:
    en: str
    en_plural: str
    es: str
    es_plural: str
    gender: str  # "m" or "f"
    kinds: frozenset


@dataclasses.dataclass(frozen=True)
class Adjective:
    en: str
    forms: tuple  # masc sg, fem sg, masc pl, fem pl
    copula: str  # "ser" or "estar"
    kinds: frozenset


@dataclasses.dataclass(frozen=True)
class Verb:
    en: str  # base form, particle included ("look for")
    en_past: str
    es: str  # infinitive
    objects: frozenset  # noun kinds; empty for intransitive verbs
    motion: bool = False
    tags: tuple = ()  # ("ue",), ("yo", "tengo"), ...

    def tag(self, name: str):
        return dict(t if isinstance(t, tuple) else (t, True) for t in self.tags).get(
            name
        )


# === Spanish morphology ===

_UNACCENT = str.maketrans("áéíóú", "aeiou")


def spanish_plural(word: str) -> str:
    """Plural of a Spanish noun or adjective: casa -> casas, ratón -> ratones.

    Vowel: add -s; -z: -ces; other consonants: add -es, dropping the written
    accent of a stressed last syllable (canción -> canciones).
    """
    if word[-1] in "aeiouáéó":
        return word + "s"
    if word.endswith("z"):
        return word[:-1] + "ces"
    if re.search(r"[áéíóú][ns]$", word):
        return word[:-2] + word[-2].translate(_UNACCENT) + word[-1] + "es"
    return word + "es"


def adjective_forms(masculine: str) -> tuple:
    """(masc sg, fem sg, masc pl, fem pl): rojo -> roja, rojos, rojas."""
    feminine = masculine[:-1] + "a" if masculine.endswith("o") else masculine
    return (
        masculine,
        feminine,
        spanish_plural(masculine),
        spanish_plural(feminine),
    )


def agree(forms: tuple, gender: str, plural: bool) -> str:
    """The form of a 4-form word (determiner, adjective) for gender and number."""
    return forms[(2 if plural else 0) + (1 if gender == "f" else 0)]


_ENDINGS = {
    "ar": {
        "present": ("o", "as", "a", "amos", "an"),
        "past": ("é", "aste", "ó", "amos", "aron"),
    },
    "er": {
        "present": ("o", "es", "e", "emos", "en"),
        "past": ("í", "iste", "ió", "imos", "ieron"),
    },
    "ir": {
        "present": ("o", "es", "e", "imos", "en"),
        "past": ("í", "iste", "ió", "imos", "ieron"),
    },
}
_FUTURE = ("é", "ás", "á", "emos", "án")
_STRONG_PAST = ("e", "iste", "o", "imos", "ieron")
_STEM_CHANGES = {"ie": ("e", "ie"), "ue": ("o", "ue"), "i": ("e", "i")}


def _change_last(stem: str, old: str, new: str) -> str:
    at = stem.rfind(old)
    return stem[:at] + new + stem[at + len(old) :]


def conjugate(verb: Verb | str, tense: str, person: str) -> str:
    """The Spanish form of ``verb`` (a :class:`Verb` or ``ser``/``estar``).

    Args:
        verb: the verb.
        tense: ``present``, ``past`` (preterite) or ``future``; ``ser`` and
            ``estar`` also take ``imperfect`` (era, estaba).
        person: ``1s``, ``2s``, ``3s``, ``1p`` or ``3p`` (3p also for *you*
            plural is not used: the corpus has no vosotros/ustedes).
    """
    if isinstance(verb, str):
        verb = Verb(verb, "", verb, frozenset())
    i = PERSONS.index(person)
    table = lex.IRREGULAR.get(verb.es, {})
    if tense in table:
        return table[tense][i]
    infinitive, group = verb.es, verb.es[-2:]
    stem = infinitive[:-2]
    if tense == "future":
        return (verb.tag("fut") or infinitive) + _FUTURE[i]
    change = next((c for c in _STEM_CHANGES if verb.tag(c)), None)
    if tense == "present":
        if person == "1s" and verb.tag("yo"):
            return verb.tag("yo")
        if change and person != "1p":
            old, new = _STEM_CHANGES[change]
            if verb.es == "jugar":
                old = "u"
            stem = _change_last(stem, old, new)
        return stem + _ENDINGS[group]["present"][i]
    # Preterite.
    strong = verb.tag("pret")
    if strong:
        if person == "3s" and verb.tag("pret3"):
            return verb.tag("pret3")
        ending = _STRONG_PAST[i]
        if person == "3p" and strong.endswith("j"):
            ending = "eron"  # trajeron, condujeron
        return strong + ending
    ending = _ENDINGS[group]["past"][i]
    if person == "1s" and group == "ar":
        for hard, soft in (("c", "qu"), ("g", "gu"), ("z", "c")):
            if stem.endswith(hard):
                stem = stem[:-1] + soft  # busqué, llegué, abracé
    if change and group == "ir" and person in ("3s", "3p"):
        stem = _change_last(stem, *{"ue": ("o", "u")}.get(change, ("e", "i")))
    return stem + ending


# === English morphology ===


def english_plural(word: str) -> str:
    """box -> boxes, city -> cities, dog -> dogs (irregulars are in the lexicon)."""
    if re.search(r"(s|sh|ch|x|z)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def third_person(base: str) -> str:
    """eat -> eats, watch -> watches, carry -> carries, look for -> looks for."""
    head, _, rest = base.partition(" ")
    if head == "have":
        head = "has"
    elif re.search(r"(s|sh|ch|x|z|o)$", head):
        head += "es"
    elif re.search(r"[^aeiou]y$", head):
        head = head[:-1] + "ies"
    else:
        head += "s"
    return f"{head} {rest}".strip()


# === The lexicon as objects ===


def _fields(table: str):
    for line in table.strip().splitlines():
        yield [f.replace("_", " ") for f in line.split()]


def _parse_tags(raw):
    return tuple(tuple(t.split("=", 1)) if "=" in t else t for t in raw)


NOUNS = tuple(
    Noun(
        f[0],
        english_plural(f[0]) if f[1] == "-" else f[1],
        f[2],
        f[5] if len(f) > 5 else spanish_plural(f[2]),
        f[3],
        frozenset(f[4].split(",")),
    )
    for f in _fields(lex.NOUNS)
)


def _adjective(f: list[str]) -> Adjective:
    forms = adjective_forms(f[1])
    if len(f) > 4:  # irregular: [feminine or -] plural
        feminine = forms[1] if f[4] == "-" else f[4]
        forms = (f[1], feminine, f[5], f[5])
    return Adjective(f[0], forms, f[2], frozenset(f[3].split(",")))


ADJECTIVES = tuple(_adjective(f) for f in _fields(lex.ADJECTIVES))
VERBS = tuple(
    Verb(
        f[0],
        f[1],
        f[2],
        frozenset() if f[3] in ("-", "motion") else frozenset(f[3].split(",")),
        f[3] == "motion",
        _parse_tags(f[4:]),
    )
    for f in _fields(lex.VERBS)
)
NOUN = {n.en: n for n in NOUNS}
ADJECTIVE = {a.en: a for a in ADJECTIVES}
VERB = {v.en: v for v in VERBS}
