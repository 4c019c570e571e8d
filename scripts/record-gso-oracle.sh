#!/usr/bin/env bash
# Records Linux-kernel GSO oracle pairs (docs/design.md §7) into captures/linux-gso/.
#
#   sudo scripts/record-gso-oracle.sh [OUTDIR] [WHAT]  (default: captures/linux-gso all)
#
# WHAT: tcp (the TCP pairs), uso (UDP_SEGMENT super-datagrams, scripts/uso-send.py), vxlan (TCP
# inside VXLAN), or all. GSO_NS_PREFIX names the namespaces (default vnicgso).
#
# Three network namespaces A — R — B joined by veth pairs, R bridging them:
#
#   A: a0 (10.77.0.1, fd77::1) ══ ra ┐
#                                    br0 (namespace R)
#   B: b0 (10.77.0.2, fd77::2) ══ rb ┘   rb: tso off, tx off → the kernel segments and
#                                            checksums in software (skb_gso_segment,
#                                            skb_checksum_help) before the frame leaves rb
#
# tcpdump -Q in on ra sees the super-packets A's stack posted (veth keeps GSO packets whole);
# tcpdump -Q out on rb sees what the kernel put on the wire at MTU 1500. iperf3 sends A → B.
# For each pair NAME: NAME.in.pcap and NAME.out.pcap. Traffic stays inside these namespaces;
# nothing is sent to any other address. Namespaces are removed on exit, whatever happens.
#
# Needs root and: iproute2, ethtool, tcpdump, iperf3, python3 (for one netlink attribute that
# iproute2 < 6.3 cannot set: IFLA_GSO_IPV4_MAX_SIZE, for IPv4 BIG TCP).
set -euo pipefail

OUT=${1:-captures/linux-gso}
WHAT=${2:-all}
NS=${GSO_NS_PREFIX:-vnicgso}
A=$NS-a R=$NS-r B=$NS-b
HERE=$(cd "$(dirname "$0")" && pwd)
BIG=185000              # BIG TCP super-packet limit (gso_max_size), as in docs/design.md §7
PKTS=4000               # tcpdump -c per side: a ceiling, the byte limits below end runs first
mkdir -p "$OUT"
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in $A $R $B; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

inA() { ip netns exec $A "$@"; }
inR() { ip netns exec $R "$@"; }
inB() { ip netns exec $B "$@"; }

setup() {
  cleanup
  ip netns add $A; ip netns add $R; ip netns add $B
  ip link add a0 netns $A type veth peer name ra netns $R
  ip link add b0 netns $B type veth peer name rb netns $R
  inR ip link add br0 type bridge stp_state 0 forward_delay 0
  inR ip link set ra master br0
  inR ip link set rb master br0
  for d in ra rb br0 lo; do inR ip link set $d up; done
  inA ip addr add 10.77.0.1/24 dev a0; inA ip -6 addr add fd77::1/64 dev a0 nodad
  inB ip addr add 10.77.0.2/24 dev b0; inB ip -6 addr add fd77::2/64 dev b0 nodad
  inA ip link set a0 up; inA ip link set lo up
  inB ip link set b0 up; inB ip link set lo up
  inR ethtool -K rb tso off tx off >/dev/null
  # UDP GSO and tunnel GSO in software too (skb_udp_tunnel_segment, __udp_gso_segment).
  inR ethtool -K rb tx-udp-segmentation off tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off \
    tx-gso-partial off >/dev/null 2>&1 || true
  sleep 1                         # links up, bridge ports forwarding (no STP), no DAD (nodad)
}

# Sets IFLA_GSO_IPV4_MAX_SIZE (attribute 63, Linux 6.3+) on a device of namespace A by raw
# rtnetlink, since Debian 12's iproute2 6.1 does not know `gso_ipv4_max_size`.
set_gso_ipv4_max_size() {
  inA python3 - "$1" "$2" <<'PY'
import socket, struct, sys
dev, size = sys.argv[1], int(sys.argv[2])
RTM_NEWLINK, NLM_F_REQUEST, NLM_F_ACK, IFLA_GSO_IPV4_MAX_SIZE = 16, 1, 4, 63
index = socket.if_nametoindex(dev)
body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, 0, 0) + struct.pack("=HHI", 8, IFLA_GSO_IPV4_MAX_SIZE, size)
msg = struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.send(msg)
reply = s.recv(4096)
err = struct.unpack("=i", reply[16:20])[0]
if err != 0:
    sys.exit(f"IFLA_GSO_IPV4_MAX_SIZE: {-err} ({__import__('os').strerror(-err)})")
PY
}

# record NAME SERVER_ADDR IPERF_ARGS...
record() {
  local name=$1 server=$2; shift 2
  echo "== $name: iperf3 -c $server $*"
  # `ip netns exec` execs its command, so $! is the tool's own pid (a backgrounded shell
  # function would be a subshell that ignores signals).
  ip netns exec $B iperf3 -s -1 -B "$server" >/dev/null 2>&1 & PIDS+=($!)
  ip netns exec $R tcpdump -B 32768 -i ra -Q in -s 0 -c $PKTS -w "$OUT/$name.in.pcap" 2>"/tmp/$name.in.log" & local tin=$!
  ip netns exec $R tcpdump -B 32768 -i rb -Q out -s 0 -c $PKTS -w "$OUT/$name.out.pcap" 2>"/tmp/$name.out.log" & local tout=$!
  PIDS+=($tin $tout)
  for _ in $(seq 50); do grep -q listening "/tmp/$name.in.log" && grep -q listening "/tmp/$name.out.log" && break; sleep 0.1; done
  sleep 0.3                       # the server is listening
  inA iperf3 -c "$server" "$@" >"/tmp/$name.iperf.log" || { cat "/tmp/$name.iperf.log"; return 1; }
  sleep 2.5                       # > tcpdump's 1 s buffer timeout: the last blocks reach the files
  kill -TERM $tin $tout 2>/dev/null || true
  wait $tin $tout 2>/dev/null || true
  tail -n 2 "/tmp/$name.in.log" "/tmp/$name.out.log" | grep packets || true
}

# capture_start NAME / capture_stop: tcpdump on ra (in) and rb (out), as record() does.
capture_start() {
  CAP=$1
  ip netns exec $R tcpdump -B 32768 -i ra -Q in -s 0 -c $PKTS -w "$OUT/$CAP.in.pcap" 2>"/tmp/$CAP.in.log" & TIN=$!
  ip netns exec $R tcpdump -B 32768 -i rb -Q out -s 0 -c $PKTS -w "$OUT/$CAP.out.pcap" 2>"/tmp/$CAP.out.log" & TOUT=$!
  PIDS+=($TIN $TOUT)
  for _ in $(seq 50); do grep -q listening "/tmp/$CAP.in.log" && grep -q listening "/tmp/$CAP.out.log" && break; sleep 0.1; done
}
capture_stop() {
  sleep 2.5
  kill -TERM $TIN $TOUT 2>/dev/null || true
  wait $TIN $TOUT 2>/dev/null || true
  tail -n 2 "/tmp/$CAP.in.log" "/tmp/$CAP.out.log" | grep packets || true
}

# record_uso NAME DST GSO_SIZE LEN...: UDP_SEGMENT super-datagrams from A to B port 9000.
record_uso() {
  local name=$1; shift
  echo "== $name: uso-send.py $*"
  capture_start "$name"
  inA python3 "$HERE/uso-send.py" "$1" 9000 "${@:2}"
  capture_stop
}

# vxlan_setup CSUM: a VXLAN device (VNI 42, UDP 4789) over a0 / b0, inner 10.78.0.x and fd78::x;
# CSUM udpcsum|noudpcsum sets the outer UDP checksum (IPv4 outer; IPv6 outer always has one).
vxlan_setup() {
  local csum=$1 outer=${2:-4}
  local ra=10.77.0.1 rb=10.77.0.2
  [ "$outer" = 6 ] && ra=fd77::1 rb=fd77::2
  local six=""; [ "$outer" = 6 ] && six="udp6zerocsumtx udp6zerocsumrx"; [ "$outer" = 6 ] && [ "$csum" = udpcsum ] && six=""
  inA ip link add vx0 type vxlan id 42 local $ra remote $rb dstport 4789 dev a0 $csum $six
  inB ip link add vx0 type vxlan id 42 local $rb remote $ra dstport 4789 dev b0 $csum $six
  inA ip addr add 10.78.0.1/24 dev vx0; inA ip -6 addr add fd78::1/64 dev vx0 nodad
  inB ip addr add 10.78.0.2/24 dev vx0; inB ip -6 addr add fd78::2/64 dev vx0 nodad
  inA ip link set vx0 up; inB ip link set vx0 up
  sleep 1
}

echo "kernel: $(uname -srvm)"
echo "iproute2: $(ip -V)"
echo "tcpdump: $(tcpdump --version 2>&1 | head -1), iperf3: $(iperf3 --version | head -1)"

if [ "$WHAT" = all ] || [ "$WHAT" = uso ]; then
  setup
  # gso_size from the MTU (1500 − 20 − 8, 1500 − 40 − 8), no plain datagram first.
  record_uso uso-v4-mtu 10.77.0.2 1472 4000 14720 65000
  record_uso uso-v6-mtu fd77::2 1452 4000 14520 65000
  # gso_size 1200 (QUIC's), shown by a plain full-sized datagram first; a short plain one too.
  record_uso uso-v4-1200 10.77.0.2 1200 1200 300 6000 61000 65507
  record_uso uso-v6-1200 fd77::2 1200 1200 300 6000 61001
fi

if [ "$WHAT" = all ] || [ "$WHAT" = vxlan ]; then
  setup; vxlan_setup udpcsum
  record vxlan-v4-csum 10.78.0.2 -n 200K -l 64K
  setup; vxlan_setup noudpcsum
  record vxlan-v4-nocsum 10.78.0.2 -n 200K -l 64K
  setup; vxlan_setup noudpcsum 6
  record vxlan-v6-v6inner fd78::2 -6 -n 200K -l 64K
  setup; vxlan_setup udpcsum 6
  record vxlan-v6-csum 10.78.0.2 -n 200K -l 64K
fi

[ "$WHAT" = all ] || [ "$WHAT" = tcp ] || { ls -l "$OUT"/*.pcap; exit 0; }

setup
record v6-64k fd77::2 -6 -n 1M
record v4-small-writes 10.77.0.2 -n 1M -l 3000

setup
inA ip link set a0 gso_max_size $BIG
echo "a0: $(inA ip -d link show a0 | grep -o 'gso_max_size [0-9]*')"
record v6-bigtcp fd77::2 -6 -n 1M -l 1M

setup
if set_gso_ipv4_max_size a0 $BIG; then
  inA ip link set a0 gso_max_size $BIG
  record v4-bigtcp 10.77.0.2 -n 1M -l 1M
else
  echo "v4-bigtcp: not recorded (the kernel refused gso_ipv4_max_size)"
fi

ls -l "$OUT"/*.pcap
