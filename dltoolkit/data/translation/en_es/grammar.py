"""An English-to-Spanish grammar: sentence structures rendered in both languages.

Every sentence is built as a structure (:class:`Sentence`) and rendered into
both languages by rules, so the pair is an exact translation:

- nouns carry Spanish gender; determiners and adjectives agree in gender and
  number (el/la/los/las, rojo/roja/rojos/rojas), and Spanish puts the
  adjective after the noun;
- verbs conjugate by person and tense (present, preterite, future), with
  stem changes (cierro, duermo, pide), irregular first persons (tengo),
  strong preterites (tuvo, hizo) and spelling changes (busqué);
- Spanish drops the subject pronouns yo/tú/nosotros/ellos, negates with
  *no* before the verb (English *do not*), asks questions with inversion
  and ¿...?, marks human objects with the personal *a*, and contracts
  a/de + el into al/del;
- prepositional phrases, time adverbs, relative clauses (*que*) and
  copular sentences with *ser* or *estar* chosen by the adjective.

Word forms come from :mod:`dltoolkit.data.translation.en_es.morphology`;
:func:`dltoolkit.data.translation.en_es.corpus.generate_pairs` draws random
sentences.
"""

from __future__ import annotations

import dataclasses
import re

from dltoolkit.data.translation.en_es import lexicon as lex
from dltoolkit.data.translation.en_es.morphology import (
    Adjective,
    Noun,
    Verb,
    agree,
    conjugate,
    third_person,
)

FORMS = ("statement", "question", "what", "who", "where", "there", "is_there")
# Verbs an animal can be the subject of.
ANIMAL_VERBS = frozenset(
    ("eat", "drink", "see", "watch", "find", "look for", "want", "catch", "hide")
    + ("touch", "walk", "run", "sleep", "swim", "play", "rest", "go", "come")
    + ("return", "arrive", "live")
)
MOTION_PREPS = {"go": ("to",), "come": ("from",), "arrive": ("at",)}


# === Phrases ===


@dataclasses.dataclass
class NounPhrase:
    """A pronoun (``pronoun`` set) or determiner + [adjective] + noun + [clause]."""

    noun: Noun | None = None
    plural: bool = False
    det: str = "the"
    adjective: Adjective | None = None
    relative: Clause | None = None  # its subject or object is this phrase
    pronoun: str | None = None  # a key of lex.PRONOUNS

    @property
    def person(self) -> str:
        if self.pronoun:
            return self.pronoun[:2]
        return "3p" if self.plural else "3s"

    @property
    def gender(self) -> str:
        if self.pronoun:
            return "f" if self.pronoun == "3s_f" else "m"
        return self.noun.gender


@dataclasses.dataclass
class Clause:
    """Subject + verb (or ``be`` + adjective) + [object] + [PP] + [adverb]."""

    subject: NounPhrase | None
    verb: Verb | None = None  # None: copula with ``adjective``
    tense: str = "present"
    negated: bool = False
    obj: NounPhrase | None = None
    adjective: Adjective | None = None
    pp: tuple | None = None  # (English preposition, NounPhrase)
    adverb: str | None = None


@dataclasses.dataclass
class Sentence:
    clause: Clause
    form: str = "statement"  # one of FORMS


def _np_en(np: NounPhrase, subject=False) -> list[str]:
    if np.pronoun:
        return [lex.PRONOUNS[np.pronoun][0]]
    words = [np.adjective.en] if np.adjective else []
    words.append(np.noun.en_plural if np.plural else np.noun.en)
    det = np.det
    if det == "a" and words[0][0] in "aeiou":
        det = "an"
    words = [det, *words]
    if np.relative is not None:
        words += _relative_en(np)
    return words


def _np_es(np: NounPhrase) -> list[str]:
    if np.pronoun:
        return [lex.PRONOUNS[np.pronoun][1]] if lex.PRONOUNS[np.pronoun][1] else []
    det = agree(lex.DETERMINERS[np.det][0], np.noun.gender, np.plural)
    words = [det, np.noun.es_plural if np.plural else np.noun.es]
    if np.adjective:
        words.append(agree(np.adjective.forms, np.noun.gender, np.plural))
    if np.relative is not None:
        words += _relative_es(np)
    return words


def _relative_en(head: NounPhrase) -> list[str]:
    clause = head.relative
    if clause.subject is head:  # the man who eats the bread
        who = "who" if "person" in head.noun.kinds else "that"
        return [who, *_predicate_en(clause, head.person)]
    # the book that my brother bought
    return ["that", *_np_en(clause.subject), *_predicate_en(clause, None)]


def _relative_es(head: NounPhrase) -> list[str]:
    clause = head.relative
    if clause.subject is head:
        return ["que", *_predicate_es(clause, head.person)]
    return ["que", *_np_es(clause.subject), *_predicate_es(clause, None)]


def _verb_en(clause: Clause, person: str, *, question=False) -> list[str]:
    """The English verb group; for questions, the auxiliary comes first."""
    if clause.verb is None:  # be
        if clause.tense == "future":
            be = ["will", "not", "be"] if clause.negated else ["will", "be"]
        else:
            form = lex.BE[person][clause.tense == "past"]
            be = [form, "not"] if clause.negated else [form]
        return be
    base = clause.verb.en
    if clause.tense == "future":
        return ["will", "not", base] if clause.negated else ["will", base]
    if clause.negated or question:
        aux = {"past": "did"}.get(clause.tense, "does" if person == "3s" else "do")
        return [aux, "not", base] if clause.negated else [aux, base]
    if clause.tense == "past":
        return [clause.verb.en_past]
    return [third_person(base) if person == "3s" else base]


def _complements_en(clause: Clause, *, with_object=True) -> list[str]:
    words = []
    if clause.adjective is not None:
        words.append(clause.adjective.en)
    elif clause.obj is not None and with_object:
        words += _np_en(clause.obj)
    if clause.pp:
        words += [clause.pp[0], *_np_en(clause.pp[1])]
    if clause.adverb:
        words.append(clause.adverb)
    return words


def _predicate_en(clause: Clause, person: str | None) -> list[str]:
    """Verb + complements; ``person`` None: an object relative (no object)."""
    person = person or clause.subject.person
    has_object = clause.obj is not None and clause.obj.relative is not clause
    return [*_verb_en(clause, person), *_complements_en(clause, with_object=has_object)]


def _verb_es(clause: Clause, person: str) -> list[str]:
    if clause.verb is None:  # descriptions take the imperfect: era, estaba
        tense = "imperfect" if clause.tense == "past" else clause.tense
        form = conjugate(clause.adjective.copula, tense, person)
    else:
        form = conjugate(clause.verb, clause.tense, person)
    return ["no", form] if clause.negated else [form]


def _object_es(clause: Clause) -> list[str]:
    words = _np_es(clause.obj)
    if "person" in clause.obj.noun.kinds:
        words = ["a", *words]  # personal a: veo al hombre
    return words


def _complements_es(clause: Clause, subject_gender, plural, *, with_object=True):
    words = []
    if clause.adjective is not None:
        words.append(agree(clause.adjective.forms, subject_gender, plural))
    elif clause.obj is not None and with_object:
        words += _object_es(clause)
    if clause.pp:
        prep, np = clause.pp
        table = lex.MOTION_PREPOSITIONS if prep in ("to", "from", "at") else {}
        spanish = {"at": "a"}.get(prep) or (table or lex.PREPOSITIONS)[prep][0]
        words += [spanish, *_np_es(np)]
    if clause.adverb:
        words.append(_adverb_es(clause.adverb))
    return words


def _adverb_es(adverb: str) -> str:
    return next(t[adverb] for t in lex.ADVERBS.values() if adverb in t)


def _predicate_es(clause: Clause, person: str | None) -> list[str]:
    subject = clause.subject
    person = person or subject.person
    has_object = clause.obj is not None and clause.obj.relative is not clause
    plural = person.endswith("p")
    return [
        *_verb_es(clause, person),
        *_complements_es(clause, subject.gender, plural, with_object=has_object),
    ]


def _finish(words: list[str], end: str, *, spanish_question=False) -> str:
    text = " ".join(w for w in words if w)
    text = re.sub(r"\b(a|de) el\b", lambda m: "al" if m[1] == "a" else "del", text)
    text = text[0].upper() + text[1:]
    if spanish_question:
        return f"¿{text}{end}"
    return text + end


def render(sentence: Sentence) -> tuple[str, str]:
    """The (English, Spanish) strings of a sentence structure."""
    c, form = sentence.clause, sentence.form
    subject = c.subject
    if form in ("there", "is_there"):  # There is a cat... / Hay un gato...
        n = c.obj
        word = {"present": ("is", "are"), "past": ("was", "were")}.get(c.tense)
        be = ["will", "be"] if word is None else [word[n.plural]]
        es = {"present": "hay", "past": "había", "future": "habrá"}[c.tense]
        bare = Clause(None, c.verb, pp=c.pp, adverb=c.adverb)
        rest_en = [*_np_en(n), *_complements_en(bare)]
        rest_es = [es, *_np_es(n), *_complements_es(bare, "m", False)]
        if form == "there":
            return _finish(["there", *be, *rest_en], "."), _finish(rest_es, ".")
        en = [be[0], "there", *be[1:], *rest_en]
        return _finish(en, "?"), _finish(rest_es, "?", spanish_question=True)
    person = subject.person
    if form == "statement":
        en = [*_np_en(subject), *_predicate_en(c, person)]
        es = [*_np_es(subject), *_predicate_es(c, person)]
        return _finish(en, "."), _finish(es, ".")
    plural = person.endswith("p")
    verb_es = _verb_es(c, person)
    if form == "question":  # Does the dog eat the bread? ¿Come el perro el pan?
        verb_en = _verb_en(c, person, question=True)
        lead, rest = verb_en[0], verb_en[1:]
        en = [lead, *_np_en(subject), *rest, *_complements_en(c)]
        es = [*verb_es, *_np_es(subject), *_complements_es(c, subject.gender, plural)]
        return _finish(en, "?"), _finish(es, "?", spanish_question=True)
    if form == "who":  # Who eats the bread? ¿Quién come el pan?
        en = ["who", *_verb_en(c, "3s"), *_complements_en(c)]
        es = ["quién", *_verb_es(c, "3s"), *_complements_es(c, "m", False)]
        return _finish(en, "?"), _finish(es, "?", spanish_question=True)
    # what / where: the object or the place is asked for.
    asks_object = form == "what"
    verb_en = _verb_en(c, person, question=True)
    en = [verb_en[0], *_np_en(subject), *verb_en[1:]]
    en += _complements_en(c, with_object=not asks_object)
    es_rest = _complements_es(c, subject.gender, plural, with_object=not asks_object)
    if form == "what" and c.obj is not None and "person" in c.obj.noun.kinds:
        en, lead = ["who", *en], ["a", "quién"]  # Who does he help? ¿A quién ayuda?
    elif form == "what":
        en, lead = ["what", *en], ["qué"]
    else:
        en, lead = ["where", *en], ["dónde"]
    es = [*lead, *verb_es, *_np_es(subject), *es_rest]
    return _finish(en, "?"), _finish(es, "?", spanish_question=True)
