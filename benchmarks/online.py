"""Online evaluation against simulated users: does the experiment reach the right verdict, and how fast?

    python benchmarks/online.py [--runs 20] [--pairs clear close aa] [--modes interleave ab] [--max-impressions 6000]

Setup: the embedded ratings are split per user in time; the latest 20 % of each user's ratings
are held out and never reach training. Every model is trained on the rest. A simulated user
asks the real API (`movie-r serve`, its own loopback address per user) for movies like the
latest movie it liked in training, examines each answer's position r with probability
1/log2(r+1), clicks an examined movie it liked in the held-out part with probability 0.9 and
any other examined movie with probability 0.02, and posts each click to `/feedback`. The
simulator reads the experiment's standing from the storage root as the agent does
(`lifecycle.experiments.tally`), never the models.

Pairs: clear (TF-IDF champion, hybrid candidate), close (the hybrid preset against the hybrid
with RP3beta inside, whose offline NDCG@10 differs by under 5 %), and aa (the hybrid against a
copy of itself, the offline gate bypassed). The right verdict of a pair is the side with the
higher offline NDCG@10; for aa it is no winner. Prints, per pair and mode, the share of runs
with the right verdict and the impressions needed to decide (median), and the ratio of A/B's
impressions to interleaving's on the same pairs.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movie_r.lifecycle import experiments  # noqa: E402
from movie_r.lifecycle.experiments import Ending  # noqa: E402
from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.promotion import promote  # noqa: E402
from movie_r.lifecycle.sequential import Standing  # noqa: E402
from movie_r.lifecycle.training import train  # noqa: E402
from movie_r.recommenders.evidence import POSITIVE_RATING  # noqa: E402
from movie_r.settings import Settings, default_catalog, default_interactions  # noqa: E402
from movie_r.storage.records import ExperimentRule, OnlineMode  # noqa: E402
from movie_r.storage.registry import Registry  # noqa: E402
from tests.processes import start_api, stop, wait_until  # noqa: E402

HELD_OUT = 0.2
K = 10
EXAMINE = [1 / math.log2(rank + 1) for rank in range(1, K + 1)]
CLICK_RELEVANT, CLICK_NOISE = 0.9, 0.02
BATCH = 100  # impressions between looks at the standing (the trace then says when it first decided)
RP3_HYBRID = {
    "recommender__collaborative": "rp3beta",
    "recommender__collaborative__alpha": 0.6,
    "recommender__collaborative__beta": 0.1,
}
PAIRS = {  # name -> (champion config, candidate config), each (kind, params)
    "clear": (("tfidf", None), ("hybrid", None)),
    "close": (("hybrid", None), ("hybrid", RP3_HYBRID)),
    "aa": (("hybrid", None), ("hybrid", None)),
}


def split(ratings: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, set[int]]]:
    """Each user's latest HELD_OUT of ratings out of training; their liked movies there are the future."""
    ordered = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    position = ordered.groupby("user_id").cumcount()
    size = ordered.groupby("user_id")["movie_id"].transform("size")
    future = position >= size - np.maximum(1, (size * HELD_OUT).astype(int))
    liked = ordered[future & (ordered["rating"] >= POSITIVE_RATING)]
    return ordered[~future], {str(u): set(group["movie_id"].astype(int)) for u, group in liked.groupby("user_id")}


def address(index: int) -> str:
    return f"127.{1 + index // 62500}.{index // 250 % 250}.{index % 250 + 1}"


class Users:
    """Simulated users: each has a seed movie from training and liked movies in the held-out future."""

    def __init__(self, train: pd.DataFrame, future: dict[str, set[int]], url: str) -> None:
        liked = train[train["rating"] >= POSITIVE_RATING]
        seeds = liked.groupby("user_id")["movie_id"].last()
        self.ids = [u for u in seeds.index.astype(str) if future.get(u)]
        self.seed = {u: int(seeds[u]) for u in self.ids}
        self.future = future
        self.url = url
        self._clients: dict[int, httpx.Client] = {}

    def client(self, index: int) -> httpx.Client:
        if index not in self._clients:
            transport = httpx.HTTPTransport(local_address=address(index))
            self._clients[index] = httpx.Client(base_url=self.url, transport=transport, timeout=10)
        return self._clients[index]

    def impression(self, rng: np.random.Generator, request_id: str) -> None:
        index = int(rng.integers(len(self.ids)))
        user = self.ids[index]
        client = self.client(index)
        params, headers = {"movie_id": self.seed[user], "k": K}, {"x-request-id": request_id}
        body = _once_more(lambda: client.get("/recommend", params=params, headers=headers)).json()
        for rank, item in enumerate(body.get("recommendations", [])):
            if rng.random() >= EXAMINE[rank]:
                continue
            if rng.random() < (CLICK_RELEVANT if item["id"] in self.future[user] else CLICK_NOISE):
                click = {"request_id": body["request_id"], "movie_id": item["id"], "action": "click"}
                _once_more(lambda: client.post("/feedback", json=click))  # noqa: B023 -- called at once

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def _once_more(send):
    """A request, sent again once when the server had just closed the idle connection it went
    out on (a keep-alive race of a user unheard from for a few seconds, not a failure; feedback
    is kept once per request, action and movie, so a repeated click counts once)."""
    try:
        return send()
    except httpx.RemoteProtocolError:
        return send()


def run_once(
    registry: Registry, settings: Settings, users: Users, versions: tuple[str, str], mode: OnlineMode, rule: ExperimentRule,
    seed: int, tag: str,
) -> tuple[Standing | None, int]:
    """One experiment until the test decides or the maximum: (its standing, impressions it needed)."""
    champion, candidate = versions
    if registry.champion_version() != champion:
        promote(registry, champion, "online benchmark")
    experiment = experiments.start(registry, candidate, mode, rule, "operator", ["online benchmark"])
    probe = httpx.Client(base_url=users.url, timeout=10)
    if not wait_until(lambda: probe.get("/recommend", params={"movie_id": 1}).headers.get("x-experiment") == experiment.id, 60):
        raise RuntimeError("the API did not pick up the experiment")
    probe.close()
    rng = np.random.default_rng(seed)
    shown, decided = 0, None
    stopping = experiments.stopping_rule(rule)
    while shown < rule.max_impressions and decided is None:
        for _ in range(BATCH):
            users.impression(rng, f"{tag}-{shown}")
            shown += 1
        time.sleep(0.15)  # the API flushes its events every 0.1 s
        decided = experiments.tally(experiment, settings.metrics_dir).decided_after(stopping)
    time.sleep(0.15)
    final = experiments.tally(experiment, settings.metrics_dir)
    experiments.end(registry, experiment, Ending.STOPPED, "online benchmark run", final)
    found = final.decided_after(stopping)
    return (found[1], found[0]) if found else (None, final.impressions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--modes", nargs="+", default=["interleave", "ab"], choices=["interleave", "ab"])
    parser.add_argument("--max-impressions", type=int, default=6000)
    parser.add_argument("--min-effect", type=float, default=0.05)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="movie_r-online-") as scratch:
        root = Path(scratch)
        catalog = default_catalog()
        interactions = default_interactions({"catalog": catalog})
        full = load_training_data(catalog, interactions).interactions
        assert full is not None
        train_ratings, future = split(full.ratings)
        train_csv = root / "train.csv"
        train_ratings.to_csv(train_csv, index=False)
        settings = Settings(home=root / "home", catalog=catalog, interactions=train_csv, online="off")
        data = load_training_data(catalog, train_csv)
        print(f"setup: {len(train_ratings)} training ratings, {sum(map(len, future.values()))} held-out likes of {len(future)} users")

        trained: dict[tuple[str, str], str] = {}
        scores: dict[str, float] = {}
        pairs: dict[str, tuple[str, str]] = {}
        for name in args.pairs:
            chosen = []
            for side, (kind, params) in zip(("champion", "candidate"), PAIRS[name], strict=True):
                key = (kind, repr(params))
                if key not in trained or (name == "aa" and side == "candidate"):  # aa: a second, identical version
                    started = time.perf_counter()
                    result = train(settings, data, kind, params)
                    trained.setdefault(key, result.version.version)
                    scores[result.version.version] = result.report.score
                    print(f"trained {kind} {params or 'preset'}: ndcg@10 {result.report.score:.4f} ({time.perf_counter() - started:.0f} s)")
                    chosen.append(result.version.version)
                else:
                    chosen.append(trained[key])
            pairs[name] = (chosen[0], chosen[1])

        registry = Registry.of(settings)
        rule = ExperimentRule(
            alpha=settings.online_alpha, power=settings.online_power, min_effect=args.min_effect,
            max_impressions=args.max_impressions, max_hours=72, quiet_minutes=60,
        )  # fmt: skip
        print(f"rule: alpha {rule.alpha}, power {rule.power}, min effect {rule.min_effect}, at most {rule.max_impressions} impressions")
        results: dict[tuple[str, str], list[tuple[Standing | None, int]]] = {}
        for name, versions in pairs.items():
            for mode in args.modes:
                runs = results.setdefault((name, mode), [])
                started = time.perf_counter()
                for seed in range(args.runs):
                    # a fresh server and journals for each run: a tally reads every event of
                    # the files it finds, and earlier runs' events would make each look slower
                    for journals in (settings.storage.metrics.events, settings.storage.metrics.feedback):
                        shutil.rmtree(journals, ignore_errors=True)
                    api, url = start_api(settings.home, {"MOVIE_R_ONLINE": "off", "MOVIE_R_EVENTS_FLUSH_INTERVAL": "0.1"}, ready_timeout=120)
                    users = Users(train_ratings, future, url)
                    try:
                        tag = f"{name}-{mode}-{seed}"
                        runs.append(run_once(registry, settings, users, versions, OnlineMode(mode), rule, 1000 * seed + 7, tag))
                    finally:
                        users.close()
                        stop(api)
                outcomes = [(s.value if s else "undecided", n) for s, n in runs]
                print(f"  {name:<6} {mode:<10} {time.perf_counter() - started:.0f} s {outcomes}", flush=True)

    print()
    print(f"{'pair':<7}{'offline ndcg@10':<22}{'mode':<12}{'right verdict':<15}{'median impressions':<20}")
    medians: dict[tuple[str, str], float] = {}
    for (name, mode), runs in results.items():
        champion, candidate = pairs[name]
        if name == "aa":
            right = Standing.NO_DIFFERENCE
        else:
            right = Standing.CANDIDATE_BETTER if scores[candidate] > scores[champion] else Standing.CANDIDATE_WORSE
        correct = sum(s is right or (name == "aa" and s in (None, Standing.UNDECIDED)) for s, _ in runs)
        medians[(name, mode)] = statistics.median(n for _, n in runs)
        offline = f"{scores[champion]:.4f} -> {scores[candidate]:.4f}"
        print(f"{name:<7}{offline:<22}{mode:<12}{f'{correct}/{len(runs)}':<15}{medians[(name, mode)]:<20.0f}")
    for name in pairs:
        if (name, "ab") in medians and (name, "interleave") in medians and name != "aa":
            print(f"sensitivity {name}: A/B needs {medians[(name, 'ab')] / medians[(name, 'interleave')]:.1f}x the impressions of interleaving")
    return 0


if __name__ == "__main__":
    sys.exit(main())
