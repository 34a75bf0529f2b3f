#!/usr/bin/env bash
# Publish the loader's deaths store to every app host: one host (the loader) runs `python app.py load`,
# and this copies its store to each host beside the live one, checks the copy, then renames it over the
# live one (atomic on one file system). Each host's workers switch to the new store within a second,
# whole, and every host serves the same bytes: the same load history, so "What's new" agrees everywhere.
#
#   bash scripts/publish_deaths_store.sh LOADER_DATA_DIR DEST...
#
# DEST is an app host's DATA_DIR: a local folder, or [user@]host:/folder (through scp and ssh).
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: bash scripts/publish_deaths_store.sh LOADER_DATA_DIR DEST... (DEST: a folder or [user@]host:/folder)" >&2
  exit 2
fi
source_store="$1/deaths.duckdb"
shift
if [ ! -f "$source_store" ]; then
  echo "error: no deaths store at $source_store (run python app.py load there first)" >&2
  exit 2
fi

# One snapshot for every host: a load that swaps the loader's store meanwhile cannot split them.
snapshot=$(mktemp "${TMPDIR:-/tmp}/deaths-store.XXXXXX")
trap 'rm -f "$snapshot"' EXIT
cp "$source_store" "$snapshot"
checksum=$(sha256sum "$snapshot" | cut -d' ' -f1)
incoming=".deaths.duckdb.incoming"

for dest in "$@"; do
  if [[ "$dest" == *:* ]]; then
    host=${dest%%:*}
    folder=${dest#*:}
    scp -q "$snapshot" "$host:$folder/$incoming"
    # shellcheck disable=SC2029 # expanded here on purpose: the checksum and names are ours
    ssh "$host" "cd '$folder' && echo '$checksum  $incoming' | sha256sum --check --quiet && mv -f '$incoming' deaths.duckdb"
  else
    if [ ! -d "$dest" ]; then
      echo "error: $dest is not a folder" >&2
      exit 2
    fi
    cp "$snapshot" "$dest/$incoming"
    (cd "$dest" && echo "$checksum  $incoming" | sha256sum --check --quiet)
    mv -f "$dest/$incoming" "$dest/deaths.duckdb"
  fi
  echo "published to $dest ($checksum)"
done
