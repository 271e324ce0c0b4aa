#!/usr/bin/env bash
# Re-fetches the upstream CRD schemas and samples vendored in packages/kube/crds, each from its
# upstream repository at the commit recorded in packages/kube/crds/README.md (the table between
# the files:start / files:end markers), and rewrites the table's byte counts.
#
#   bash scripts/refresh-crds.sh                          # same commits: should change nothing
#   bash scripts/refresh-crds.sh owner/name=COMMIT ...    # move that repository's rows first
#
# Needs network access to GitHub. SPROUT_CRDS_RAW_BASE replaces the raw-file base URL (a mirror
# laid out as <base>/<owner>/<name>/<commit>/<path>; file:// works too).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=packages/kube/crds
readme=$dir/README.md
base=${SPROUT_CRDS_RAW_BASE:-https://raw.githubusercontent.com}

declare -A pin=()
for arg in "$@"; do
  if [[ $arg =~ ^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)=([0-9a-f]{40})$ ]]; then
    pin[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
  else
    echo "refresh-crds: expected owner/name=<40-hex commit>, got '$arg'" >&2
    exit 2
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One table row: | `file` | owner/name | `path` | `commit` | tag | licence | bytes |
row='^\|[[:space:]]*`([^`]+)`[[:space:]]*\|[[:space:]]*([^|[:space:]]+)[[:space:]]*\|[[:space:]]*`([^`]+)`[[:space:]]*\|[[:space:]]*`([0-9a-f]{40})`[[:space:]]*\|([^|]*)\|([^|]*)\|[[:space:]]*[0-9]+[[:space:]]*\|[[:space:]]*$'
in_table=0
fetched=0
declare -A seen=()
while IFS= read -r line || [[ -n $line ]]; do
  case $line in
    '<!-- files:start -->') in_table=1 ;;
    '<!-- files:end -->') in_table=0 ;;
  esac
  if ((in_table)) && [[ $line =~ $row ]]; then
    file=${BASH_REMATCH[1]} repo=${BASH_REMATCH[2]} path=${BASH_REMATCH[3]} commit=${BASH_REMATCH[4]}
    tag=${BASH_REMATCH[5]} licence=${BASH_REMATCH[6]}
    commit=${pin[$repo]:-$commit}
    seen[$repo]=1
    case $file in /* | *..*)
      echo "refresh-crds: refusing path '$file'" >&2
      exit 1
      ;;
    esac
    mkdir -p "$tmp/files/$(dirname "$file")"
    echo "refresh-crds: $repo@${commit:0:12} $path -> $file" >&2
    curl -fsSL --retry 3 -o "$tmp/files/$file" "$base/$repo/$commit/$path"
    bytes=$(wc -c <"$tmp/files/$file" | tr -d ' ')
    fetched=$((fetched + 1))
    line="| \`$file\` | $repo | \`$path\` | \`$commit\` |$tag|$licence| $bytes |"
  fi
  printf '%s\n' "$line"
done <"$readme" >"$tmp/README.md"

if ((fetched == 0)); then
  echo "refresh-crds: no rows found between the files:start / files:end markers of $readme" >&2
  exit 1
fi
for repo in "${!pin[@]}"; do
  [[ -n ${seen[$repo]:-} ]] || {
    echo "refresh-crds: no row names $repo" >&2
    exit 1
  }
done

# Every download succeeded: only now replace the vendored files and the table.
(cd "$tmp/files" && find . -type f -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$dir/$(dirname "$f")"
  cp "$tmp/files/$f" "$dir/$f"
done
cp "$tmp/README.md" "$readme"
npx prettier --write "$readme" --log-level warn
echo "refresh-crds: $fetched files refreshed; update the tag / version column by hand if a commit moved" >&2
git status --short -- "$dir"
