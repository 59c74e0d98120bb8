"""Whether a typed title is a catalogue title with a slip in it, or another title.

A character ratio alone cannot tell: "unknown film" scores 83 against "unknown girl", and
"dei hard" no better against "die hard". So a fuzzy match must also pass one of three
judgements, any of them enough:

- word for word: each typed word close to some word of the title (a slip inside a long
  word: "shawshenk redemption");
- across a space: the words are merged or split ("truemlies", "men i nblack", "therock"),
  so the title is compared with its spaces removed, within one edit;
- in a short word: one word of one to three letters differs by one edit and every other
  word is the title's ("teh matrix", "dei hard", "kill bill ovl 2"). Digits do not count:
  "rocky 7" is another number, not a slip of "rocky 2".
"""

from __future__ import annotations

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

# Each typed word this close to a word of the title, by `fuzz.ratio`, for word-for-word.
WORD_SIMILARITY = 70.0
SHORT_WORD = 3  # letters of the longest word in which one edit of any kind is a slip


def is_slip_of(query: str, key: str) -> bool:
    """Whether normalised `query` is normalised title `key` typed with a slip (see the module)."""
    return _in_a_short_word(query, key) or _across_a_space(query, key) or word_for_word(query, key)  # cheapest first


def word_for_word(query: str, key: str) -> bool:
    """Whether every word of `query` is close to some word of `key` (a typo, not a different word)."""
    words = key.split()
    return all(process.extractOne(word, words, scorer=fuzz.ratio, score_cutoff=WORD_SIMILARITY) for word in query.split())


def _across_a_space(query: str, key: str) -> bool:
    typed, meant = query.split(), key.split()
    if [len(word) for word in typed] == [len(word) for word in meant]:
        return False  # the spaces are where the title has them: a slip inside a word, judged word for word
    return OSA.distance("".join(typed), "".join(meant), score_cutoff=1) <= 1


def _in_a_short_word(query: str, key: str) -> bool:
    typed, meant = query.split(), key.split()
    if len(typed) != len(meant):
        return False
    differing = [(a, b) for a, b in zip(typed, meant, strict=True) if a != b]
    if len(differing) != 1:
        return False
    word, title_word = differing[0]
    return len(title_word) <= SHORT_WORD and word.isalpha() and title_word.isalpha() and OSA.distance(word, title_word) == 1
