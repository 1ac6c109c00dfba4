#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the real peers the tests use
# (SIPp, Kamailio, baresip, sipsak, Radicale, SIPVicious, ...), checks that the sans-IO
# crates stay free of I/O runtimes, then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# STYLE.md §6.1: the protocol core never depends on an async runtime or sockets.
for crate in causeway-sip causeway-txn causeway-proxy causeway-policy causeway-routing causeway-callctl causeway-b2bua; do
  if [ -d "crates/${crate#causeway-}" ] && cargo tree -q -e normal --prefix none -p "$crate" | grep -qE '^(tokio|mio|socket2) '; then
    echo "test.sh: $crate depends on an I/O runtime; the core must stay sans-IO" >&2
    exit 1
  fi
done

# CI builds once from a clean clone: incremental caches would only cost disk and time.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
fi

cargo test --workspace --locked --no-fail-fast "$@"
