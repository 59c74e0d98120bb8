#!/usr/bin/env bash
# `make run`: the API and the agent side by side, as docker compose runs them, without Docker.
# Reads .env like compose does; Ctrl-C (or SIGTERM) stops both gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin

if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi
export MOVIE_R_HOME=${MOVIE_R_HOME:-$PWD}

if [ ! -L "$MOVIE_R_HOME/models/champion" ]; then
  echo "no champion in $MOVIE_R_HOME/models: training a first TF-IDF one; the agent looks for better"
  "$bin/movie-r" train --model tfidf -q
fi

"$bin/movie-r" serve & api=$!
"$bin/movie-r" agent & agent=$!
echo "API on http://${MOVIE_R_HOST:-127.0.0.1}:${MOVIE_R_PORT:-8000} (pid $api), agent pid $agent; Ctrl-C stops both"

# Both services stop by themselves within ~2 s of TERM; anything still there after 5 s is killed.
stop_both() {
  trap '' INT TERM
  kill -TERM "$api" "$agent" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$api" 2>/dev/null || kill -0 "$agent" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$api" "$agent" 2>/dev/null || true
  wait "$api" "$agent" 2>/dev/null || true
}
trap 'stop_both; exit 0' INT TERM
# if either service dies, stop the other instead of running half a system
wait -n "$api" "$agent" || true
echo "a service exited; stopping the other" >&2
stop_both
exit 1
