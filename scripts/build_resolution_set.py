"""Write tests/data/resolution_set.json: labelled queries for title resolution, by rules.

    python scripts/build_resolution_set.py

Every query is made from the default catalogue's titles by a rule (a fixed seed), never from
ratings, so nothing comes from the evaluation's test split. Each case names what a person
typing it means: the ids any of which is a right answer, or none (a cold start is right).
Categories: exact (odd casing, the year), typo (one slip), partial (the start several titles
share), sequel (the number written the other way), alternate (the title in parentheses,
often the original language), description (genre words, no title), unknown (made-up names
and films the catalogue does not have); and three kinds of slip in the title as people
type it ("The Lion King"): a letter swapped across a space (typo-across-space: "men i
nblack"), a space left out or put in (typo-space: "stand byme"), a slip in a word of one
to three letters (typo-short-word: "teh lion king").
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from movie_r.data.loading import load_catalog
from movie_r.data.title_keys import ARTICLES, ROMAN, normalise_title, title_keys
from movie_r.lifecycle.evaluation import typo
from movie_r.settings import Settings

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "resolution_set.json"
SEED = 17
POPULAR = 2000  # people ask for movies they have heard of
_TRAILING_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)\s*$")
_TRAILING_ARTICLE = re.compile(r"^(.*),\s*(\w+)$")
# a sequel's Roman number closing the title's main part ("Star Trek II: ..."), typed as a digit
_NUMBER = re.compile(r"\s(II|III|IV|VI|VII|VIII|IX)$")
# a start that ends in one of these is not what anyone types ("return of", "pirates of the")
FUNCTION_WORDS = frozenset(["of", "the", "in", "and", "a", "an", "to", "for", "on", "with", "at", "from", "my", "is"])

DESCRIPTIONS = [
    "funny animated movie for kids", "a scary film to watch at night", "romantic comedy set in new york",
    "space adventure with aliens and robots", "a heist movie with a clever twist", "cartoon for a family evening",
    "sad drama about growing up", "gangster film in the seventies", "a musical with lots of singing",
    "detective story in a small town", "cowboys and outlaws in the desert", "magical fantasy with dragons",
    "war film about soldiers far from home", "documentary about the ocean", "something like inception but funny",
    "a movie similar to the matrix but older", "films like toy story for small children", "a tense thriller on a train",
    "love story between two strangers", "a comedy about a wedding gone wrong", "kids adventure with a dog",
    "scary movie about a haunted house", "futuristic city with flying cars", "a funny road trip with friends",
    "creepy clowns in the woods", "spy movie with car chases", "historical epic with battles",
    "an animated film about fish", "courtroom drama with a twist", "heartwarming film about a teacher",
    "zombie apocalypse survival", "coming of age summer camp", "a superhero team saves the world",
    "martial arts tournament film", "prison escape with a plan", "a musical about dreams in los angeles",
    "monsters under the bed", "time travel paradox story", "boxing underdog comeback", "a film like heat but funny",
]  # fmt: skip
UNKNOWN = [
    "oppenheimer", "everything everywhere all at once", "top gun maverick", "glass onion", "the fabelmans",
    "aftersun", "past lives", "poor things", "killers of the flower moon", "the holdovers",
    "anatomy of a fall", "the zone of interest", "saltburn", "triangle of sadness", "women talking",
    "banshees of inisherin", "drive my car", "minari", "nomadland", "the power of the dog",
]  # fmt: skip
SPACE_SLIPS = 64  # cases of each kind of slip around spaces and in short words
SHORT_WORD = 3
SYLLABLES = ["zor", "blax", "quen", "triv", "omu", "dex", "fral", "vint", "kesh", "plo", "grav", "iru"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT})")
    out = parser.parse_args(argv).out
    movies = load_catalog(Settings().catalog).movies
    titles, ids = movies["title"].tolist(), movies["id"].astype(int).tolist()
    popular = movies.sort_values("popularity", ascending=False, kind="stable").index[:POPULAR].tolist()
    by_key: dict[str, list[int]] = defaultdict(list)
    for row, title in enumerate(titles):
        for key in title_keys(title):
            by_key[key].append(ids[row])
    rng = random.Random(SEED)
    cases: list[dict] = []

    def add(category: str, query: str, expected: list[int] | None) -> None:
        cases.append({"category": category, "query": query, "expected": sorted(set(expected)) if expected else []})

    for row in rng.sample(popular, 64):
        title = titles[row]
        query = rng.choice([title.upper(), title.lower(), f"{title} ({int(movies['year'].iloc[row])})" if movies["year"].iloc[row] == movies["year"].iloc[row] else title])
        add("exact", query, by_key[normalise_title(title)])
    typos = 0
    for row in rng.sample(popular, len(popular)):
        key = normalise_title(titles[row])
        if typos == 64 or len(key.replace(" ", "")) < 8:
            continue
        slipped = typo(key, rng)
        if normalise_title(slipped) in by_key or slipped == key:
            continue  # a slip that is another title's name is not a typo any more
        add("typo", slipped, by_key[key])
        typos += 1
    starts: dict[str, set[int]] = defaultdict(set)
    for row in popular:
        words = normalise_title(titles[row]).split()
        for n in (2, 3):
            if len(words) <= n:
                continue
            last = words[n - 1]
            if words[0] not in ARTICLES and last not in FUNCTION_WORDS and len(last) > 1:
                starts[" ".join(words[:n])].add(ids[row])
    shared = [(prefix, movie_ids) for prefix, movie_ids in starts.items() if len(movie_ids) >= 2 and prefix not in by_key]
    shared = [(p, m) for p, m in shared if not any(p != q and q.startswith(p + " ") for q, _ in shared)]  # longest start only
    for prefix, movie_ids in rng.sample(shared, min(40, len(shared))):
        everyone = [i for key, key_ids in by_key.items() if key.startswith(prefix + " ") for i in key_ids]
        add("partial", prefix, everyone or list(movie_ids))
    sequels = [row for row in popular if _NUMBER.search(titles[row].split(":")[0].split("(")[0])]
    for row in rng.sample(sequels, min(30, len(sequels))):
        base = titles[row].split(":")[0].split("(")[0].strip()
        number = _NUMBER.search(base)
        assert number is not None
        query = (base[: number.start()] + " " + ROMAN[number.group(1).lower()]).replace(" Part ", " ").lower()
        add("sequel", _natural(query), [ids[row]] + (by_key.get(normalise_title(base)) or []))
    alternates = []
    for row in popular:
        found = _TRAILING_PARENTHESIS.search(re.sub(r"\s*\(\d{4}\)\s*$", "", titles[row]))
        if found:
            alternate = re.sub(r"^(a\.?k\.?a\.?|aka)\s+", "", found.group(1), flags=re.IGNORECASE)
            if normalise_title(alternate) and normalise_title(alternate) != normalise_title(titles[row].split(" (")[0]):
                alternates.append((row, _natural(alternate)))
    for _row, alternate in rng.sample(alternates, min(40, len(alternates))):
        add("alternate", alternate, by_key[normalise_title(alternate)])
    for text in DESCRIPTIONS:
        add("description", text, None)
    for name in UNKNOWN:
        add("unknown", name, None)
    for _ in range(20):
        add("unknown", " ".join("".join(rng.sample(SYLLABLES, 2)) for _ in range(rng.randint(1, 2))), None)
    for category, slip in (("typo-across-space", _swap_across_space), ("typo-space", _space_slip), ("typo-short-word", _short_word_slip)):
        made = 0
        for row in rng.sample(popular, len(popular)):
            said = _natural(_TRAILING_PARENTHESIS.sub("", re.sub(r"\s*\(\d{4}\)\s*$", "", titles[row])))  # as typed
            key = normalise_title(said)
            if made == SPACE_SLIPS or len(key.replace(" ", "")) < 8:
                continue
            slipped = slip(said, rng)
            if slipped is None or normalise_title(slipped) in by_key:
                continue  # no place for this slip, or one that names another title
            add(category, slipped, by_key[key])
            made += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seed": SEED, "catalogue": "data/catalog.csv.gz", "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    counts = defaultdict(int)
    for case in cases:
        counts[case["category"]] += 1
    print(f"{len(cases)} cases -> {out}: {dict(counts)}")
    return 0


def _swap_across_space(title: str, rng: random.Random) -> str | None:
    """"Men in Black" -> "Men i nBlack": a letter beside a space swapped with it."""
    spaces = [i for i in range(1, len(title) - 1) if title[i] == " " and title[i - 1].isalpha() and title[i + 1].isalpha()]
    if not spaces:
        return None
    i = rng.choice(spaces) + rng.choice((-1, 0))  # the letter before the space, or the space before the letter
    return title[:i] + title[i + 1] + title[i] + title[i + 2 :]


def _space_slip(title: str, rng: random.Random) -> str | None:
    """"Stand by Me" -> "Stand byMe" (a space left out) or "Full Met al Jacket" (one put in)."""
    if rng.random() < 0.5:
        spaces = [i for i in range(1, len(title) - 1) if title[i] == " " and title[i - 1].isalnum() and title[i + 1].isalnum()]
        if spaces:
            i = rng.choice(spaces)
            return title[:i] + title[i + 1 :]
    inside = [i for i in range(1, len(title)) if title[i - 1].isalpha() and title[i].isalpha()]
    if not inside:
        return None
    i = rng.choice(inside)
    return title[:i] + " " + title[i:]


def _short_word_slip(title: str, rng: random.Random) -> str | None:
    """"The Lion King" -> "Teh Lion King": one slip in a word of one to three letters."""
    words = [m for m in re.finditer(r"[A-Za-z]+", title) if len(m.group()) <= SHORT_WORD]
    if not words:
        return None
    word = rng.choice(words)
    text, start = word.group(), word.start()
    kinds = ["double", "replace"] + (["drop", "swap"] if len(text) > 1 else [])
    kind = rng.choice(kinds)
    i = rng.randrange(len(text) - (kind == "swap"))
    if kind == "drop":
        slipped = text[:i] + text[i + 1 :]
    elif kind == "double":
        slipped = text[:i] + text[i] + text[i:]
    elif kind == "swap":
        slipped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    else:
        slipped = text[:i] + rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != text[i].lower()]) + text[i + 1 :]
    if slipped.lower() == text.lower():
        return None  # "Too" doubled at its "o" is still "Too"
    return title[:start] + slipped + title[start + len(text) :]


def _natural(title: str) -> str:
    """"Haine, La" -> "La Haine": the article where people type it."""
    moved = _TRAILING_ARTICLE.match(title.strip())
    if moved and moved.group(2).lower() in ARTICLES:
        return f"{moved.group(2)} {moved.group(1)}"
    return title.strip()


if __name__ == "__main__":
    sys.exit(main())
