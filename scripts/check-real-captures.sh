#!/usr/bin/env bash
# Replays every capture in ../shared/captures/real/ (or $1) through `vnic replay --out` and asks
# tshark, with IP/TCP/UDP checksum validation on, how many frames carry a bad checksum or are
# malformed — in the input and in the output. A capture passes when the output has no more
# such frames than the input, or when vnic refused it in one line (exit 2, one stderr line).
#
# Usage: scripts/check-real-captures.sh [DIR]   (prints one line per capture, then the counts)
# Exit 1 when any capture made NEW bad frames, crashed, or was refused in more than one line.
set -uo pipefail
cd "$(dirname "$0")/.."
dir="${1:-../shared/captures/real}"
if [ ! -d "$dir" ]; then echo "check-real-captures: $dir absent, nothing to check"; exit 0; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A frame counts as bad when tshark flags a checksum as bad or the frame as malformed.
bad_filter='_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0 || icmpv6.checksum.status == 0'
tshark_opts=(-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE)
count_bad() { tshark -n -r "$1" "${tshark_opts[@]}" -Y "$bad_filter" 2>/dev/null | wc -l; }

ok=0; refused=0; oversize=0; failed=0
declare -a refused_lines oversize_lines failed_lines
for f in "$dir"/*; do
  case "$f" in *.md) continue ;; esac
  name="$(basename "$f")"
  out="$tmp/out.pcap"; rm -f "$out"
  node bin/vnic.js replay "$f" --out "$out" --json >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  if [ $rc -eq 2 ]; then
    lines=$(grep -c . "$tmp/stderr")
    if [ "$lines" -eq 1 ] && ! grep -q "internal error" "$tmp/stderr"; then
      refused=$((refused + 1)); refused_lines+=("$name: $(cat "$tmp/stderr")")
    else
      failed=$((failed + 1)); failed_lines+=("$name: refused in $lines lines: $(head -c 300 "$tmp/stderr")")
    fi
    continue
  fi
  if [ $rc -ne 0 ] || [ ! -s "$out" ]; then
    failed=$((failed + 1)); failed_lines+=("$name: exit $rc: $(head -c 300 "$tmp/stderr")"); continue
  fi
  in_bad=$(count_bad "$f"); out_bad=$(count_bad "$out")
  dropped=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const d=r.dropped||{};console.log(Object.entries(d).filter(([k,v])=>k!=="total"&&v>0).map(([k,v])=>k+"="+v).join(",")||"")' "$tmp/stdout" 2>/dev/null)
  if [ "$out_bad" -gt "$in_bad" ]; then
    failed=$((failed + 1)); failed_lines+=("$name: $out_bad bad/malformed frames out vs $in_bad in")
  elif [[ "$dropped" == *oversize* ]]; then
    oversize=$((oversize + 1)); oversize_lines+=("$name: bad $in_bad in, $out_bad out; dropped $dropped")
  else
    ok=$((ok + 1)); echo "ok       $name: bad $in_bad in, $out_bad out${dropped:+; dropped $dropped}"
  fi
done
for l in "${refused_lines[@]}"; do echo "refused  $l"; done
for l in "${oversize_lines[@]}"; do echo "oversize $l"; done
for l in "${failed_lines[@]}"; do echo "FAILED   $l"; done
echo "replayed clean: $ok; replayed with oversize drops: $oversize; refused in one line: $refused; failed: $failed"
[ $failed -eq 0 ]
