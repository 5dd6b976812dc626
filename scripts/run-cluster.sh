#!/bin/sh
# `make run-cluster`: three `bourse cluster` nodes on loopback, each with its
# own data directory (BUILD/cluster/nN) and Raft port (free ports from the
# kernel, written to BUILD/cluster/cluster.ini on the first run and kept).
# Ctrl-C stops all three.  docs/replication.md says what to try.
B=${1:-build/bourse}
D=${2:-build/cluster}
mkdir -p "$D"
chmod 700 "$D"
if [ ! -f "$D/cluster.ini" ]; then
    set -- $("$B" cluster --free-ports 3) || exit 1
    cat >"$D/cluster.ini" <<INI
[cluster]
nodes = 1=127.0.0.1:$1, 2=127.0.0.1:$2, 3=127.0.0.1:$3
election_ms = 300
heartbeat_ms = 50
[journal]
segment_mb = 16
INI
fi
pids=""
trap 'kill $pids 2>/dev/null; wait; exit 0' INT TERM
for n in 1 2 3; do
    mkdir -p "$D/n$n"
    chmod 700 "$D/n$n"
    "$B" cluster --config "$D/cluster.ini" --node $n --data "$D/n$n" &
    pids="$pids $!"
done
sleep 1
echo "Three nodes are running ($D/cluster.ini; Ctrl-C stops them).  In another terminal:"
echo "  for n in 1 2 3; do $B admin --data $D/n\$n cluster; done    # who leads, lag"
echo "  $B admin --data $D/nL symbol ACME                        # L = the leader"
echo "  kill -9 <the leader's pid>; then ask again: another node leads within about a second"
echo "  $B admin --data $D/nL cluster transfer                      # hand leadership over"
wait
