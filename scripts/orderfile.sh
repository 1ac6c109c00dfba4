#!/usr/bin/env bash
# Regenerates crates/cli/link/order.txt, the function order crates/cli/build.rs hands to the linker: every function
# of the release binary that runs while a node starts and carries a few SIPp calls in each bench mode (basic, fork,
# dual-ring), hottest first, recorded under valgrind's callgrind. Those functions then sit together at the start of
# .text, so a node maps about 2 MiB of code instead of most of the 12 MiB (BENCHMARKS.md, "Idle memory").
#
#   scripts/orderfile.sh        # then rebuild: cargo build --release -p causeway
#
# Run it after a toolchain or dependency update (symbol names carry crate hashes; scripts/bench.sh prints how much
# of the list still matches). Uses 127.0.0.1:5070 and the harness's ports like scripts/bench.sh; every run is
# bounded (20 calls, 5 cps, 60 s).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${CAUSEWAY_SHARED:-$ROOT/../shared}
for tool in valgrind sipp python3; do command -v "$tool" >/dev/null || { echo "orderfile: $tool not found" >&2; exit 1; }; done
cargo build --release -q -p causeway
BIN="$ROOT/target/release/causeway"
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -INT "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
cp -r "$SHARED/bench" "$WORK/harness"
chmod -R u+w "$WORK/harness"
for mode in basic fork dual-ring; do
  hmode=$mode; [ "$mode" = dual-ring ] && hmode=fork
  bash "$ROOT/scripts/bench.sh" --mode "$mode" --config-only "$WORK/$mode.toml"
  valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$WORK/$mode.cg" \
    "$BIN" serve -c "$WORK/$mode.toml" </dev/null >"$WORK/$mode.log" 2>&1 &
  PID=$!
  for _ in $(seq 600); do ss -Hlnu | grep -q '127.0.0.1:5070 ' && break; sleep 0.1; done
  timeout 60 "$WORK/harness/sip-cps.sh" run --proxy-pid "$PID" --mode "$hmode" --rate 5 --calls 20 \
    --out "$WORK/out" | grep -E 'calls:|verdict' || true
  kill -INT "$PID"; wait "$PID" || true; PID=""
done
python3 - "$BIN" "$WORK"/*.cg >"$ROOT/crates/cli/link/order.txt" <<'PY'
import collections, os, re, sys
binary, outputs = os.path.realpath(sys.argv[1]), sys.argv[2:]
cost = collections.Counter()
for path in outputs:
    objects, names, current, in_call, obj = {}, {}, None, False, ""
    for line in open(path, errors="replace"):
        m = re.match(r"^(c?)(ob|fl|fi|fe|fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            called, kind, ident, name = m.groups()
            table = objects if kind == "ob" else names if kind == "fn" else None
            if table is not None and name:
                table[ident] = name
            if kind == "ob" and not called:
                obj = os.path.realpath(objects.get(ident, ""))
            if kind == "fn" and not called:
                current, in_call = (names.get(ident) if obj == binary else None), False
            continue
        if line.startswith("calls="):
            in_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if not in_call and current:
                fields = line.split()
                cost[current] += int(fields[1]) if len(fields) > 1 else 0
            in_call = False
seen = set()
for name, _ in cost.most_common():
    # callgrind marks recursion levels with 'N and names what it cannot symbolize by address.
    name = re.sub(r"'\d+$", "", name)
    if name.startswith(("(", "0x")) or name in seen:
        continue
    seen.add(name)
    print(name)
PY
echo "orderfile: $(wc -l <"$ROOT/crates/cli/link/order.txt") functions in crates/cli/link/order.txt"
