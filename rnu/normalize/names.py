"""Personal names: comparison forms, display forms, surname splitting and phonetic keys.

Every sector writes names differently (case, accents, Ñ lost to ``?`` or to mojibake,
surnames and given names in one field in different orders), so loaders and matching
compare names only through these functions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = [
    "LAYOUTS",
    "LAYOUT_NAMES_FIRST",
    "LAYOUT_SURNAMES_COMMA_NAMES",
    "LAYOUT_SURNAMES_ONLY",
    "PARTICLES",
    "NameParts",
    "birth_surname",
    "display",
    "fold",
    "given_form",
    "given_name_key",
    "repair_mojibake",
    "split_full_name",
    "split_surnames",
    "surname_key",
]

# --- mojibake -----------------------------------------------------------------------------

# Byte value of every character a UTF-8 byte 0x80-0xFF turns into when the file is read as
# Latin-1 *or* as cp1252 (Windows tools do the latter: "Ñ" becomes "Ã‘", not "Ã\x91").
_MOJIBAKE_BYTE: dict[str, int] = {chr(b): b for b in range(0x80, 0x100)}
for _b in range(0x80, 0xA0):
    try:
        _MOJIBAKE_BYTE[bytes([_b]).decode("cp1252")] = _b
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        pass
_CONT = "".join(ch for ch, b in _MOJIBAKE_BYTE.items() if 0x80 <= b <= 0xBF)
# Only the lead bytes that Spanish text produces: C2/C3 (Latin-1 letters and signs) and the
# E2 80 xx punctuation block (curly quotes, dashes). Wider ranges would "repair" real text.
_MOJIBAKE_RE: Final = re.compile(
    f"[\u00c2\u00c3][{re.escape(_CONT)}]|\u00e2[\u20ac\x80][{re.escape(_CONT)}]"
)
_MOJIBAKE_LEADS: Final = ("\u00c3", "\u00c2", "\u00e2")


def _decode_pair(match: re.Match[str]) -> str:
    raw = match.group(0)
    try:
        return bytes(_MOJIBAKE_BYTE[ch] for ch in raw).decode("utf-8")
    except UnicodeDecodeError:
        return raw


def repair_mojibake(text: str, *, lone_lead: bool = True) -> str:
    """Undo UTF-8 text that was decoded as Latin-1/cp1252 ("Ã‘" -> "Ñ", "MARÃ\\x8dA" -> "MARÍA").

    Repairs sequence by sequence, so a field mixing good accents and mojibake is still fixed,
    and runs twice to undo a double re-encoding. With `lone_lead`, a lone "Ã" left behind (its
    second byte was one of cp1252's undefined bytes and got dropped) becomes the wildcard "?":
    it could be Á or Í, both common in upper-case names (ÁLVAREZ, GARCÍA, RÍOS), and the rare
    real Ã (JOÃO) still matches a wildcard; a lone "Â" is dropped.
    """
    if not any(lead in text for lead in _MOJIBAKE_LEADS):
        return text
    for _ in range(2):
        repaired = _MOJIBAKE_RE.sub(_decode_pair, text)
        if repaired == text:
            break
        text = repaired
    if lone_lead and ("\u00c3" in text or "\u00c2" in text):
        text = text.replace("\u00c3", "?").replace("\u00c2", "")
    return text


# --- fold / display -------------------------------------------------------------------------

_SPECIAL_LETTERS: Final = {
    "Ø": "O", "ø": "O", "Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "ß": "SS",
    "Đ": "D", "đ": "D", "Ł": "L", "ł": "L", "Þ": "TH", "þ": "TH", "Ð": "D", "ð": "D",
}  # fmt: skip
# Apostrophes inside a name join its parts (D'ANGELO -> DANGELO) instead of splitting it.
_APOSTROPHES: Final = "'`\u00b4\u2018\u2019\u02bc"
_WILDCARDS: Final = "?\ufffd"


_LATIN_LETTER_NAME: Final = re.compile(r"^LATIN (?:CAPITAL |SMALL )?LETTER (?:DOTLESS )?([A-Z])\b")


def _fold_char(ch: str) -> str:
    """Comparison form of one character: A-Z, 0-9, '?', '' or ' '."""
    if ch in _WILDCARDS:
        return "?"
    if ch in _APOSTROPHES:
        return ""
    if ch in _SPECIAL_LETTERS:
        return _SPECIAL_LETTERS[ch]
    if ch.isascii():
        if ch.isalnum():
            return ch.upper()
        return " "
    base = "".join(
        c for c in unicodedata.normalize("NFKD", ch.upper()) if not unicodedata.combining(c)
    )
    if base and base.isascii() and base.isalnum():
        return base.upper()
    # Latin letters without a decomposition (Ɨ, ȴ, ƀ) still name their base letter.
    latin = _LATIN_LETTER_NAME.match(unicodedata.name(ch, ""))
    if latin:
        return latin.group(1)
    if ch.isalpha():  # a letter of another script: keep it rather than lose the name
        return ch.upper()
    return " "


_FOLD_TABLE: Final[dict[int, str]] = {i: _fold_char(chr(i)) for i in range(0x250)}
_FOLD_TABLE.update({ord(ch): _fold_char(ch) for ch in _APOSTROPHES + _WILDCARDS})
_fold_char_cached = lru_cache(maxsize=4096)(_fold_char)

# Control characters (C0 and the C1 block left by Latin-1 decoding) are never displayable.
_CONTROL_TABLE: Final = dict.fromkeys((*range(32), *range(127, 160)), " ")


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Comparison form: upper-case A-Z/0-9, no accents, Ñ -> N, '?' as wildcard, single spaces.

    Mojibake is repaired first so "MARÃ\\x8dA" and "MARÍA" fold alike; a character lost in a
    bad re-encoding ('?' or U+FFFD) stays as the wildcard '?' for matching to treat as unknown.
    """
    text = repair_mojibake(text).translate(_FOLD_TABLE)
    if not text.isascii():
        text = "".join(_fold_char_cached(ch) if ord(ch) > 0x7F else ch for ch in text)
    return " ".join(text.split())


def display(text: str) -> str:
    """The original text made presentable: mojibake repaired, spaces collapsed, accents kept.

    A lone "Ã" is kept as written: display must not turn a real JOÃO into "JO?O".
    """
    return " ".join(repair_mojibake(text, lone_lead=False).translate(_CONTROL_TABLE).split())


# --- splitting ------------------------------------------------------------------------------

PARTICLES: Final = frozenset({
    "DE", "DEL", "LA", "LAS", "LOS", "Y", "DA", "DAS", "DI", "DO", "DOS", "VAN", "VON", "DER",
    "SAN", "SANTA",
})  # fmt: skip
"""Words that belong to the surname after them (DE LA CRUZ, DEL AGUILA, SAN MARTIN, SANTA CRUZ,
VAN DER BERG, DOS SANTOS). "Y" is the exception: it joins the surnames on both sides into one
(PAZ Y MIÑO). Not included: "MC"/"MAC" (written joined in Peru), "SANTO"/"SANTOS" (also ordinary
surnames), "EL" (EL SAYED is too rare to risk splitting given names)."""
_PREFIX_PARTICLES: Final = PARTICLES - {"Y"}

LAYOUT_SURNAMES_COMMA_NAMES: Final = "PATERNO MATERNO, NOMBRES"
LAYOUT_NAMES_FIRST: Final = "NOMBRES PATERNO MATERNO"
LAYOUT_SURNAMES_ONLY: Final = "PATERNO MATERNO"
LAYOUTS: Final = frozenset({LAYOUT_SURNAMES_COMMA_NAMES, LAYOUT_NAMES_FIRST, LAYOUT_SURNAMES_ONLY})

_NOT_LETTERS: Final = "0123456789?"


@dataclass(frozen=True, slots=True)
class NameParts:
    """A person's name split into its parts, each in `fold` form."""

    nombres: str
    apellido_paterno: str
    apellido_materno: str | None


def _tokens(text: str) -> list[str]:
    """Folded tokens that contain a letter; '???' or stray digits carry no name."""
    # Folded words hold only A-Z, digits, '?' (or a letter of another script).
    return [t for t in fold(text).split() if t.strip(_NOT_LETTERS)]


@lru_cache(maxsize=1 << 16)
def _given_names(text: str) -> str:
    return " ".join(_tokens(text))


def _group(tokens: list[str]) -> list[str]:
    """Group tokens into surnames: particles stick to the next word, 'Y' joins its neighbours."""
    groups: list[str] = []
    pending: list[str] = []
    for token in tokens:
        pending.append(token)
        if token not in _PREFIX_PARTICLES:
            groups.append(" ".join(pending))
            pending = []
    if pending:  # trailing particles (a truncated field): keep them with the last surname
        if groups:
            groups[-1] = groups[-1] + " " + " ".join(pending)
        else:
            groups.append(" ".join(pending))
    if "Y" not in groups:
        return groups
    joined: list[str] = []
    i = 0
    while i < len(groups):
        if groups[i] == "Y" and joined and i + 1 < len(groups):
            joined[-1] = f"{joined[-1]} Y {groups[i + 1]}"
            i += 2
            continue
        if groups[i] != "Y":
            joined.append(groups[i])
        i += 1
    return joined


def _is_only_particles(group: str) -> bool:
    return all(t in PARTICLES for t in group.split())


def _surnames_from_groups(groups: list[str]) -> tuple[str, str | None]:
    if not groups or _is_only_particles(groups[0]):
        raise ValueError("no surname in the text")
    if len(groups) == 1:
        return groups[0], None
    # More than two groups cannot be split safely; keep the extra words with the materno
    # so nothing is lost and the paterno (the stronger blocking field) stays clean.
    return groups[0], " ".join(groups[1:])


@lru_cache(maxsize=1 << 17)  # the same surname pairs recur on every roll
def split_surnames(text: str) -> tuple[str, str | None]:
    """Split a field holding both surnames into (paterno, materno), particles kept whole.

    "DE LA CRUZ QUISPE" -> ("DE LA CRUZ", "QUISPE"); "DEL AGUILA" -> ("DEL AGUILA", None).
    Raises ValueError when there is no surname at all.
    """
    return _surnames_from_groups(_group(_strip_married(_tokens(text))))


# Married forms a woman's surnames can carry: "MINAYA VDA. DE INGA" (widow of Inga), "PEREZ DE
# GARCIA" (wife of García). The husband's surname is not a birth surname: the PGH and RENIEC
# know her as MINAYA / PEREZ, so matching must not read INGA or GARCIA as her materno.
_WIDOW: Final = frozenset({"VDA", "VIUDA", "VVDA", "VDE"})
_ARTICLES: Final = frozenset({"LA", "LAS", "LOS", "DEL"})


def _strip_married(tokens: list[str]) -> list[str]:
    """Tokens without a trailing married form ("VDA DE X", or "DE X" after a surname)."""
    for i, token in enumerate(tokens):
        if token in _WIDOW:  # VDA [DE] X...: everything from here is the husband's name
            return tokens[:i]
    # "PEREZ DE GARCIA": DE + one plain word, after at least one word. "QUISPE DE LA CRUZ"
    # (DE LA ...) is a birth surname with its particles and is kept.
    if len(tokens) >= 3 and tokens[-2] == "DE" and tokens[-1] not in PARTICLES:
        if tokens[-3] not in PARTICLES:
            return tokens[:-2]
    return tokens


@lru_cache(maxsize=1 << 17)
def birth_surname(text: str) -> str:
    """Comparison form of a surname field with any married form removed.

    "MINAYA VDA. DE INGA" -> "MINAYA"; "VDA DE INGA" (a materno field holding only the
    married form) -> "" (unknown, which matching treats as neutral); "DE LA CRUZ" is kept.
    A field of two words "DE GARCIA" is kept too: it may be a birth surname.
    """
    tokens = fold(text).split()
    return " ".join(_strip_married(tokens))


# Abbreviations of given names that registrars write (MA. / Mª for MARÍA, FCO. for FRANCISCO).
_GIVEN_ABBREVIATIONS: Final = {
    "MA": "MARIA", "MRA": "MARIA", "FCO": "FRANCISCO", "FCA": "FRANCISCA", "GMO": "GUILLERMO",
    "FDO": "FERNANDO", "JSE": "JOSE", "STGO": "SANTIAGO",
}  # fmt: skip


@lru_cache(maxsize=1 << 17)
def given_form(text: str) -> str:
    """Comparison form of a given-names field: folded, known abbreviations expanded.

    "MA. DEL CARMEN" and "MARÍA DEL CARMEN" compare equal; "CARMEN" stays a subset of both.
    """
    words = fold(text).split()
    return " ".join(_GIVEN_ABBREVIATIONS.get(w, w) for w in words)


def split_full_name(text: str, layout: str) -> NameParts:
    """Split a one-field full name written in a sector's `layout` into folded parts.

    Layouts: "PATERNO MATERNO, NOMBRES" (Juntos), "NOMBRES PATERNO MATERNO" (FISE,
    Qali Warma), "PATERNO MATERNO" (a lone apellidos field; nombres is "").
    Without a comma the names-first rule is: the last two surnames (with their particles)
    are the surnames and the rest are given names; the first word is always a given name
    (so SANTA in "SANTA QUISPE MAMANI" is a name, not a particle), and with only one surname
    left the materno is missing. Three words whose middle one is only ever a given name
    ("GABRIELA KATHERINE RUIZ") are two given names and a paterno (see `given_names`).
    Raises ValueError on empty or letterless text, or a text whose given names and
    surnames cannot be told apart (a single word).
    """
    if layout == LAYOUT_SURNAMES_ONLY:
        paterno, materno = split_surnames(text)
        return NameParts("", paterno, materno)
    if layout == LAYOUT_SURNAMES_COMMA_NAMES:
        if "," in text:
            surnames, _, given = text.partition(",")
            paterno, materno = split_surnames(surnames)
            return NameParts(_given_names(given), paterno, materno)
        # The comma was lost: surnames still come first.
        groups = _group(_tokens(text))
        if len(groups) < 2:
            raise ValueError(f"cannot split the text as {layout!r}: too few words")
        if len(groups) == 2:
            return NameParts(groups[1], *_surnames_from_groups(groups[:1]))
        return NameParts(" ".join(groups[2:]), *_surnames_from_groups(groups[:2]))
    if layout == LAYOUT_NAMES_FIRST:
        raw_tokens = _tokens(text)
        tokens = _strip_married(raw_tokens)
        if len(tokens) < 2:
            raise ValueError(f"cannot split the text as {layout!r}: too few words")
        groups = _group(tokens[1:])
        if len(tokens) < len(raw_tokens) and len(groups) >= 2:
            # "JUANA CLARA MINAYA VDA. DE INGA": a married form follows the paterno alone
            # (the materno is dropped in that usage), so the words before it are given names.
            return NameParts(" ".join([tokens[0], *groups[:-1]]), groups[-1], None)
        if len(groups) == 1:
            return NameParts(tokens[0], *_surnames_from_groups(groups))
        if len(groups) == 2 and _is_given_name(groups[0]):
            # "GABRIELA KATHERINE RUIZ": a second given name and one surname, materno missing.
            return NameParts(f"{tokens[0]} {groups[0]}", groups[1], None)
        given = " ".join([tokens[0], *groups[:-2]])
        return NameParts(given, *_surnames_from_groups(groups[-2:]))
    raise ValueError(f"unknown name layout {layout!r}; expected one of {sorted(LAYOUTS)}")


def _is_given_name(group: str) -> bool:
    from rnu.normalize.given_names import given_only

    return " " not in group and group in given_only()


# --- phonetic keys --------------------------------------------------------------------------

# Rewrites applied in order to one folded word. Lower-case letters are the key's own symbols,
# so a later rule cannot rewrite the output of an earlier one.
#   1. Doubled letters collapse (CCAHUANA/CAHUANA, QQUECCAÑO, RR, SS); LL is Y (LLANOS/YANOS).
#   2. W, HU+vowel and GU+A/O are one sound 'w' (WAMAN/HUAMAN/GUAMAN); GUE/GUI keep a hard 'g'.
#   3. QU+E/I, Q, K, C+A/O/U/consonant -> 'k' (QUISPE/KISPE); C+E/I, Z, S -> 's'; CH stays 'c'.
#      C before a lost '?' is 's' too: the lost letter is far more often Í/É (GARCÍA) than Á/Ó.
#   4. G+E/I and J -> 'j'; V/B -> 'b'; PH/F -> 'f'; X -> 'j' word-initially (XIMENA) else 'ks'.
#   5. H is silent; Y before a vowel is the consonant 'y', otherwise it is the vowel I.
#   6. A '?' (a lost character) between two vowels or before a first vowel was Ñ -> 'n'
#      (MU?OZ, PE?A); anywhere else it was an accented vowel and is dropped.
#   7. Vowels are dropped except the first letter of the word, kept as its class a / i (E, I)
#      / u (O, U). Quechua has three vowels, so E/I and O/U and a final vowel come and go
#      (QUISPE/QUISPI, HUAMAN/HUAMANI, MAMANI/MAMANY); vowels cannot split such keys.
_KEY_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"LL", "y"),
        (r"([A-Z])\1+", r"\1"),
        (r"W", "w"),
        (r"HU(?=[AEIOU])", "w"),
        (r"GU(?=[AO])", "w"),
        (r"GU(?=[EI])", "g"),
        (r"CH", "c"),
        (r"QU(?=[EI])", "k"),
        (r"C(?=[EI?])", "s"),
        (r"[CQK]", "k"),
        (r"[ZS]", "s"),
        (r"G(?=[EI])", "j"),
        (r"G", "g"),
        (r"J", "j"),
        (r"[VB]", "b"),
        (r"PH|F", "f"),
        (r"^X(?=[AEIOU])", "j"),
        (r"X", "ks"),
        (r"H", ""),
        (r"Y(?=[AEIOU])", "y"),
        (r"Y", "I"),
        (r"(?<=[AEIOU])\?(?=[AEIOU])|^\?(?=[AEIOU])", "n"),
        (r"\?", ""),
        (r"([a-z])\1+", r"\1"),
    )
)
_VOWEL_CLASS: Final = {"A": "a", "E": "i", "I": "i", "O": "u", "U": "u"}
_DROP_VOWELS: Final = str.maketrans("", "", "AEIOU")


@lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> str:
    for pattern, repl in _KEY_RULES:
        word = pattern.sub(repl, word)
    if not word:
        return ""
    head = _VOWEL_CLASS.get(word[0], word[0])
    return (head + word[1:].translate(_DROP_VOWELS)).upper()


# Given names keep SAN/SANTA (SANTA is a name) and skip only articles (DEL CARMEN).
_GIVEN_NAME_SKIP: Final = frozenset({"DE", "DEL", "LA", "LAS", "LOS", "Y"})


def _key(text: str, *, first_only: bool) -> str:
    skip = _GIVEN_NAME_SKIP if first_only else PARTICLES
    words = [w for w in fold(text).split() if w not in skip]
    if first_only:
        words = words[:1]
    return "".join(_word_key(re.sub(r"[^A-Z?]", "", w)) for w in words)


@lru_cache(maxsize=1 << 17)
def surname_key(text: str) -> str:
    """Phonetic blocking key of a surname, tolerant of Quechua/Aymara and Spanish spellings.

    HUAMÁN, GUAMÁN, HUAMANÍ and WAMANI share "WMN"; QUISPE/QUISPI/KISPE share "KSP". The rules
    are listed above `_KEY_RULES`. Particles are ignored (DE LA CRUZ and CRUZ share a key) and
    the words of a compound surname are concatenated. "" when nothing is left.
    """
    return _key(text, first_only=False)


@lru_cache(maxsize=1 << 17)
def given_name_key(text: str) -> str:
    """Phonetic blocking key of the first given name (particles skipped), as `surname_key`."""
    return _key(text, first_only=True)
