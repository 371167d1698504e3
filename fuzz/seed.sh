#!/usr/bin/env bash
# Builds the seed corpora in fuzz/corpus/<target>/ (gitignored) from the fixtures and, when
# present, ../shared/captures ../shared/hpack-test-case and ../shared/qifs, read in place.
#   fuzz/seed.sh            (from the repository root or from fuzz/)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared="$root/../shared"
inputs=("$root"/fixtures/*/*.pcap "$root"/fixtures/*/*.pcapng "$root"/fixtures/*/*.keys "$root"/fixtures/*/*.crt)
if [ -d "$shared/captures" ]; then
    inputs+=("$shared"/captures/*.pcap "$shared"/captures/*.pcapng "$shared"/captures/*.keys)
else
    echo "seed.sh: $shared/captures not found; seeding from the fixtures only" >&2
fi
hpack=-
[ -d "$shared/hpack-test-case" ] && hpack="$shared/hpack-test-case"
[ -d "$shared/qifs/encoded" ] && export QIFS="$shared/qifs/encoded"
cd "$here"
cargo +nightly run --quiet --release --example seed -- "$here/corpus" "$hpack" "${inputs[@]}"
