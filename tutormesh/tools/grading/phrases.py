"""Answers said in words, in English, Hindi (Devanagari or romanised) and Spanish, rewritten as math.

This runs on the student's text before the lexer, so everything after it still works from the
same allow-list. Words from all three languages are read whatever the student's language, since a
Hindi speaker may type Hinglish in an English session. Only two readings depend on the language:
a decimal comma ("0,5") and the Spanish "y" ("and") next to a key that uses the variable y.
The rules, and what is deliberately not read, are in docs/i18n.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from tutormesh.tools.grading.tokens import MAX_INPUT_CHARS

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
# A letter of either script, for word boundaries (Devanagari vowel signs are not \w).
_L = r"A-Za-z\u00c0-\u024f\u0900-\u097f"
_NOT_LETTER_BEFORE, _NOT_LETTER_AFTER = rf"(?<![{_L}\d])", rf"(?![{_L}\d])"

_NUMBER_WORDS = {
    # Spanish
    "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10,
    # Hindi (Devanagari only: romanised "do", "ek", "teen" are also English words or letter products)
    "शून्य": 0, "एक": 1, "दो": 2, "तीन": 3, "चार": 4, "पाँच": 5, "पांच": 5, "छह": 6, "छः": 6, "छे": 6,
    "सात": 7, "आठ": 8, "नौ": 9, "दस": 10,
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}
_SPANISH_DENOMINATORS = {
    "medio": 2, "medios": 2, "tercio": 3, "tercios": 3, "cuarto": 4, "cuartos": 4, "quinto": 5, "quintos": 5,
    "sexto": 6, "sextos": 6, "séptimo": 7, "séptimos": 7, "septimo": 7, "septimos": 7, "octavo": 8,
    "octavos": 8, "noveno": 9, "novenos": 9, "décimo": 10, "décimos": 10, "decimo": 10, "decimos": 10,
}
_HINDI_DENOMINATORS = {"तिहाई": 3, "चौथाई": 4}
_HINDI_FRACTIONS = {"आधा": "(1/2)", "आधी": "(1/2)", "डेढ़": "1 1/2", "डेढ": "1 1/2", "ढाई": "2 1/2"}

# Whole answers that name a set (after "la respuesta es" / "है" are removed).
_SETS = {
    "sin solución": "no solution", "sin solucion": "no solution", "no hay solución": "no solution",
    "no hay solucion": "no solution", "no tiene solución": "no solution", "no tiene solucion": "no solution",
    "ninguna": "no solution", "ninguna solución": "no solution", "कोई हल नहीं": "no solution",
    "हल नहीं": "no solution", "koi hal nahi": "no solution", "koi hal nahin": "no solution",
    "todos los números reales": "all real numbers", "todos los numeros reales": "all real numbers",
    "todos los reales": "all real numbers", "infinitas soluciones": "all real numbers",
    "सभी वास्तविक संख्याएँ": "all real numbers", "सभी वास्तविक संख्याएं": "all real numbers",
    "अनंत हल": "all real numbers",
}
_PREFIX = re.compile(
    r"^\s*(?:(?:la|el|mi)\s+)?(?:respuesta|resultado|soluci[oó]n)(?:\s+(?:es|son|sería))?\s*[:=]?\s*"
    r"|^\s*(?:(?:the|my)\s+)?(?:answer|result)(?:\s+(?:is|are))?\s*[:=]?\s*"
    r"|^\s*(?:मेरा\s+)?(?:उत्तर|जवाब)(?:\s+(?:है|हैं))?\s*[:=]?\s*"
    r"|^\s*(?:mera\s+)?(?:uttar|jawab)(?:\s+(?:hai|hain))?\s*[:=]?\s*",
    re.IGNORECASE,
)
_COPULA = re.compile(rf"\s*{_NOT_LETTER_BEFORE}(?:है|हैं|hai|hain){_NOT_LETTER_AFTER}\s*[।.]?\s*$", re.IGNORECASE)
_VALUE_OF = re.compile(r"^\s*([a-z])\s+(?:का|की|ka|ki)\s+(?:मान|maan)\s+(.+)$", re.IGNORECASE)
_EQUALS_LAST = re.compile(r"^\s*([a-z])\s+(.+?)\s+(?:के\s+|ke\s+)?(?:बराबर|barabar)\s*$", re.IGNORECASE)
_EQUALS = re.compile(
    rf"\s*{_NOT_LETTER_BEFORE}(?:es\s+igual\s+a|es\s+igual|igual\s+a|vale|es|equals|is\s+equal\s+to|is"
    rf"|के\s+बराबर\s+है|के\s+बराबर|बराबर\s+है|बराबर|ke\s+barabar|barabar\s+hai|barabar){_NOT_LETTER_AFTER}\s*",
    re.IGNORECASE,
)
_MINUS = re.compile(rf"{_NOT_LETTER_BEFORE}(?:menos|minus|माइनस|ऋण){_NOT_LETTER_AFTER}\s*", re.IGNORECASE)
_PLUS = re.compile(rf"{_NOT_LETTER_BEFORE}(?:más|mas|plus|प्लस|जमा){_NOT_LETTER_AFTER}\s*", re.IGNORECASE)
_OR = re.compile(rf"\s+(?:o|ó|u|या|ya){_NOT_LETTER_AFTER}\s*", re.IGNORECASE)
_AND = re.compile(rf"\s+(?:और|aur|y){_NOT_LETTER_AFTER}\s*", re.IGNORECASE)
_AND_BEFORE_RELATION = re.compile(r"\s+y\s+(?=[a-z]\s*(?:=|<|>|≤|≥))", re.IGNORECASE)
_NUMBER_WORD = re.compile(
    _NOT_LETTER_BEFORE + "(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")" + _NOT_LETTER_AFTER,
    re.IGNORECASE,
)
_SPANISH_FRACTION = re.compile(
    r"(\d+|un)\s+(" + "|".join(sorted(_SPANISH_DENOMINATORS, key=len, reverse=True)) + ")" + _NOT_LETTER_AFTER,
    re.IGNORECASE,
)
_AND_A_HALF = re.compile(r"(\d+)\s+(?:y|और|aur|and)\s+(?:medio|media|आधा|a\s+half)" + _NOT_LETTER_AFTER, re.IGNORECASE)
_HINDI_FRACTION = re.compile(r"(\d+)\s+(तिहाई|चौथाई)" + _NOT_LETTER_AFTER)
_HINDI_WORD_FRACTION = re.compile(_NOT_LETTER_BEFORE + "(आधा|आधी|डेढ़|डेढ|ढाई)" + _NOT_LETTER_AFTER)
_SAADHE = re.compile(r"साढ़े\s+(\d+)" + _NOT_LETTER_AFTER)
_LAKH = re.compile(r"(?<![\d,.])[1-9]\d?(?:,\d{2})+,\d{3}(?![\d,.])")
_COMMA_DECIMAL = re.compile(r"(?<![\d,.])(\d+),(\d+)(?![\d,.])")
_THOUSANDS = re.compile(r"[1-9]\d{0,2},\d{3}")
_LONE_COMMA_NUMBER = re.compile(r"\s*-?\s*\d+,\d+\s*")
# A cheap first look: most answers are plain math and skip every rule below. Every Latin-script
# word that some rule reads is listed here.
_WORTH_A_LOOK = re.compile(r"[\u0900-\u097f]|\d,\d")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_TRIGGERS = frozenset(
    {w for phrase in _SETS for w in phrase.split()}
    | set(_NUMBER_WORDS) | set(_SPANISH_DENOMINATORS)
    | {"la", "el", "mi", "respuesta", "resultado", "solución", "solucion", "the", "my", "answer", "result",
       "mera", "uttar", "jawab", "hai", "hain", "ka", "ki", "maan", "ke", "barabar", "es", "igual", "vale",
       "equals", "is", "menos", "minus", "más", "mas", "plus", "o", "ó", "u", "ya", "aur", "y", "un", "and",
       "half"}
)


def rewrite(text: str, language: str = "en", key_names: Collection[str] = (), key_is_number: bool = False) -> str:
    """Return `text` with number words, "equals" phrases and connectives written as math.

    Args:
        text: The student's answer (untrusted; the lexer still checks what comes out).
        language: "en", "hi" or "es": the student's language, for the two ambiguous readings.
        key_names: The answer key's single-letter variables: a word is read as a word only if it
            could not be a product of those variables ("ya" stays y·a when the key has y and a).
        key_is_number: The key is one plain number, so "0,5" can only mean 0.5.
    """
    if not isinstance(text, str) or len(text.strip()) > MAX_INPUT_CHARS:
        return text  # the lexer refuses these with its own message
    s = text.translate(_DEVANAGARI_DIGITS).strip()
    if s.endswith("।"):  # the Devanagari full stop ends a sentence, like "."
        s = s[:-1]
    if not _WORTH_A_LOOK.search(s) and not any(w.lower() in _TRIGGERS for w in _LATIN_WORD.findall(s)):
        return s
    names = {n.lower() for n in key_names}

    def free(word: str) -> bool:
        return not set(word.lower()) <= names

    s = _PREFIX.sub("", s, count=1)
    s = _sub_if_free(_COPULA, s, "", free)
    s = _SETS.get(" ".join(s.lower().split()).rstrip(".।"), s)
    s = _VALUE_OF.sub(r"\1 = \2", s)
    s = _EQUALS_LAST.sub(r"\1 = \2", s)
    s = _LAKH.sub(lambda m: m.group(0).replace(",", ""), s)
    s = _comma_decimals(s, language == "es", key_is_number)
    s = _NUMBER_WORD.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), s)
    s = _AND_A_HALF.sub(r"\1 1/2", s)
    s = _SPANISH_FRACTION.sub(lambda m: f"({1 if m.group(1).lower() == 'un' else m.group(1)}"
                              f"/{_SPANISH_DENOMINATORS[m.group(2).lower()]})", s)
    s = _HINDI_FRACTION.sub(lambda m: f"({m.group(1)}/{_HINDI_DENOMINATORS[m.group(2)]})", s)
    s = _SAADHE.sub(r"\1 1/2", s)
    s = _HINDI_WORD_FRACTION.sub(lambda m: _HINDI_FRACTIONS[m.group(1)], s)
    s = _sub_if_free(_EQUALS, s, " = ", free)
    s = _sub_if_free(_MINUS, s, "-", free)
    s = _sub_if_free(_PLUS, s, "+", free)
    s = _sub_if_free(_OR, s, " or ", free)
    if "y" in names:
        s = _AND_BEFORE_RELATION.sub(" and ", s)  # "x = 4 y y = 3": the first y joins two equations
    s = _sub_if_free(_AND, s, " and ", free)
    return s.strip()


def _sub_if_free(pattern: re.Pattern[str], s: str, replacement: str, free: Callable[[str], bool]) -> str:
    """Replace matches, except Latin-script words that could be the key's own variables."""

    def one(match: re.Match[str]) -> str:
        word = re.sub(r"[^A-Za-z]", "", match.group(0))
        if word and word.isascii() and not free(word):
            return match.group(0)
        return replacement

    return pattern.sub(one, s)


def _comma_decimals(s: str, spanish: bool, key_is_number: bool) -> str:
    """Read "0,5" as 0.5 in Spanish outside brackets, or anywhere when the key is one number.

    "1,500" keeps its thousands reading in every language, and "(2,5)" stays a pair or interval.
    """
    if "," not in s:
        return s
    if not spanish and not (key_is_number and _LONE_COMMA_NUMBER.fullmatch(s)):
        return s
    depth = [0] * (len(s) + 1)
    for k, c in enumerate(s):
        depth[k + 1] = depth[k] + (c in "([{") - (c in ")]}")

    def one(match: re.Match[str]) -> str:
        if depth[match.start()] > 0 or _THOUSANDS.fullmatch(match.group(0)):
            return match.group(0)
        return f"{match.group(1)}.{match.group(2)}"

    return _COMMA_DECIMAL.sub(one, s)
