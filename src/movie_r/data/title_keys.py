"""The keys a title is matched by: one normal form for "The Dark Knight", "Dark Knight, The",
"the dark knight (2008)", and the alternative titles MovieLens writes in parentheses.

Below answering and the recommenders alike: the title index looks queries up by these keys,
and the text features compare titles in the same form.
"""

from __future__ import annotations

import re
import unicodedata

# Leading articles in the languages MovieLens and TMDB titles use; MovieLens moves them to
# the end ("Cité des enfants perdus, La"). They carry no meaning for matching.
ARTICLES = frozenset(["the", "a", "an", "la", "le", "les", "l", "el", "los", "las", "il", "lo", "gli", "i", "der", "die", "das", "den", "det", "en", "ein", "eine", "o", "os"])

TRAILING_YEAR = re.compile(r"\s*\(\s*\d{4}\s*\)\s*$")
TRAILING_ARTICLE = re.compile(r",\s*(\w+)\s*$")
TRAILING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")
_NON_WORD = re.compile(r"[\W_]+")
_ALSO_KNOWN_AS = re.compile(r"^(a\.?k\.?a\.?|aka)\s+", re.IGNORECASE)
# Sequel numbers as people type them: "godfather 2" for "Godfather: Part II, The". Roman
# numerals that are also words or letters (i, v, x) stay as they are.
ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}

def normalise_title(title: str) -> str:
    """A matching key: no accents, case, punctuation, trailing year or leading article."""
    return said_and_key(title)[1]


def said_and_key(title: str) -> tuple[str, str]:
    """The title as people say it, and its matching key (`normalise_title`), in one pass.

    As said: no accents, case, punctuation or trailing year, but the article in front
    ("Lion King, The" -> "the lion king"), "part" and Roman numerals as written: what a slip
    in one of those is a slip of ("teh lion king", "rocky ivv", "godfather partt iii").
    """
    text = title
    if not text.isascii():  # ASCII has no accents to take off
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
    text = TRAILING_YEAR.sub("", text.strip())
    moved = TRAILING_ARTICLE.search(text)
    article = None
    if moved and moved.group(1).lower() in ARTICLES:
        article, text = moved.group(1).lower(), text[: moved.start()]
    words = _NON_WORD.sub(" ", text.lower()).split()
    said = " ".join([article, *words]) if article else " ".join(words)
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    words = [ROMAN.get(word, word) for word in words]
    words = [w for i, w in enumerate(words) if not (w == "part" and i + 1 < len(words) and words[i + 1].isdigit())]
    return said, " ".join(words)


def title_keys(title: str) -> set[str]:
    """Every key a title answers to: itself, without a trailing alternative title, and that
    alternative title alone.

    MovieLens writes alternative (often original-language) titles in parentheses:
    "Life Is Beautiful (La Vita è bella)", "Harry Potter and the Sorcerer's Stone (a.k.a.
    Harry Potter and the Philosopher's Stone)".
    """
    keys = {normalise_title(title)}
    bare = TRAILING_YEAR.sub("", title.strip())
    shorter = TRAILING_PARENTHESIS.sub("", bare)
    if shorter and shorter != bare:
        keys.add(normalise_title(shorter))
        alternative = _ALSO_KNOWN_AS.sub("", bare[len(shorter) :].strip().strip("()").strip())
        keys.add(normalise_title(alternative))
    keys.discard("")
    return keys
