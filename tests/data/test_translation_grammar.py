"""The English-Spanish grammar: morphology, chosen sentences, the generator."""

import pytest

from dltoolkit.data.translation.en_es.corpus import generate_pairs
from dltoolkit.data.translation.en_es.grammar import (
    Clause,
    NounPhrase,
    Sentence,
    render,
)
from dltoolkit.data.translation.en_es.morphology import (
    ADJECTIVE,
    NOUN,
    VERB,
    adjective_forms,
    conjugate,
    english_plural,
    spanish_plural,
    third_person,
)


def _np(noun, plural=False, det="the", adjective=None):
    return NounPhrase(NOUN[noun], plural, det, ADJECTIVE.get(adjective))


def _me(person):
    return NounPhrase(pronoun=person)


@pytest.mark.parametrize(
    "word, plural",
    [
        ("casa", "casas"),
        ("café", "cafés"),
        ("papel", "papeles"),
        ("ratón", "ratones"),  # the written accent goes
        ("canción", "canciones"),
        ("autobús", "autobuses"),
        ("jardín", "jardines"),
        ("árbol", "árboles"),  # stress not on the last syllable: kept
        ("lápiz", "lápices"),
        ("rey", "reyes"),
        ("feliz", "felices"),
    ],
)
def test_spanish_plural(word, plural):
    assert spanish_plural(word) == plural


def test_adjective_endings():
    assert adjective_forms("rojo") == ("rojo", "roja", "rojos", "rojas")
    assert adjective_forms("verde") == ("verde", "verde", "verdes", "verdes")
    assert adjective_forms("azul") == ("azul", "azul", "azules", "azules")
    assert ADJECTIVE["young"].forms == ("joven", "joven", "jóvenes", "jóvenes")


def test_english_morphology():
    assert [english_plural(w) for w in ("box", "city", "dog", "key")] == [
        "boxes",
        "cities",
        "dogs",
        "keys",
    ]
    assert NOUN["knife"].en_plural == "knives" and NOUN["man"].en_plural == "men"
    assert [third_person(v) for v in ("watch", "carry", "have", "go", "look for")] == [
        "watches",
        "carries",
        "has",
        "goes",
        "looks for",
    ]


@pytest.mark.parametrize(
    "verb, tense, forms",
    [
        ("buy", "present", ("compro", "compras", "compra", "compramos", "compran")),
        ("eat", "past", ("comí", "comiste", "comió", "comimos", "comieron")),
        ("live", "future", ("viviré", "vivirás", "vivirá", "viviremos", "vivirán")),
        ("close", "present", ("cierro", "cierras", "cierra", "cerramos", "cierran")),
        ("sleep", "past", ("dormí", "dormiste", "durmió", "dormimos", "durmieron")),
        ("ask for", "past", ("pedí", "pediste", "pidió", "pedimos", "pidieron")),
        ("play", "present", ("juego", "juegas", "juega", "jugamos", "juegan")),
        ("look for", "past", ("busqué", "buscaste", "buscó", "buscamos", "buscaron")),
        ("have", "present", ("tengo", "tienes", "tiene", "tenemos", "tienen")),
        ("have", "past", ("tuve", "tuviste", "tuvo", "tuvimos", "tuvieron")),
        ("have", "future", ("tendré", "tendrás", "tendrá", "tendremos", "tendrán")),
        ("make", "past", ("hice", "hiciste", "hizo", "hicimos", "hicieron")),
        ("bring", "past", ("traje", "trajiste", "trajo", "trajimos", "trajeron")),
        ("go", "present", ("voy", "vas", "va", "vamos", "van")),
        ("see", "present", ("veo", "ves", "ve", "vemos", "ven")),
        ("know", "present", ("conozco", "conoces", "conoce", "conocemos", "conocen")),
    ],
)
def test_conjugation_by_person_and_tense(verb, tense, forms):
    persons = ("1s", "2s", "3s", "1p", "3p")
    assert tuple(conjugate(VERB[verb], tense, p) for p in persons) == forms


def test_ser_and_estar():
    assert conjugate("ser", "present", "1p") == "somos"
    assert conjugate("estar", "imperfect", "3p") == "estaban"
    assert conjugate("ser", "future", "2s") == "serás"


@pytest.mark.parametrize(
    "sentence, english, spanish",
    [
        # Agreement: el/la/los/las and the adjective after the noun.
        (
            Sentence(Clause(_np("man"), VERB["buy"], "past", obj=_np("car", det="a"))),
            "The man bought a car.",
            "El hombre compró un coche.",
        ),
        (
            Sentence(
                Clause(
                    _np("girl", True, adjective="tall"),
                    VERB["open"],
                    obj=_np("window", True, adjective="closed"),
                )
            ),
            "The tall girls open the closed windows.",
            "Las chicas altas abren las ventanas cerradas.",
        ),
        # a -> an; the adjective follows the noun in Spanish.
        (
            Sentence(
                Clause(
                    _me("3s_f"), VERB["sell"], obj=_np("car", det="a", adjective="old")
                )
            ),
            "She sells an old car.",
            "Ella vende un coche viejo.",
        ),
        # Pro-drop, future, negation.
        (
            Sentence(
                Clause(_me("1s"), VERB["eat"], "future", True, _np("apple", True))
            ),
            "I will not eat the apples.",
            "No comeré las manzanas.",
        ),
        (
            Sentence(Clause(_np("dog"), VERB["drink"], negated=True, obj=_np("milk"))),
            "The dog does not drink the milk.",
            "El perro no bebe la leche.",
        ),
        # Personal a, contracted with el; a preposition contracted with el.
        (
            Sentence(
                Clause(
                    _me("1p"),
                    VERB["see"],
                    obj=_np("man"),
                    pp=("near", _np("park")),
                )
            ),
            "We see the man near the park.",
            "Vemos al hombre cerca del parque.",
        ),
        # Questions: do-support in English, inversion and ¿? in Spanish.
        (
            Sentence(Clause(_np("dog"), VERB["eat"], obj=_np("bread")), "question"),
            "Does the dog eat the bread?",
            "¿Come el perro el pan?",
        ),
        (
            Sentence(
                Clause(_me("2s"), VERB["buy"], "past", obj=_np("ticket")), "question"
            ),
            "Did you buy the ticket?",
            "¿Compraste el billete?",
        ),
        (
            Sentence(Clause(_np("man"), VERB["eat"], obj=_np("bread")), "what"),
            "What does the man eat?",
            "¿Qué come el hombre?",
        ),
        (
            Sentence(Clause(_np("man"), VERB["help"], obj=_np("girl")), "what"),
            "Who does the man help?",
            "¿A quién ayuda el hombre?",
        ),
        (
            Sentence(Clause(_np("cat", True), VERB["sleep"], "past"), "where"),
            "Where did the cats sleep?",
            "¿Dónde durmieron los gatos?",
        ),
        # Copula: ser or estar by the adjective, agreement, the imperfect.
        (
            Sentence(
                Clause(_np("girl", True), None, "past", adjective=ADJECTIVE["tired"])
            ),
            "The girls were tired.",
            "Las chicas estaban cansadas.",
        ),
        (
            Sentence(Clause(_np("house", det="my"), None, adjective=ADJECTIVE["big"])),
            "My house is big.",
            "Mi casa es grande.",
        ),
        # Existential: hay for singular and plural alike.
        (
            Sentence(
                Clause(
                    None, None, obj=_np("cat", True, "two"), pp=("in", _np("garden"))
                ),
                "there",
            ),
            "There are two cats in the garden.",
            "Hay dos gatos en el jardín.",
        ),
        # Motion preposition and a time adverb.
        (
            Sentence(
                Clause(_me("3p"), VERB["go"], "future", pp=("to", _np("market"))),
            ),
            "They will go to the market.",
            "Irán al mercado.",
        ),
    ],
)
def test_sentences(sentence, english, spanish):
    assert render(sentence) == (english, spanish)


def test_relative_clauses():
    man = _np("man")
    man.relative = Clause(man, VERB["read"], obj=_np("book"))
    clause = Clause(man, VERB["see"], "past", obj=_np("dog"), adverb="yesterday")
    assert render(Sentence(clause)) == (
        "The man who reads the book saw the dog yesterday.",
        "El hombre que lee el libro vio el perro ayer.",
    )
    book = _np("book")
    book.relative = Clause(_np("brother", det="my"), VERB["buy"], "past", obj=book)
    clause = Clause(book, None, adjective=ADJECTIVE["new"])
    assert render(Sentence(clause)) == (
        "The book that my brother bought is new.",
        "El libro que mi hermano compró es nuevo.",
    )


def test_generator_is_deterministic_and_distinct():
    pairs = generate_pairs(2000, seed=3)
    assert pairs == generate_pairs(2000, seed=3)
    assert pairs != generate_pairs(2000, seed=4)
    assert len({en for en, _ in pairs}) == len({es for _, es in pairs}) == 2000
    for en, es in pairs[:200]:
        assert en[0].isupper() and en[-1] in ".?"
        assert es[-1] == en[-1] and (es[0] == "¿") == (en[-1] == "?")


def test_generator_has_50000_pairs_and_several_hundred_words():
    pairs = generate_pairs(50000, seed=0)
    assert len({p for p in pairs}) == 50000

    def words(texts):
        return {w.strip("¿?.").lower() for t in texts for w in t.split()}

    assert len(words(en for en, _ in pairs)) > 500
    assert len(words(es for _, es in pairs)) > 1000


def test_generator_rejects_bad_n():
    with pytest.raises(ValueError, match="non-negative integer"):
        generate_pairs(-1)
