#!/usr/bin/env bash
# Try git-ml on a real history: clone a repository (default: this checkout) into a scratch
# folder, run `git ml init` there and ask a few questions.
#   scripts/demo.sh [REPO-URL-OR-PATH] [QUESTION]
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
question=${2:-"fix the transcript parser when one message is split over several lines"}
work=$(mktemp -d "${TMPDIR:-/tmp}/git-ml-demo.XXXXXX")
git clone -q "$src" "$work/repo"
cd "$work/repo"
echo "== git ml init (in $work/repo)"
git ml init
echo
echo "== git ml predict \"$question\""
git ml predict "$question" --top 8
changed=$(git log -1 --format= --name-only | head -n 3 | tr '\n' ' ')
if [ -n "$changed" ]; then
  echo
  echo "== tests for the last commit's files: $changed"
  # shellcheck disable=SC2086
  git ml predict --expert test $(for f in $changed; do printf -- '--files %s ' "$f"; done) --top 8
fi
echo
echo "== git ml stats"
git ml stats
