#!/usr/bin/env bash
# Fails when a commit made after the one that added this check to .ci/run has
# a subject longer than 72 characters: `git log --oneline` stays readable, and
# measurements and reasons go in the body. Older commits are left as they are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MAX=72
if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
  git fetch --quiet --unshallow 2>/dev/null ||
    echo "warning: a shallow clone without its history: commits older than it are not checked"
fi
base="$(git log --reverse --format=%H -S'scripts/check-commit-subjects.sh' -- .ci/run | head -n 1)"
if [ -z "$base" ]; then
  echo "no commit adds the check to .ci/run yet: nothing to check"
  exit 0
fi
bad=0
checked=0
while IFS=$'\t' read -r hash subject; do
  checked=$((checked + 1))
  if [ "${#subject}" -gt "$MAX" ]; then
    echo "${hash}: subject of ${#subject} characters (at most ${MAX}): ${subject}"
    bad=1
  fi
done < <(git log --no-merges --format=$'%h\t%s' "${base}..HEAD")
echo "${checked} commit(s) after ${base:0:7} checked"
exit "$bad"
