"""The bilingual English-Spanish lexicon of the embedded translation corpus.

Plain tables, parsed by :mod:`dltoolkit.data.translation.en_es.grammar`; one
entry a line, fields separated by spaces, ``_`` joining the words of one field,
``-`` for "regular" (the grammar derives the form).

NOUNS: ``english english_plural spanish gender kinds [spanish_plural]``. Kinds
say which verbs, adjectives and prepositions a noun goes with: ``person``
(takes the personal *a* as an object, *who* in relative clauses), ``animal``,
``food``, ``drink``, ``object``, ``container``, ``openable``, ``readable``,
``vehicle``, ``place``, ``surface``, ``song``, ``lesson``.

ADJECTIVES: ``english spanish copula kinds [feminine] [plural]``: the masculine
singular Spanish form, ``ser`` or ``estar`` for predicates, the noun kinds it
describes.

VERBS: ``english english_past spanish object_kinds [tags]``; ``object_kinds``
is ``-`` for intransitive verbs, ``motion`` for verbs of motion (``to``/
``from`` a place). Tags: ``ie``/``ue``/``i`` (stem change), ``yo=FORM``
(irregular first person present), ``pret=STEM`` (strong preterite),
``pret3=FORM`` (its third person singular), ``fut=STEM`` (irregular future),
``nopast`` (English past equals the present: not used in the past tense).
"""

NOUNS = """
man men hombre m person
woman women mujer f person
boy - chico m person
girl - chica f person
child children niño m person
friend - amigo m person
teacher - profesor m person
doctor - médico m person
student - estudiante m person
brother - hermano m person
sister - hermana f person
father - padre m person
mother - madre f person
son - hijo m person
daughter - hija f person
uncle - tío m person
aunt - tía f person
grandfather - abuelo m person
grandmother - abuela f person
neighbor - vecino m person
king - rey m person
queen - reina f person
farmer - granjero m person
writer - escritor m person
lawyer - abogado m person
nurse - enfermera f person
cook - cocinero m person
waiter - camarero m person
singer - cantante m person
baker - panadero m person
soldier - soldado m person
worker - trabajador m person
pilot - piloto m person
artist - artista m person
tourist - turista m person
guest - invitado m person
dog - perro m animal
cat - gato m animal
horse - caballo m animal
bird - pájaro m animal
cow - vaca f animal
mouse mice ratón m animal
lion - león m animal
bear - oso m animal
duck - pato m animal
rabbit - conejo m animal
hen - gallina f animal
pig - cerdo m animal
goat - cabra f animal
wolf wolves lobo m animal
snake - serpiente f animal
frog - rana f animal
fox - zorro m animal
monkey - mono m animal
elephant - elefante m animal
tiger - tigre m animal
apple - manzana f food
bread - pan m food
cake - pastel m food
egg - huevo m food
orange - naranja f food
banana - plátano m food
cheese - queso m food
soup - sopa f food
sandwich - bocadillo m food
cookie - galleta f food
tomato tomatoes tomate m food
potato potatoes patata f food
carrot - zanahoria f food
lemon - limón m food
strawberry - fresa f food
pear - pera f food
pizza - pizza f food
salad - ensalada f food
coffee - café m drink
juice - jugo m drink
tea - té m drink
beer - cerveza f drink
wine - vino m drink
milk - leche f drink
soda - refresco m drink
book - libro m readable,object,openable
letter - carta f readable,object
newspaper - periódico m readable,object
magazine - revista f readable,object
story - historia f readable
map - mapa m readable,object
note - nota f readable,object
poem - poema m readable,song
table - mesa f object,surface
chair - silla f object,surface
bed - cama f object,surface
sofa - sofá m object,surface
door - puerta f openable
window - ventana f openable
box - caja f object,openable,container
bag - bolsa f object,openable,container
bottle - botella f object,openable,container
cup - taza f object,container
glass - vaso m object,container
basket - cesta f object,container
key - llave f object
pen - bolígrafo m object
pencil - lápiz m object
shirt - camisa f object
shoe - zapato m object
hat - sombrero m object
dress - vestido m object
coat - abrigo m object
picture - cuadro m object
lamp - lámpara f object
clock - reloj m object
phone - teléfono m object
computer - computadora f object
ball - pelota f object
toy - juguete m object
ticket - billete m object
gift - regalo m object
photo - foto f object
dish - plato m object
knife knives cuchillo m object
spoon - cuchara f object
fork - tenedor m object
camera - cámara f object
ring - anillo m object
mirror - espejo m object
wallet - cartera f object
blanket - manta f object
car - coche m vehicle,object
bus - autobús m vehicle
train - tren m vehicle
boat - barco m vehicle
plane - avión m vehicle
bicycle - bicicleta f vehicle,object
truck - camión m vehicle
motorcycle - moto f vehicle,object
house - casa f place,openable
school - escuela f place
park - parque m place
kitchen - cocina f place
city - ciudad f place
garden - jardín m place
room - habitación f place
office - oficina f place
street - calle f place
church - iglesia f place
museum - museo m place,openable
store - tienda f place,openable
market - mercado m place
hotel - hotel m place
hospital - hospital m place
library - biblioteca f place
bank - banco m place
restaurant - restaurante m place
beach - playa f place
river - río m place
mountain - montaña f place
forest - bosque m place
village - pueblo m place
island - isla f place
lake - lago m place
field - campo m place
station - estación f place
bridge - puente m place
airport - aeropuerto m place
farm - granja f place
square - plaza f place
theater - teatro m place
song - canción f song
lesson - lección f lesson
word - palabra f lesson
question - pregunta f lesson
answer - respuesta f lesson
language - idioma m lesson
problem - problema m lesson
movie - película f song
"""

ADJECTIVES = """
red rojo ser object,vehicle,animal
blue azul ser object,vehicle
green verde ser object,vehicle,food
white blanco ser object,vehicle,animal,place
black negro ser object,vehicle,animal
yellow amarillo ser object,vehicle,food
brown marrón ser object,animal
gray gris ser object,vehicle,animal
purple morado ser object
big grande ser object,vehicle,animal,place,food,container
small pequeño ser object,vehicle,animal,place,food,container,person
new nuevo ser object,vehicle,place,readable,song,container
old viejo ser object,vehicle,place,person,animal
young joven ser person,animal - jóvenes
beautiful hermoso ser object,place,person,animal,song
ugly feo ser object,place,animal
tall alto ser person
famous famoso ser person,place,song,readable
rich rico ser person
poor pobre ser person
modern moderno ser place,vehicle,object
ancient antiguo ser place,object
strong fuerte ser person,animal,drink
weak débil ser person,animal
fast rápido ser animal,vehicle
slow lento ser animal,vehicle
cheap barato ser object,vehicle,food,drink
expensive caro ser object,vehicle,food,drink,place
heavy pesado ser object,container
light ligero ser object
easy fácil ser lesson
difficult difícil ser lesson
important importante ser lesson,readable,person
interesting interesante ser readable,lesson,place,person,song
strange extraño ser object,animal,person,song
friendly amable ser person,animal
lazy perezoso ser person,animal
brave valiente ser person,animal
intelligent inteligente ser person,animal
funny divertido ser person,readable,song
quiet tranquilo ser place,person,animal
dangerous peligroso ser animal,place
delicious delicioso ser food,drink
sweet dulce ser food,drink
happy feliz estar person,animal
sad triste estar person,animal
tired cansado estar person,animal
sick enfermo estar person,animal
angry enojado estar person,animal
busy ocupado estar person
ready listo estar person,food
clean limpio estar object,place,vehicle,container
dirty sucio estar object,place,vehicle,container,animal
open abierto estar openable
closed cerrado estar openable
full lleno estar container
empty vacío estar container,place
broken roto estar object,vehicle
wet mojado estar object,animal,person
hot caliente estar food,drink
cold frío estar food,drink
"""

VERBS = """
eat ate comer food
drink drank beber drink
buy bought comprar object,food,drink,vehicle,readable
sell sold vender object,food,vehicle,animal
want wanted querer object,food,drink,vehicle,animal ie pret=quis fut=querr
need needed necesitar object,food,drink,vehicle
have had tener object,animal,vehicle ie yo=tengo pret=tuv fut=tendr
see saw ver person,animal,object,vehicle,place yo=veo
watch watched mirar person,animal,song,vehicle
find found encontrar object,animal,readable ue
look_for looked_for buscar object,animal,person,readable
open opened abrir openable
close closed cerrar openable ie
clean cleaned limpiar place,object,vehicle
wash washed lavar object,vehicle,animal,food
carry carried llevar object,food,drink,readable
bring brought traer object,food,drink,readable yo=traigo pret=traj
make made hacer food,object yo=hago pret=hic pret3=hizo fut=har
cook cooked cocinar food
write wrote escribir readable,song
read read leer readable nopast
paint painted pintar object,place,vehicle
visit visited visitar place,person
help helped ayudar person,animal
call called llamar person,animal
love loved amar person,animal
know knew conocer person,place yo=conozco
wait_for waited_for esperar person,vehicle
listen_to listened_to escuchar person,song,animal
lose lost perder object,animal,readable ie
ask_for asked_for pedir food,drink,object i
prefer preferred preferir food,drink,object ie
repeat repeated repetir lesson i
remember remembered recordar person,place,lesson,song ue
break broke romper object
take took tomar food,drink,vehicle
use used usar object,vehicle
forget forgot olvidar lesson,object,song
learn learned aprender lesson,song
study studied estudiar lesson,readable
draw drew dibujar person,animal,object,place
catch caught atrapar animal,object
touch touched tocar object,animal
count counted contar object,animal ue
move moved mover object ue
fix fixed arreglar object,vehicle
drive drove conducir vehicle yo=conduzco pret=conduj
receive received recibir readable,object
hide hid esconder object,animal
kiss kissed besar person,animal
hug hugged abrazar person,animal
greet greeted saludar person
feed fed alimentar animal,person
sing sang cantar song
protect protected proteger person,animal,place yo=protejo
pay_for paid_for pagar food,drink,object,readable
serve served servir food,drink i
walk walked caminar motion
run ran correr motion
travel traveled viajar motion
go went ir motion
come came venir motion ie yo=vengo pret=vin fut=vendr
return returned volver motion ue
arrive arrived llegar motion
sleep slept dormir - ue
work worked trabajar -
live lived vivir -
swim swam nadar -
dance danced bailar -
cry cried llorar -
wait waited esperar -
play played jugar - ue
rest rested descansar -
"""

# Subject pronouns: person -> (English, Spanish or None when Spanish drops it).
PRONOUNS = {
    "1s": ("I", None),
    "2s": ("you", None),
    "3s_m": ("he", "él"),
    "3s_f": ("she", "ella"),
    "1p": ("we", None),
    "3p": ("they", None),
}

# English determiner -> Spanish (masc sg, fem sg, masc pl, fem pl); the number
# it allows: "s" singular only, "p" plural only, "sp" either.
DETERMINERS = {
    "the": (("el", "la", "los", "las"), "sp"),
    "a": (("un", "una", None, None), "s"),
    "some": ((None, None, "unos", "unas"), "p"),
    "this": (("este", "esta", None, None), "s"),
    "that": (("ese", "esa", None, None), "s"),
    "these": ((None, None, "estos", "estas"), "p"),
    "those": ((None, None, "esos", "esas"), "p"),
    "my": (("mi", "mi", "mis", "mis"), "sp"),
    "your": (("tu", "tu", "tus", "tus"), "sp"),
    "our": (("nuestro", "nuestra", "nuestros", "nuestras"), "sp"),
    "two": ((None, None, "dos", "dos"), "p"),
    "three": ((None, None, "tres", "tres"), "p"),
    "many": ((None, None, "muchos", "muchas"), "p"),
}
INDEFINITE = ("a", "some", "two", "three", "many")

# English preposition -> (Spanish, the noun kinds it takes).
PREPOSITIONS = {
    "in": ("en", ("place", "vehicle", "container")),
    "on": ("sobre", ("surface",)),
    "under": ("debajo de", ("surface", "vehicle")),
    "near": ("cerca de", ("place", "person", "vehicle")),
    "behind": ("detrás de", ("place", "surface", "vehicle", "person")),
    "in front of": ("delante de", ("place", "vehicle", "person")),
    "next to": ("al lado de", ("place", "surface", "person", "animal")),
    "with": ("con", ("person", "animal")),
    "without": ("sin", ("person",)),
    "for": ("para", ("person",)),
}
MOTION_PREPOSITIONS = {"to": ("a", ("place",)), "from": ("de", ("place",))}

# Time adverbs by tense: English -> Spanish.
ADVERBS = {
    "present": {"today": "hoy", "now": "ahora", "every day": "todos los días"},
    "past": {"yesterday": "ayer", "last night": "anoche"},
    "future": {"tomorrow": "mañana", "next week": "la próxima semana"},
}

# Irregular conjugations in full: verb -> tense -> 1s, 2s, 3s, 1p, 3p.
IRREGULAR = {
    "ser": {
        "present": ("soy", "eres", "es", "somos", "son"),
        "past": ("fui", "fuiste", "fue", "fuimos", "fueron"),
        "imperfect": ("era", "eras", "era", "éramos", "eran"),
    },
    "estar": {
        "present": ("estoy", "estás", "está", "estamos", "están"),
        "past": ("estuve", "estuviste", "estuvo", "estuvimos", "estuvieron"),
        "imperfect": ("estaba", "estabas", "estaba", "estábamos", "estaban"),
    },
    "ir": {
        "present": ("voy", "vas", "va", "vamos", "van"),
        "past": ("fui", "fuiste", "fue", "fuimos", "fueron"),
    },
    "ver": {"past": ("vi", "viste", "vio", "vimos", "vieron")},
}

# English "be": person -> (present, past).
BE = {
    "1s": ("am", "was"),
    "2s": ("are", "were"),
    "3s": ("is", "was"),
    "1p": ("are", "were"),
    "3p": ("are", "were"),
}
