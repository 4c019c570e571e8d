// Checks a large-send request (virtio_net_hdr with a gso_type) against the headers the device
// parsed from its own copy. The guest's fields are hints the device verifies, never trusts:
// every refusal is a named drop reason, and the descriptor still completes.
//
// UDP segmentation (GSO_UDP_L4, virtio 1.2 §5.1.6.2; Linux SKB_GSO_UDP_L4, __udp_gso_segment)
// is checked by checkUdpLargeSend below: any IP version, csum at the UDP checksum field.
//
// UDP tunnels (GSO_UDP_TUNNEL_IPV4/IPV6 with an inner TCP type) are checked by
// checkTunnelLargeSend, after wire/tunnel.ts parsed the inner stack.
//
// What it does not accept: UDP fragmentation offload (GSO_UDP) is refused as lsoNotTcp; a
// tunnel flag on a frame that is no VXLAN/Geneve with inner TCP is refused as lsoUnparsed.

import * as D from "../shared/descriptors";
import { DROP_badCsumStart, DROP_badHdrLen, DROP_badMss, DROP_headersBeyondFrame, DROP_headersTooLong, DROP_lsoBadFlags, DROP_lsoFragment, DROP_lsoNotTcp, DROP_lsoTooManySegments, DROP_lsoTypeMismatch, DROP_lsoUnparsed, DROP_usoBadLength, STATUS_OK } from "../shared/completion-status";
import { POOL_DATA_SIZE } from "../shared/layout";
import { param, P_maxSegments } from "../shared/params";
import { hdrIpVersion, hdrL2Len, hdrL4Offset, hdrL4Proto, hdrTotalLen } from "../packet/headers";
import { ipv4IsFragment } from "../packet/ipv4";
import { ipv6Fragmented } from "../packet/ipv6";
import { IPPROTO_TCP, TCP_CHECKSUM, TCP_FLAGS, TCP_RST, TCP_SYN, TCP_URG } from "../packet/tcp";
import { IPPROTO_UDP, UDP_CHECKSUM } from "../packet/udp";
import { tunInnerL3, tunInnerL4, tunInnerProto, tunInnerVersion, tunOuterL3, tunOuterVersion, tunTotalLen } from "../packet/tunnel";

/** Is this gso_type a large send at all (anything but NONE, the ECN bit aside)? */
// @ts-ignore: decorator
@inline export function isLargeSend(gsoType: u32): bool {
  return (gsoType & ~D.VIRTIO_NET_HDR_GSO_ECN) != D.VIRTIO_NET_HDR_GSO_NONE;
}

/**
 * Validates a large send whose headers were parsed (parse status `parsed`) from the device's
 * copy at `hdr`. Call right after parseHeaders: it reads the hdr* results.
 */
export function checkLargeSend(hdr: u32, parsed: u32, frameLen: u32, gsoType: u32, gsoSize: u32,
  hdrLen: u32, csumStart: u32, csumOffset: u32): u32 {
  const kind = gsoType & ~D.VIRTIO_NET_HDR_GSO_ECN;
  if (kind == D.VIRTIO_NET_HDR_GSO_UDP_L4) return checkUdpLargeSend(hdr, parsed, frameLen, gsoSize, hdrLen, csumStart, csumOffset);
  if (kind != D.VIRTIO_NET_HDR_GSO_TCPV4 && kind != D.VIRTIO_NET_HDR_GSO_TCPV6) return DROP_lsoNotTcp;
  if (hdrLen > frameLen || csumStart + csumOffset + 2 > frameLen) return DROP_headersBeyondFrame;
  if (parsed != 0 || hdrL4Offset == 0 || hdrL4Proto != IPPROTO_TCP) return DROP_lsoUnparsed;
  if (hdrTotalLen > POOL_DATA_SIZE) return DROP_headersTooLong;
  if ((kind == D.VIRTIO_NET_HDR_GSO_TCPV4) != (hdrIpVersion == 4)) return DROP_lsoTypeMismatch;
  if (hdrIpVersion == 4 ? ipv4IsFragment(hdr + hdrL2Len) : ipv6Fragmented) return DROP_lsoFragment;
  if (hdrLen < hdrTotalLen) return DROP_badHdrLen;
  if (csumStart != hdrL4Offset || csumOffset != TCP_CHECKSUM) return DROP_badCsumStart;
  if ((<u32>load<u8>(hdr + hdrL4Offset + TCP_FLAGS) & (TCP_SYN | TCP_RST | TCP_URG)) != 0) return DROP_lsoBadFlags;
  if (gsoSize == 0) return DROP_badMss;
  // A large send no longer than one MSS — even with no payload at all — goes out as one frame,
  // as Linux sends such a gso packet as it is (tcp_gso_segment: skb->len <= mss).
  const payload = frameLen - hdrTotalLen;
  if ((payload + gsoSize - 1) / gsoSize > param(P_maxSegments)) return DROP_lsoTooManySegments;
  return STATUS_OK;
}

/** Is this gso_type UDP segmentation (GSO_UDP_L4)? Stages 1 and 2 pick the UDP fix-ups by it. */
// @ts-ignore: decorator
@inline export function isUdpLargeSend(gsoType: u32): bool {
  return (gsoType & ~D.VIRTIO_NET_HDR_GSO_ECN) == D.VIRTIO_NET_HDR_GSO_UDP_L4;
}

/** The GSO_UDP_L4 checks: a UDP header the device parsed, the checksum request at its field
 *  (the kernel's udp4/udp6 gso paths require CHECKSUM_PARTIAL), and a datagram whose length the
 *  16-bit UDP length field can hold (a segment never needs more; the original must be sane). */
function checkUdpLargeSend(hdr: u32, parsed: u32, frameLen: u32, gsoSize: u32, hdrLen: u32,
  csumStart: u32, csumOffset: u32): u32 {
  if (hdrLen > frameLen || csumStart + csumOffset + 2 > frameLen) return DROP_headersBeyondFrame;
  if (parsed != 0 || hdrL4Offset == 0 || hdrL4Proto != IPPROTO_UDP) return DROP_lsoUnparsed;
  if (hdrTotalLen > POOL_DATA_SIZE) return DROP_headersTooLong;
  if (hdrIpVersion == 4 ? ipv4IsFragment(hdr + hdrL2Len) : ipv6Fragmented) return DROP_lsoFragment;
  if (hdrLen < hdrTotalLen) return DROP_badHdrLen;
  if (csumStart != hdrL4Offset || csumOffset != UDP_CHECKSUM) return DROP_badCsumStart;
  if (gsoSize == 0) return DROP_badMss;
  if (frameLen - hdrL4Offset > 65535) return DROP_usoBadLength;
  const payload = frameLen - hdrTotalLen;
  if ((payload + gsoSize - 1) / gsoSize > param(P_maxSegments)) return DROP_lsoTooManySegments;
  return STATUS_OK;
}

/** Is this gso_type a UDP tunnel large send (VXLAN/Geneve: GSO_UDP_TUNNEL_IPV4/IPV6 bits)? */
// @ts-ignore: decorator
@inline export function isTunnelLargeSend(gsoType: u32): bool {
  return (gsoType & D.VIRTIO_NET_HDR_GSO_UDP_TUNNEL) != 0;
}

/**
 * The checks of a tunnelled TCP large send (as skb_udp_tunnel_segment takes it: the inner
 * packet is segmented exactly as plain TCP). Call right after parseTunnel returned `tunnel`:
 * it reads the tun* and hdr* results (hdr*: the inner stack).
 */
export function checkTunnelLargeSend(hdr: u32, tunnel: bool, frameLen: u32, gsoType: u32, gsoSize: u32,
  hdrLen: u32, csumStart: u32, csumOffset: u32): u32 {
  const inner = gsoType & ~(D.VIRTIO_NET_HDR_GSO_ECN | D.VIRTIO_NET_HDR_GSO_UDP_TUNNEL);
  const outer = gsoType & D.VIRTIO_NET_HDR_GSO_UDP_TUNNEL;
  if (inner != D.VIRTIO_NET_HDR_GSO_TCPV4 && inner != D.VIRTIO_NET_HDR_GSO_TCPV6) return DROP_lsoNotTcp;
  if (hdrLen > frameLen || csumStart + csumOffset + 2 > frameLen) return DROP_headersBeyondFrame;
  if (!tunnel || tunInnerProto != IPPROTO_TCP) return DROP_lsoUnparsed;
  if (tunTotalLen > POOL_DATA_SIZE) return DROP_headersTooLong;
  if ((inner == D.VIRTIO_NET_HDR_GSO_TCPV4) != (tunInnerVersion == 4)) return DROP_lsoTypeMismatch;
  if ((outer == D.VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4) != (tunOuterVersion == 4)) return DROP_lsoTypeMismatch;
  if (tunInnerVersion == 4 ? ipv4IsFragment(hdr + tunInnerL3) : ipv6Fragmented) return DROP_lsoFragment;
  if (tunOuterVersion == 4 && ipv4IsFragment(hdr + tunOuterL3)) return DROP_lsoFragment;
  if (hdrLen < tunTotalLen) return DROP_badHdrLen;
  if (csumStart != tunInnerL4 || csumOffset != TCP_CHECKSUM) return DROP_badCsumStart;
  if ((<u32>load<u8>(hdr + tunInnerL4 + TCP_FLAGS) & (TCP_SYN | TCP_RST | TCP_URG)) != 0) return DROP_lsoBadFlags;
  if (gsoSize == 0) return DROP_badMss;
  const payload = frameLen - tunTotalLen;
  if ((payload + gsoSize - 1) / gsoSize > param(P_maxSegments)) return DROP_lsoTooManySegments;
  return STATUS_OK;
}
