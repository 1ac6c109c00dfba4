#!/usr/bin/env bash
# Calls-per-second benchmark: Causeway and Kamailio side by side, in the same run, with the
# SIPp harness from ../shared/bench (sip-cps.sh). Prints both sets of figures and their ratios.
#
#   scripts/bench.sh [--mode basic|fork|dual-ring] [--rate 4000] [--secs 8] [--rates "2000 4000 8000 16000"]
#                    [--refine 3] [--no-step] [--only causeway|kamailio] [--bin PATH] [--config-only FILE]
#
# For each subject: idle memory, one run at --rate on a fresh process (CPU per call, peak memory),
# then a fresh process for the step search (max sustainable cps, <0.1% failed).
# Everything runs on 127.0.0.1; every SIPp run is bounded by the harness (count and time).
# Output and raw SIPp material: bench-out/<time>/ ; the summary is also written to summary.txt there.
#
# Fork mode is proxy forking (RFC 3261 §16.6-16.7): two neighbour zones, one per SIPp UAS, reached by two search
# rules of equal priority, so every INVITE is forked in parallel and the ringing leg is CANCELled when the other
# answers; Kamailio runs its WITH_FORK config. --strict-cancel is on for the runs at --rate (a leg never CANCELled
# fails a run) and for Causeway's step search; Kamailio's ceiling is searched without it (see the step search).
# Dual-ring mode is the same two-leg fork through call control (issue 5): the INVITE dials a line whose user has two
# remote destinations without delay, one per UAS zone, so Causeway's B2BUA runs Single Number Reach, answers the
# caller from the leg that answers and CANCELs the ringing one with "Call completed elsewhere" (each leg its own
# dialog, a CDR built per call, no store). Kamailio runs the same WITH_FORK config as in fork mode.
# --bin measures a causeway binary built earlier instead of building the tree (A/B runs of two commits, one after
# the other, on the same machine state). The machine is shared: the summary records the load average before and
# after, and the commit (or --bin binary) measured.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${CAUSEWAY_SHARED:-$ROOT/../shared}
MODE=basic RATE=4000 SECS=8 RATES="2000 4000 8000 16000" REFINE=3 STEP=1 ONLY="" CONFIG_ONLY="" BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --secs) SECS=$2; shift ;;
    --rates) RATES=$2; shift ;;
    --refine) REFINE=$2; shift ;;
    --no-step) STEP=0 ;;
    --only) ONLY=$2; shift ;;
    --bin) BIN=$(realpath "$2"); shift ;;
    --config-only) CONFIG_ONLY=$2; shift ;; # write the mode's Causeway config to FILE and stop (scripts/orderfile.sh)
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
  shift
done

# The harness and Kamailio know two modes; dual-ring is fork mode with call control in front of Causeway's legs.
HMODE=$MODE; [ "$MODE" = dual-ring ] && HMODE=fork
if [ -n "$CONFIG_ONLY" ]; then
  CONF=$CONFIG_ONLY
else
  command -v sipp >/dev/null && command -v kamailio >/dev/null || bash "$ROOT/scripts/install-deps.sh"
  OUT="$ROOT/bench-out/$(date +%Y%m%d-%H%M%S)-$MODE"
  mkdir -p "$OUT"
  # shared/ is read-only and the harness writes beside itself: work on a copy.
  cp -r "$SHARED/bench" "$OUT/harness"
  chmod -R u+w "$OUT/harness"
  H="$OUT/harness"

  GIVEN_BIN=$BIN
  if [ -z "$BIN" ]; then
    cargo build --release -q -p causeway
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/causeway"
  fi
  CONF="$OUT/causeway-bench.toml"
  # The link layout (crates/cli/build.rs) keeps idle memory low only while link/order.txt names this build's
  # functions: say how much of it still does.
  ORDER="$ROOT/crates/cli/link/order.txt"
  FOUND=$(nm "$BIN" 2>/dev/null | awk 'NR == FNR { want[$1] = 1; next } ($3 in want) { n++ } END { print n + 0 }' "$ORDER" -)
  ORDERFILE="link order: $FOUND of $(wc -l <"$ORDER") functions of crates/cli/link/order.txt found"
  [ "$FOUND" -lt $(($(wc -l <"$ORDER") * 8 / 10)) ] && ORDERFILE="$ORDERFILE (stale: run scripts/orderfile.sh)"
  echo "$ORDERFILE"
fi
cat >"$CONF" <<EOF
[node]
name = "bench"
[[listener]]
transport = "udp"
address = "127.0.0.1:5070"
[log]
level = "warn"
# SIPp is one source sending thousands of requests a second: it is trusted, as Kamailio's bench config has no
# flood limit (pike) either.
[security.flood]
trusted_cidrs = ["127.0.0.0/8"]
EOF
if [ "$MODE" = dual-ring ]; then
  # The SIPp UAC sends INVITE sip:bench@127.0.0.1:5070: 127.0.0.1 is the cluster's FQDN, bench@127.0.0.1 the
  # directory URI of line 2000, whose user rings a@ and b@bench.invalid at once (answer too soon/late off). The
  # UAC shares 127.0.0.1 with the UASes, so it is classified into zone uas-a: that zone is its trunk.
  for leg in a:5080 b:5082; do
    cat >>"$CONF" <<EOF
[[zone]]
name = "uas-${leg%%:*}"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "127.0.0.1:${leg##*:}"
transport = "udp"
[[search_rule]]
name = "leg-${leg%%:*}"
pattern_type = "exact"
pattern = "${leg%%:*}@bench.invalid"
target = "uas-${leg%%:*}"
EOF
  done
  cat >>"$CONF" <<EOF
[callctl]
cluster_fqdns = ["127.0.0.1"]
[[callctl.partition]]
name = "Bench"
[[callctl.css]]
name = "CSS-Bench"
partitions = ["Bench"]
[[callctl.trunk]]
zone = "uas-a"
css = "CSS-Bench"
[[callctl.user]]
userid = "bench"
directory_uri = "bench@127.0.0.1"
[[callctl.user.remote_destination]]
name = "a"
destination = "sip:a@bench.invalid"
delay_before_ringing_ms = 0
answer_too_soon_ms = 0
answer_too_late_ms = 0
[[callctl.user.remote_destination]]
name = "b"
destination = "sip:b@bench.invalid"
delay_before_ringing_ms = 0
answer_too_soon_ms = 0
answer_too_late_ms = 0
[[callctl.line]]
dn = "2000"
partition = "Bench"
user = "bench"
EOF
elif [ "$MODE" = fork ]; then
  for leg in a:5080 b:5082; do
    # The UAC shares 127.0.0.1 with the UASes, so its requests classify into a UAS zone: allow_source_zone.
    cat >>"$CONF" <<EOF
[[zone]]
name = "uas-${leg%%:*}"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "127.0.0.1:${leg##*:}"
transport = "udp"
[[search_rule]]
name = "fork-${leg%%:*}"
priority = 10
pattern_type = "regex"
pattern = ".*"
target = "uas-${leg%%:*}"
allow_source_zone = true
EOF
  done
else
  printf '[[route]]\ndefault = true\nnext_hop = "sip:127.0.0.1:5080;transport=udp"\n' >>"$CONF"
fi
[ -n "$CONFIG_ONLY" ] && exit 0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
"$BIN" check -c "$CONF" >/dev/null

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # subject -> prints pid
  # A previous subject may still hold the port for a moment after it was stopped.
  for _ in $(seq 100); do ss -Hlnu 2>/dev/null | grep -q '127.0.0.1:5070 ' || break; sleep 0.1; done
  case "$1" in
    kamailio) "$H/kamailio/run-kamailio.sh" start "$HMODE" udp 4 ;;
    causeway)
      "$BIN" serve -c "$CONF" </dev/null >"$OUT/causeway.log" 2>&1 &
      local pid=$!
      for _ in $(seq 50); do ss -Hlnu 2>/dev/null | grep -q '127.0.0.1:5070 ' && break; sleep 0.1; done
      sleep 0.5
      kill -0 "$pid" 2>/dev/null || { echo "causeway failed to start, see $OUT/causeway.log" >&2; exit 1; }
      echo "$pid" ;;
  esac
}
stop() { # subject pid
  case "$1" in
    kamailio) "$H/kamailio/run-kamailio.sh" stop "$2" ;;
    causeway) kill -TERM "$2" 2>/dev/null || true; wait "$2" 2>/dev/null || true ;;
  esac
}

declare -A IDLE_RSS IDLE_PSS MS_CALL PEAK_PSS PEAK_RSS MAX_CPS RUN_VERDICT UNCANCELLED
SUBJECTS="kamailio causeway"; [ -n "$ONLY" ] && SUBJECTS=$ONLY
for s in $SUBJECTS; do
  echo "=== $s: idle memory and one run at $RATE cps ($MODE)"
  pid=$(start "$s"); PIDS+=("$pid")
  sleep 2
  mem=$("$H/sip-cps.sh" mem --proxy-pid "$pid")
  echo "$mem"
  IDLE_RSS[$s]=$(sed -n 's/.*rss_sum=\([0-9]*\)KiB.*/\1/p' <<<"$mem")
  IDLE_PSS[$s]=$(sed -n 's/.*pss_sum=\([0-9]*\)KiB.*/\1/p' <<<"$mem")
  extra=(); [ "$HMODE" = fork ] && extra=(--strict-cancel)
  "$H/sip-cps.sh" run --proxy-pid "$pid" --mode "$HMODE" --rate "$RATE" --secs "$SECS" \
    --out "$OUT/$s" "${extra[@]}" | tee "$OUT/$s-run.txt" || true
  line=$(tail -n 1 "$OUT/$s/results.tsv")
  IFS=$'\t' read -r _ unc _ _ _ _ _ _ _ _ _ _ mscall rss pss _ _ _ verdict <<<"$line"
  MS_CALL[$s]=$mscall PEAK_RSS[$s]=$rss PEAK_PSS[$s]=$pss RUN_VERDICT[$s]=$verdict UNCANCELLED[$s]=$unc
  stop "$s" "$pid"
  if [ "$STEP" = 1 ]; then
    echo "=== $s: max sustainable cps (step search over: $RATES)"
    sleep 3
    pid=$(start "$s"); PIDS+=("$pid")
    # Kamailio's ceiling is searched with the harness's usual criteria (as in RESULTS-kamailio.md: it leaves
    # 0.1-0.3 % of losing legs ringing at every rate, so with --strict-cancel it would have none); Causeway's
    # with --strict-cancel as well, so its figure is the stricter one.
    step_extra=("${extra[@]}"); [ "$s" = kamailio ] && step_extra=()
    "$H/sip-cps.sh" step --proxy-pid "$pid" --mode "$HMODE" --rates "$RATES" --refine "$REFINE" \
      --secs "$SECS" --settle 5 --out "$OUT/$s-step" "${step_extra[@]}" | tee "$OUT/$s-step.txt" || true
    MAX_CPS[$s]=$(sed -n 's/.*max sustainable = \([0-9]*\) cps.*/\1/p' "$OUT/$s-step.txt")
    stop "$s" "$pid"
  fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0 || a == "") print "n/a"; else printf "%.2f", a / b }'; }
{
  echo
  echo "== summary ($MODE mode, UDP, $(nproc) cores, SIPp on the same cores; $(date -u +%Y-%m-%dT%H:%MZ))"
  if [ -n "${GIVEN_BIN:-}" ]; then MEASURED="binary $BIN"; else
    MEASURED="commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- crates || echo ' (+ uncommitted changes in crates/)')"
  fi
  echo "$MEASURED; load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-34s %14s %14s %10s\n' figure kamailio causeway "cw/kam"
  row() { printf '%-34s %14s %14s %10s\n' "$1" "${2:-n/a}" "${3:-n/a}" "$(ratio "${3:-}" "${2:-}")"; }
  if [ "$HMODE" = fork ]; then
    row "max cps (cw: + no leg uncancelled)" "${MAX_CPS[kamailio]:-}" "${MAX_CPS[causeway]:-}"
  else
    row "max sustainable cps" "${MAX_CPS[kamailio]:-}" "${MAX_CPS[causeway]:-}"
  fi
  row "CPU ms/call @ $RATE cps" "${MS_CALL[kamailio]:-}" "${MS_CALL[causeway]:-}"
  row "peak PSS KiB @ $RATE cps" "${PEAK_PSS[kamailio]:-}" "${PEAK_PSS[causeway]:-}"
  row "peak RSS-sum KiB @ $RATE cps" "${PEAK_RSS[kamailio]:-}" "${PEAK_RSS[causeway]:-}"
  row "idle PSS KiB" "${IDLE_PSS[kamailio]:-}" "${IDLE_PSS[causeway]:-}"
  row "idle RSS-sum KiB" "${IDLE_RSS[kamailio]:-}" "${IDLE_RSS[causeway]:-}"
  row "run @ $RATE verdict" "${RUN_VERDICT[kamailio]:-}" "${RUN_VERDICT[causeway]:-}"
  [ "$HMODE" = fork ] && row "legs never CANCELled @ $RATE" "${UNCANCELLED[kamailio]:-}" "${UNCANCELLED[causeway]:-}"
  echo "$ORDERFILE"
  echo "raw: $OUT"
} | tee "$OUT/summary.txt"
