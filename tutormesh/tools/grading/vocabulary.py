"""The allow-list the lexer accepts: names, words, LaTeX commands and unicode symbols."""

# Multi-letter names that may be glued to other letters ("2pix", "sinx").
NAMES = {
    "sqrt": "func", "cbrt": "func", "abs": "func", "ln": "func", "log": "func", "exp": "func",
    "sin": "func", "cos": "func", "tan": "func", "pi": "const", "oo": "const", "inf": "const",
    "infinity": "const", "infty": "const", "theta": "name", "alpha": "name", "beta": "name",
    "phi": "name",
}
NAMES_LONGEST_FIRST = sorted(NAMES, key=len, reverse=True)
# Words only recognised on their own: connectives and "no solution" style phrases.
WORDS = {
    "or", "and", "in", "no", "solution", "solutions", "none", "all", "real", "reals", "numbers",
    "empty", "set", "infinitely", "many",
}
LATEX = {
    "frac": ("cmd", "frac"), "dfrac": ("cmd", "frac"), "tfrac": ("cmd", "frac"), "cfrac": ("cmd", "frac"),
    "sqrt": ("cmd", "sqrt"), "cdot": ("op", "*"), "times": ("op", "*"), "ast": ("op", "*"),
    "div": ("op", "/"), "pi": ("const", "pi"), "infty": ("const", "oo"), "infin": ("const", "oo"),
    "le": ("op", "<="), "leq": ("op", "<="), "leqslant": ("op", "<="), "ge": ("op", ">="),
    "geq": ("op", ">="), "geqslant": ("op", ">="), "lt": ("op", "<"), "gt": ("op", ">"),
    "ne": ("op", "!="), "neq": ("op", "!="), "pm": ("op", "±"), "mp": ("op", "±"), "cup": ("op", "∪"),
    "in": ("word", "in"), "emptyset": ("special", "empty"), "varnothing": ("special", "empty"),
    "sin": ("func", "sin"), "cos": ("func", "cos"), "tan": ("func", "tan"), "ln": ("func", "ln"),
    "log": ("func", "log"), "exp": ("func", "exp"), "theta": ("name", "theta"), "alpha": ("name", "alpha"),
    "beta": ("name", "beta"), "phi": ("name", "phi"), "lbrace": ("op", "set{"), "rbrace": ("op", "set}"),
    "vert": ("op", "|"), "lvert": ("op", "|"), "rvert": ("op", "|"), "mid": ("op", "|"),
    "%": ("op", "%"), "{": ("op", "set{"), "}": ("op", "set}"),
}
LATEX_SKIP = {
    "left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "displaystyle", "textstyle",
    "quad", "qquad", ",", ";", ":", "!", " ",
}
LATEX_TEXT = {"text", "mathrm", "textrm", "operatorname", "mbox", "textnormal", "mathit"}

CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2212\u2013\u2014\u2010\u2011\u2012\ufe63", "-"),
        **dict.fromkeys("\u00d7\u22c5\u00b7\u2219\u2217\u2715\u2716", "*"),
        **dict.fromkeys("\u00f7\u2215\u2044", "/"),
        **dict.fromkeys("\u00a0\u2002\u2003\u2005\u2006\u2009\u202f\u3000\t\n\r", " "),
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", ""),
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},  # full-width ASCII
        **{chr(0x0966 + d): str(d) for d in range(10)},  # Devanagari digits ०-९
    }
)
UNICODE = {
    "π": ("const", "pi"), "∞": ("const", "oo"), "≤": ("op", "<="), "⩽": ("op", "<="), "≥": ("op", ">="),
    "⩾": ("op", ">="), "≠": ("op", "!="), "±": ("op", "±"), "∓": ("op", "±"), "∪": ("op", "∪"),
    "√": ("func", "sqrt"), "∛": ("func", "cbrt"), "∅": ("special", "empty"), "ℝ": ("special", "reals"),
    "∈": ("word", "in"), "θ": ("name", "theta"), "α": ("name", "alpha"), "β": ("name", "beta"),
    "φ": ("name", "phi"),
}
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
VULGAR = {
    "½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
    "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8),
    "⅞": (7, 8), "⅐": (1, 7), "⅑": (1, 9), "⅒": (1, 10),
}
OPS2 = {"**": "^", "<=": "<=", ">=": ">=", "=<": "<=", "!=": "!=", "<>": "!=", "==": "="}
OPS1 = set("+-*/^()[]{},;=<>!%|")
DIGITS = set("0123456789")  # not str.isdigit: that accepts "²" and other scripts' digits
# Thousands separators only in the unambiguous "1,000" / "12,345,678" shape.
