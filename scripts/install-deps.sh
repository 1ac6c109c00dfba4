#!/usr/bin/env bash
# Installs what Causeway's tests and benchmarks need on a fresh Debian machine.
# Idempotent: does nothing for packages already present. Needs root (CI runs as root).
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have sipp      || need_apt+=(sip-tester)
have kamailio  || need_apt+=(kamailio)
have baresip   || need_apt+=(baresip-core)
have sipsak    || need_apt+=(sipsak)
have radicale  || need_apt+=(radicale)
have pg_ctlcluster || need_apt+=(postgresql)
have openssl   || need_apt+=(openssl)
# Debian's SIPp has no TLS: the interop tests carry SIPp's TCP over TLS with socat.
have socat     || need_apt+=(socat)
# node + npm run Cisco's jsxapi client against the rooms simulator (crates/rooms/tests/jsxapi.rs).
have node      || need_apt+=(nodejs)
have npm       || need_apt+=(npm)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# SIPVicious from PyPI: Debian's 0.3.3 svcrack fakes success (../shared/TOOLS.md).
if ! python3 -c 'import sipvicious' >/dev/null 2>&1; then
  echo "install-deps: pip install sipvicious"
  python3 -m pip install -q 'sipvicious>=0.3.8'
fi
# jsxapi from npm, pinned by tests/jsxapi/package-lock.json (no install scripts: nothing native is needed).
jsxapi_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/jsxapi"
if [ ! -f "$jsxapi_dir/node_modules/jsxapi/package.json" ]; then
  echo "install-deps: npm ci in tests/jsxapi"
  (cd "$jsxapi_dir" && npm ci --no-audit --no-fund --ignore-scripts)
fi
echo "install-deps: ok"
