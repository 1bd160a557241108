"""Peruvian surname and given-name frequency tables, and fast weighted pickers."""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

# Region groups of departments (first two INEI digits): surnames cluster by region
# (MAMANI and CONDORI in the Altiplano, DEL ÁGUILA and PANDURO in the Amazon, CHUNGA on the
# north coast), so a national table alone would look wrong at district level.
REGION_OF_DEPARTMENT: dict[str, str] = {
    **dict.fromkeys(("21", "23", "18", "08", "04", "05", "03", "09"), "S"),  # southern Andes
    **dict.fromkeys(("16", "25", "22", "17", "01"), "A"),  # Amazon
    **dict.fromkeys(("20", "14", "13", "24", "06"), "N"),  # north coast and Cajamarca
}
REGIONS = ("C", "S", "A", "N")  # C: centre, Lima and everything else

# "SURNAME weight [region factor]...": weight ~ thousands of bearers nationally (rounded,
# from public RENIEC frequency lists); a region factor multiplies it inside that region.
SURNAMES = """\
QUISPE 1350 S2
FLORES 700
SÁNCHEZ 520
RODRÍGUEZ 480 N1.5
GARCÍA 470
HUAMÁN 420 S1.5
MAMANI 400 S6 C0.3 A0.2 N0.1
ROJAS 370
CHÁVEZ 360 N1.5
RAMOS 340
TORRES 330
DÍAZ 320
MENDOZA 310
VÁSQUEZ 300 A1.8 N1.5
CASTILLO 290
LÓPEZ 280
GONZALES 275
PÉREZ 270
CRUZ 260
RAMÍREZ 250
GUTIÉRREZ 245
MORALES 240
HERRERA 235
CHOQUE 230 S3 C0.3 A0.2 N0.1
CONDORI 225 S3.5 C0.3 A0.2 N0.1
HUANCA 220 S3 C0.4
MEDINA 215
VARGAS 210
ESPINOZA 205
CASTRO 200
JIMÉNEZ 195
SALAZAR 190
ROMERO 185
RUIZ 180 N1.5
ALVARADO 175
FERNÁNDEZ 175
RIVERA 170
ORTIZ 165
SILVA 165 N1.5
MARTÍNEZ 160
CÁCERES 155 S1.5
GÓMEZ 150
LEÓN 150
AGUILAR 148
VEGA 146
APAZA 145 S3.5 C0.3 A0.2 N0.1
PALOMINO 140
CAMPOS 140
REYES 138
VILLANUEVA 136
HUAMANÍ 135 S2.5 C0.6
NÚÑEZ 133
MUÑOZ 130
CHUQUIMIA 40 S4 C0.2 A0.1 N0.1
YUPANQUI 120 S2
CCAHUANA 60 S4 C0.3 A0.1 N0.1
TICONA 110 S4 C0.3 A0.1 N0.1
CHOQUEHUANCA 75 S4 C0.3 A0.1 N0.1
COAQUIRA 55 S4 C0.2 A0.1 N0.1
CALLATA 35 S4 C0.2 A0.1 N0.1
CUTIPA 45 S4 C0.2 A0.1 N0.1
QUISPE 0
ÑAUPARI 30 C2 S1
ÑAHUI 20 S2
ÑIQUEN 12 N3
PAUCAR 95 S2
PUMA 80 S2
CÓNDOR 70 S1.5
HUARCAYA 60 S2
AYALA 110
CARDENAS 0
CÁRDENAS 125
MIRANDA 118
DELGADO 115
ÁLVAREZ 115
HUAYTA 45 S2
HUILLCA 40 S3
LAURA 60 S2.5
CHURA 55 S3.5 C0.3
PARI 50 S3.5 C0.3
CCOPA 35 S3.5 C0.2
ARIAS 100
SOTO 112
NAVARRO 105
POMA 90 S1.5
MEZA 102
CORDOVA 98
CÓRDOVA 60
PAREDES 110
LIZARRAGA 30
ZAPATA 95 N1.8
CHUNGA 40 N4 C0.3 S0.1 A0.1
SANDOVAL 80 N1.5
INGA 40 N3
ECA 25 N4 C0.2 S0.1
TICLIAHUANCA 10 N4 C0.1 S0.1 A0.1
HUANCAS 20 N4 C0.2 S0.1
ALBERCA 15 N4 C0.1 S0.1
DEL ÁGUILA 70 A6 C0.3 S0.1 N0.2
PANDURO 45 A6 C0.3 S0.1 N0.1
PINEDO 60 A4 C0.5 S0.1
TAPULLIMA 20 A8 C0.1 S0.1 N0.1
SANGAMA 30 A8 C0.1 S0.1 N0.1
AMASIFUEN 20 A8 C0.1 S0.1 N0.1
SHAPIAMA 15 A8 C0.1 S0.1 N0.1
TUANAMA 20 A8 C0.1 S0.1 N0.1
RÍOS 120 A2
SALAS 95 A1.5
LOZANO 60 A1.5
ARÉVALO 70 A2.5
TANANTA 15 A8 C0.1 S0.1 N0.1
MORI 40 A3
RENGIFO 45 A3
DE LA CRUZ 130
DE LOS SANTOS 45
DE LA TORRE 35
DEL CASTILLO 40
DE LA CRUZ 0
SAAVEDRA 70
OLIVERA 60
ESCOBAR 70
ACOSTA 65
PALACIOS 85
BENITES 80 N1.5
BENÍTEZ 30
VALENCIA 75
VALDIVIA 70 S1.5
CABRERA 70
CAMPOS 0
CAMPANA 25
ESPINOZA 0
CUEVA 50 N1.5
TELLO 55
CORNEJO 45
PEÑA 80
ZEVALLOS 55
ZÚÑIGA 60
ARROYO 50
LUNA 60
PACHECO 65
ROSALES 55
MEJÍA 75
VERA 55
FUENTES 60
VELÁSQUEZ 70
VILCA 75 S2.5
CAHUANA 45 S2.5
CHAMBI 30 S3.5 C0.3
QUISPE 0
CARBAJAL 60
CARHUAMACA 20 C2
CAJAHUAMÁN 10 C2
HUAYNATE 10 C2
TAIPE 35 C1.5 S1.5
HUARANGA 20 C2
BERROSPI 10 C2
CHILQUILLO 5 C2
SULCA 40 S2.5
GAMARRA 45
HUACHACA 20 S2
LLANOS 40
MAYTA 55 S2
ORÉ 35 S2
PARIONA 35 S2
PALACÍN 15 C2
MUÑANTE 10 C2
AÑAZCO 10 N2
ÑAÑEZ 5 A2
YAÑEZ 30
IBÁÑEZ 45
OCHOA 50 S1.5
CUSI 25 S2
CCAMA 30 S4 C0.3 A0.1 N0.1
TITO 25 S2
INFANTE 25 N2
TUESTA 30 A3
SOLÍS 55
GUERRERO 55
BARRIOS 45
MONTES 40
CUBAS 25 N2
TARRILLO 20 N2.5
HUAMANCHUMO 10 N3
SANTISTEBAN 25 N2
ACUÑA 35
VILLEGAS 35
AGÜERO 25
MALLMA 25 C2
ESCALANTE 35
""".replace("QUISPE 0\n", "").replace("DE LA CRUZ 0\n", "")

# "NAME weight cohort": cohort o = mostly born before 1970, y = mostly born after 2000,
# - = any time. Compound names are one entry, as RENIEC records them.
MALE_NAMES = """\
JUAN 300 -
JOSÉ 280 -
LUIS 250 -
CARLOS 230 -
JORGE 200 -
CÉSAR 160 -
MIGUEL 150 -
VÍCTOR 170 o
PEDRO 150 o
JESÚS 120 -
MANUEL 140 o
FRANCISCO 110 o
ALEJANDRO 90 -
ANTONIO 100 o
JULIO 90 o
ALBERTO 80 o
RAÚL 85 -
FERNANDO 75 -
RICARDO 70 -
EDGAR 70 -
WILLIAM 65 -
WILSON 60 -
ROBERTO 60 o
DAVID 90 -
DANIEL 100 -
JAVIER 80 -
MARIO 70 o
SERGIO 40 -
OSCAR 60 -
HUGO 45 o
ÁNGEL 80 -
EDWIN 55 -
ELVIS 35 -
HÉCTOR 40 o
HERNÁN 30 o
FÉLIX 45 o
TEODORO 30 o
FELICIANO 25 o
ALEJANDRINO 15 o
GREGORIO 30 o
FORTUNATO 15 o
SATURNINO 15 o
EUSEBIO 20 o
ISIDRO 20 o
CIPRIANO 15 o
MÁXIMO 30 o
SIMEÓN 15 o
ZACARÍAS 15 o
DIONISIO 20 o
MARCELINO 20 o
FAUSTINO 20 o
ABEL 35 -
ABRAHAM 25 -
ADRIÁN 40 y
AGUSTÍN 25 -
ALDO 20 -
ALFREDO 40 o
ÁLVARO 25 y
ANDRÉS 50 -
ARMANDO 35 o
ARTURO 35 o
BENJAMÍN 40 y
BRAYAN 40 y
BRUNO 30 y
CRISTIAN 50 -
DANTE 20 -
DARWIN 20 -
DIEGO 60 y
EDUARDO 50 -
ELMER 35 -
EMILIO 25 -
ENRIQUE 40 o
ERICK 35 y
ERNESTO 30 o
FABRICIO 25 y
FIDEL 20 o
GABRIEL 50 y
GERARDO 30 -
GILBERTO 25 o
GUILLERMO 35 o
GUSTAVO 30 -
HENRY 30 -
IVÁN 35 -
JAIME 35 -
JEAN PIERRE 20 y
JHON 40 -
JHONATAN 30 y
JOEL 35 -
JORDAN 15 y
JULIÁN 25 -
KEVIN 40 y
LEONARDO 35 y
LORENZO 20 o
MARCO ANTONIO 40 -
MARTÍN 40 -
MATEO 45 y
MATÍAS 40 y
MAURICIO 20 y
NÉSTOR 25 o
NICOLÁS 30 y
ORLANDO 30 o
PABLO 35 -
PERCY 30 -
RENZO 25 y
ROGER 30 -
RONALD 30 -
RUBÉN 30 -
SAMUEL 35 y
SANTIAGO 45 y
SEBASTIÁN 50 y
SEGUNDO 50 o
SIMÓN 20 o
THIAGO 45 y
TOMÁS 25 -
ULISES 10 -
VALENTÍN 15 y
WALTER 50 -
YERSON 20 y
JUAN CARLOS 120 -
JOSÉ LUIS 110 -
LUIS ALBERTO 70 -
JUAN JOSÉ 50 -
JOSÉ ANTONIO 45 -
CARLOS ALBERTO 40 -
JOSÉ MARÍA 25 o
MIGUEL ÁNGEL 45 -
JUAN PABLO 30 y
LUIS ENRIQUE 30 -
JORGE LUIS 40 -
VÍCTOR HUGO 30 -
JOSÉ MANUEL 25 -
CÉSAR AUGUSTO 25 -
JHON KEVIN 10 y
ÁNGEL GABRIEL 15 y
DYLAN 25 y
LIAM 20 y
GAEL 20 y
JOSÉ CARLOS 25 -
JUAN DE DIOS 15 o
""".replace("JHON KEVIN 10 y\n", "")

FEMALE_NAMES = """\
MARÍA 400 -
ROSA 200 o
ANA 150 -
CARMEN 140 o
JUANA 130 o
LUZ 100 -
ELIZABETH 110 -
GLADYS 80 o
JULIA 80 o
NANCY 70 -
SONIA 60 -
RUTH 60 -
MARTHA 70 o
LOURDES 50 -
VICTORIA 60 o
TERESA 70 o
ISABEL 60 -
GLORIA 55 o
CARMELA 30 o
VILMA 40 o
DORIS 40 o
NELLY 35 o
FLOR 60 -
YOLANDA 45 o
SILVIA 45 -
PATRICIA 70 -
MILAGROS 60 -
JESSICA 50 -
KAREN 40 y
MARLENE 35 -
MERCEDES 40 o
DELIA 35 o
BERTHA 35 o
EMILIA 30 -
FRANCISCA 40 o
GREGORIA 25 o
EUSEBIA 20 o
FELICITAS 20 o
SATURNINA 15 o
MÁXIMA 25 o
PAULINA 25 o
LEONOR 25 o
PETRONILA 20 o
TEODORA 20 o
JUSTINA 25 o
AGRIPINA 15 o
ALEJANDRINA 15 o
HILDA 30 o
ADRIANA 30 y
ALEJANDRA 40 y
ANDREA 50 y
ÁNGELA 35 -
BEATRIZ 30 -
BRENDA 25 y
CAMILA 60 y
CAROLINA 35 -
CATALINA 25 y
CECILIA 30 -
CLAUDIA 40 -
CRISTINA 35 -
DANIELA 45 y
DIANA 35 -
EDITH 35 -
ELENA 35 -
ELSA 30 o
ESTHER 40 -
EVA 25 -
FIORELLA 30 y
GABRIELA 40 y
GIOVANNA 25 -
GRACIELA 30 o
IRMA 30 o
JACKELINE 30 -
JENNY 30 -
KATHERINE 35 y
LAURA 30 -
LIDIA 35 o
LILIANA 35 -
LUCÍA 40 y
LUISA 35 -
MARGARITA 40 o
MARIBEL 35 -
MARISOL 30 -
MELISSA 30 y
MÓNICA 35 -
NATALY 30 y
NOEMÍ 30 -
OLGA 35 o
PAOLA 30 y
PILAR 25 -
REBECA 20 -
ROCÍO 35 -
SANDRA 40 -
SARA 30 -
SOFÍA 60 y
SUSANA 30 -
VALERIA 50 y
VALENTINA 50 y
VANESSA 35 y
VERÓNICA 35 -
XIOMARA 20 y
YESENIA 30 -
YENY 20 -
ZOILA 25 o
ISABELLA 40 y
XIMENA 45 y
MIA 25 y
ANTONELLA 30 y
LUANA 25 y
ABIGAIL 30 y
NICOLE 30 y
EMILY 25 y
MARÍA DEL CARMEN 90 -
ROSA MARÍA 80 -
MARÍA ELENA 50 -
MARÍA ISABEL 40 -
ANA MARÍA 50 -
LUZ MARINA 30 -
MARÍA JOSÉ 30 y
MARÍA FERNANDA 35 y
MARÍA DE LOS ÁNGELES 25 -
MARÍA LUISA 30 -
MARÍA TERESA 25 o
FLOR DE MARÍA 25 -
MARÍA DEL PILAR 25 -
LUZ MARÍA 25 -
ROSA ELVIRA 15 o
NELLY ROSARIO 0 -
""".replace("NELLY ROSARIO 0 -\n", "")


def _parse(table: str) -> list[tuple[str, float, str]]:
    rows = []
    for line in table.splitlines():
        parts = line.split()
        # The name may have several words (DE LA CRUZ); the weight is the first number.
        idx = next(i for i, p in enumerate(parts) if p.replace(".", "").isdigit())
        rows.append((" ".join(parts[:idx]), float(parts[idx]), " ".join(parts[idx + 1 :])))
    return rows


def surname_weights(region: str) -> dict[str, float]:
    """Surname -> weight inside a region group."""
    weights: dict[str, float] = {}
    for name, weight, factors in _parse(SURNAMES):
        factor = 1.0
        for item in factors.split():
            if item[0] == region:
                factor = float(item[1:])
        weights[name] = weights.get(name, 0.0) + weight * factor
    return weights


_COHORT_FACTORS = {"o": (3.0, 1.0, 0.1), "y": (0.05, 0.6, 3.0), "-": (1.0, 1.0, 0.8)}
COHORTS = ("old", "mid", "young")


def given_name_weights(sex: str, cohort: int) -> dict[str, float]:
    """Given name -> weight for sex M/F and cohort 0 (born < 1970), 1, 2 (born >= 2000)."""
    table = MALE_NAMES if sex == "M" else FEMALE_NAMES
    return {n: w * _COHORT_FACTORS[c][cohort] for n, w, c in _parse(table)}


def cohort_of(birth_year: int) -> int:
    """Naming fashion changes over time: group birth years into three cohorts."""
    return 0 if birth_year < 1970 else (1 if birth_year < 2000 else 2)


class WeightedPicker:
    """Draw from a fixed weighted list with one random() and one bisect (cheap per row)."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, weights: dict[str, float]) -> None:
        items = [(k, w) for k, w in weights.items() if w > 0]
        self._items = [k for k, _ in items]
        self._cum = list(accumulate(w for _, w in items))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> str:
        """One weighted draw."""
        return self._items[bisect(self._cum, rng.random() * self._total)]


class NameBook:
    """All pickers, built once per process."""

    def __init__(self) -> None:
        self.surnames = {r: WeightedPicker(surname_weights(r)) for r in REGIONS}
        self.given = {
            (sex, c): WeightedPicker(given_name_weights(sex, c))
            for sex in ("M", "F")
            for c in range(3)
        }

    def given_name(self, rng: random.Random, sex: str, birth_year: int) -> str:
        """One given name, sometimes two (RENIEC records up to three given names)."""
        picker = self.given[(sex, cohort_of(birth_year))]
        first = picker.pick(rng)
        if " " not in first and rng.random() < 0.3:
            second = picker.pick(rng)
            if second != first and " " not in second:
                return f"{first} {second}"
        return first


def first_tokens(sex: str) -> set[str]:
    """First words of the given names of one sex (tests check sex/name consistency)."""
    table = MALE_NAMES if sex == "M" else FEMALE_NAMES
    return {n.split()[0] for n, _, _ in _parse(table)}


def all_given_names(sex: str) -> set[str]:
    """Every single-word or compound given name of one sex."""
    table = MALE_NAMES if sex == "M" else FEMALE_NAMES
    return {n for n, _, _ in _parse(table)}


def andean_surnames() -> frozenset[str]:
    """Surnames of Quechua or Aymara origin: at least twice as common in the southern Andes
    as nationally (MAMANI, CONDORI, CCAMA), or spelt with HUA / QU / CC (HUAMÁN, QUISPE)."""
    out = set()
    for name, _, factors in _parse(SURNAMES):
        south = next((float(f[1:]) for f in factors.split() if f[0] == "S"), 1.0)
        if south >= 2 or name.startswith(("HUA", "QU", "CC")):
            out.add(name)
    return frozenset(out)
