#!/usr/bin/env python3
# Sends UDP GSO super-datagrams (Linux UDP_SEGMENT, udp(7)) for the kernel oracle recording
# (scripts/record-gso-oracle.sh). Usage: uso-send.py DST_ADDR PORT GSO_SIZE LEN [LEN...]
# A LEN no larger than GSO_SIZE goes out as one plain datagram (the kernel does not segment
# it): that is how a flow shows its gso_size before its super-datagrams. Unconnected sendto,
# so ICMP port unreachable from the receiver never fails a send.
import socket, sys, time

SOL_UDP, UDP_SEGMENT = 17, 103  # include/uapi/linux/udp.h
dst, port, gso = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
family = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.setsockopt(SOL_UDP, UDP_SEGMENT, gso)
for i, n in enumerate(int(a) for a in sys.argv[4:]):
    payload = bytes((i * 7 + j * 13) & 0xFF for j in range(n))
    s.sendto(payload, (dst, port))
    time.sleep(0.05)  # one super-datagram at a time on the wire
