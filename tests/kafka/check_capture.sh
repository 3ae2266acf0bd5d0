#!/usr/bin/env bash
# check_capture.sh KWIRE_DUMP DIR FRAMES: kwire-dump reads DIR/session.pcap (a
# relay.py capture) frame by frame, with every frame decoding and
# re-encoding to its bytes, and finds the FRAMES frames the capture holds.
set -euo pipefail
dump=$1 dir=$2 want=$3
[ -f "$dir/session.pcap" ] || { echo "no capture at $dir (skipped)"; exit 77; }
# The relay's listening port is the server side of every connection.
port=$(awk -F'\t' 'NR == 2 { n = split($13, a, ":"); print a[n] }' "$dir/index.tsv")
out=$("$dump" --roundtrip -s -p "$port" "$dir/session.pcap" 2>&1) || { echo "$out"; exit 1; }
echo "$out" | tail -n 3
frames=$(echo "$out" | sed -n 's/^frames \([0-9]*\), .*decode errors \([0-9]*\), undecoded frames \([0-9]*\).*/\1 \2 \3/p')
read -r n errors undecoded <<< "$frames"
[ "$errors" = 0 ] && [ "$undecoded" = 0 ] || { echo "decode errors $errors, undecoded $undecoded"; exit 1; }
[ "$n" = "$want" ] || { echo "kwire-dump found $n frames, the capture has $want"; exit 1; }
echo "kafka-capture-dump: $n frames, all decoded"
