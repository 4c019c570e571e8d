// What offloads the guest driver asks for, per frame, in its virtio_net_hdr — the way a Linux
// guest with TSO and tx-checksumming on would have posted what the capture recorded:
//   - a TCP packet longer than the MTU is a large send: gso_type TCPV4/TCPV6 (+ECN when CWR is
//     set, as Linux's SKB_GSO_TCP_ECN), gso_size = P_mss or, by default, MTU − IP header −
//     TCP header of the packet itself (the kernel's mss_cache; a BIG TCP jumbo option does not
//     count: segments do not carry it), hdr_len = the headers, NEEDS_CSUM at the TCP checksum;
//   - a UDP datagram longer than the MTU is a UDP_SEGMENT send: gso_type UDP_L4 (virtio 1.2
//     §5.1.6.2), gso_size = P_mss, else the flow's largest datagram payload seen that fit the MTU
//     (udp-flows.ts: a UDP_SEGMENT socket's full-sized plain datagrams are gso_size), else MTU −
//     IP header − 8; NEEDS_CSUM at the UDP checksum (the kernel's UDP GSO needs CHECKSUM_PARTIAL);
//   - a VXLAN/Geneve frame (wire/tunnel.ts) over the MTU whose inner packet is TCP is a tunnel
//     large send: inner TCPV4/TCPV6 | GSO_UDP_TUNNEL_IPV4/IPV6 (the outer IP version), the
//     UDP_TUNNEL_CSUM flag when the outer UDP checksum is set (Linux SKB_GSO_UDP_TUNNEL_CSUM),
//     gso_size from the inner MTU (MTU − every header from the outer IP on), csum at the inner
//     TCP checksum; a smaller tunnelled TCP/UDP frame gets NEEDS_CSUM on its inner L4 (the
//     outer UDP checksum, if any, is left as the sender's local checksum offload made it);
//   - with P_csumOffload, any other TCP or UDP packet gets NEEDS_CSUM, and the guest writes the
//     pseudo-header sum into the checksum field of its copy (CHECKSUM_PARTIAL), which is what the
//     device then completes. A UDP/IPv4 checksum of 0 ("none", RFC 768) stays 0: no request;
//     so does a UDP/IPv6 one — the zero checksum tunnels over IPv6 may send (RFC 6935/6936,
//     Linux udp6zerocsumtx; a partial seed is 0 only once in 65536).
// Fragments, truncated frames and frames with non-zero bytes after the IP packet (padding the
// checksum must not cover) are posted as they are.

import * as D from "../shared/descriptors";
import { countAdd, C_guestOffloadRequests } from "../shared/counters";
import { machineAddress } from "../shared/layout";
import { param, P_csumOffload, P_mss, P_mtu } from "../shared/params";
import { parseHeaders, PARSE_OK, hdrIpVersion, hdrL2Len, hdrL4Offset, hdrL4Proto, hdrTotalLen } from "../packet/headers";
import { be16 } from "../packet/bytes";
import { fold, pseudoHeaderV4, pseudoHeaderV6 } from "../packet/checksum";
import { IPV4_TOTAL_LEN, ipv4IsFragment } from "../packet/ipv4";
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LEN, NH_HOP_BY_HOP, ipv6Fragmented } from "../packet/ipv6";
import { IPPROTO_TCP, TCP_CHECKSUM, TCP_CWR, TCP_FLAGS, TCP_RST, TCP_SYN, TCP_URG } from "../packet/tcp";
import { IPPROTO_UDP, UDP_CHECKSUM, UDP_HEADER_LEN } from "../packet/udp";
import { udpFlowGsoSize, udpFlowNote } from "./udp-flows";
import { parseUdpTunnel, tunInnerL3, tunInnerL4, tunInnerProto, tunInnerVersion, tunOuterVersion, tunTotalLen } from "../packet/tunnel";

const PARSE_WINDOW: u32 = 256;

/** Fills the offload fields of guest descriptor `gd` for the frame at `frame` (the guest's own
 *  source copy, `len` bytes), already copied to guest-physical `gpa`. */
export function requestOffloads(gd: u32, frame: u32, len: u32, gpa: u32): void {
  clearOffloadHeader(gd);
  const mtu = param(P_mtu);
  const csum = param(P_csumOffload) != 0;
  if (!csum && len <= mtu + 14) return; // nothing to ask for: not even possibly a large send
  if (parseHeaders(frame, len < PARSE_WINDOW ? len : PARSE_WINDOW) != PARSE_OK) return;
  const l2 = hdrL2Len;
  const l4 = hdrL4Offset;
  const proto = hdrL4Proto;
  if (l4 == 0 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP)) return;
  const v4 = hdrIpVersion == 4;
  if (v4 ? ipv4IsFragment(frame + l2) : ipv6Fragmented) return;
  // A SYN, RST or URG segment is never a large send (Linux builds none: tcp_gso_segment
  // refuses them); one longer than the MTU is posted as it is and the NIC drops it as oversize.
  // (Tested last: only a TCP packet over the MTU reads its flags.)
  if (proto == IPPROTO_TCP && len - l2 > mtu && (<u32>load<u8>(frame + l4 + TCP_FLAGS) & (TCP_SYN | TCP_RST | TCP_URG)) == 0) {
    requestLargeSend(gd, frame, l2, l4, v4, mtu);
    return;
  }
  // parseHeaders found this UDP header (l4 != 0): the port test is all a plain datagram pays.
  if (proto == IPPROTO_UDP && parseUdpTunnel(frame, len < PARSE_WINDOW ? len : PARSE_WINDOW)) {
    requestForTunnel(gd, frame, len, gpa, l2, l4, mtu, csum);
    return;
  }
  if (proto == IPPROTO_UDP) {
    if (len - l2 > mtu) {
      requestUdpSegmentation(gd, frame, l2, l4, v4, mtu);
      return;
    }
    udpFlowNote(frame + l2, v4, frame + l4, len - l4 - UDP_HEADER_LEN);
  }
  if (!csum) return;
  if (proto == IPPROTO_UDP && load<u16>(frame + l4 + UDP_CHECKSUM) == 0) return;
  const ipEnd = ipPacketEnd(frame, len, l2, v4);
  if (ipEnd == 0) return;
  const field = proto == IPPROTO_TCP ? TCP_CHECKSUM : UDP_CHECKSUM;
  const l4Len = ipEnd - l4;
  const ip = frame + l2;
  const seed = fold(v4 ? pseudoHeaderV4(ip, proto, l4Len) : pseudoHeaderV6(ip, proto, l4Len));
  writeSeed(gd, gpa, l4, field, seed);
}

function requestLargeSend(gd: u32, frame: u32, l2: u32, l4: u32, v4: bool, mtu: u32): void {
  const tcpLen = hdrTotalLen - l4;
  let ipLen = l4 - l2;
  if (!v4 && <u32>load<u8>(frame + l2 + IPV6_NEXT_HEADER) == NH_HOP_BY_HOP &&
      load<u8>(frame + l2 + IPV6_HEADER_LEN + 2) == 0xc2) ipLen -= 8; // BIG TCP's jumbo option
  let mss = param(P_mss);
  if (mss == 0) mss = mtu > ipLen + tcpLen ? mtu - ipLen - tcpLen : 0;
  let type = v4 ? D.VIRTIO_NET_HDR_GSO_TCPV4 : D.VIRTIO_NET_HDR_GSO_TCPV6;
  if ((load<u8>(frame + l4 + TCP_FLAGS) & TCP_CWR) != 0) type |= D.VIRTIO_NET_HDR_GSO_ECN;
  writeLargeSend(gd, D.VIRTIO_NET_HDR_F_NEEDS_CSUM, type, hdrTotalLen, mss, l4, TCP_CHECKSUM);
}

function requestUdpSegmentation(gd: u32, frame: u32, l2: u32, l4: u32, v4: bool, mtu: u32): void {
  const ipLen = l4 - l2;
  let size = param(P_mss);
  if (size == 0) size = udpFlowGsoSize(frame + l2, v4, frame + l4);
  const fromMtu = mtu > ipLen + UDP_HEADER_LEN ? mtu - ipLen - UDP_HEADER_LEN : 0;
  if (size == 0 || size > fromMtu) size = fromMtu; // a remembered size never exceeds the MTU's
  writeLargeSend(gd, D.VIRTIO_NET_HDR_F_NEEDS_CSUM, D.VIRTIO_NET_HDR_GSO_UDP_L4, hdrTotalLen, size, l4, UDP_CHECKSUM);
}

/** The virtio_net_hdr of a large send (virtio 1.2 §5.1.6.2): gso_size saturates at the u16. */
function writeLargeSend(gd: u32, flags: u32, type: u32, hdrLen: u32, gsoSize: u32, csumStart: u32, csumOffset: u32): void {
  store<u8>(gd + D.GD_FLAGS, <u8>flags);
  store<u8>(gd + D.GD_GSO_TYPE, <u8>type);
  store<u16>(gd + D.GD_HDR_LEN, <u16>hdrLen);
  store<u16>(gd + D.GD_GSO_SIZE, <u16>(gsoSize > 0xffff ? 0xffff : gsoSize));
  store<u16>(gd + D.GD_CSUM_START, <u16>csumStart);
  store<u16>(gd + D.GD_CSUM_OFFSET, <u16>csumOffset);
  countAdd(C_guestOffloadRequests, 1);
}

/** A VXLAN/Geneve frame (parseTunnel's results are current): a large send when its inner TCP
 *  packet is over the MTU, else a checksum request on its inner L4. */
function requestForTunnel(gd: u32, frame: u32, len: u32, gpa: u32, l2: u32, l4: u32, mtu: u32, csum: bool): void {
  const innerV4 = tunInnerVersion == 4;
  if (innerV4 ? ipv4IsFragment(frame + tunInnerL3) : ipv6Fragmented) return;
  const outerCsum = load<u16>(frame + l4 + UDP_CHECKSUM) != 0;
  if (len - l2 > mtu) {
    if (tunInnerProto != IPPROTO_TCP) return;
    let mss = param(P_mss);
    if (mss == 0) mss = mtu > tunTotalLen - l2 ? mtu - (tunTotalLen - l2) : 0;
    let type = (innerV4 ? D.VIRTIO_NET_HDR_GSO_TCPV4 : D.VIRTIO_NET_HDR_GSO_TCPV6) |
      (tunOuterVersion == 4 ? D.VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 : D.VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6);
    if ((load<u8>(frame + tunInnerL4 + TCP_FLAGS) & TCP_CWR) != 0) type |= D.VIRTIO_NET_HDR_GSO_ECN;
    writeLargeSend(gd, D.VIRTIO_NET_HDR_F_NEEDS_CSUM | (outerCsum ? D.VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM : 0), type, tunTotalLen, mss, tunInnerL4, TCP_CHECKSUM);
    return;
  }
  if (!csum || (tunInnerProto != IPPROTO_TCP && tunInnerProto != IPPROTO_UDP)) return;
  const innerIp = frame + tunInnerL3;
  if (tunInnerProto == IPPROTO_UDP && innerV4 && load<u16>(frame + tunInnerL4 + UDP_CHECKSUM) == 0) return;
  const ipEnd = ipPacketEnd(frame, len, l2, tunOuterVersion == 4);
  if (ipEnd == 0) return;
  const field = tunInnerProto == IPPROTO_TCP ? TCP_CHECKSUM : UDP_CHECKSUM;
  const l4Len = ipEnd - tunInnerL4;
  const seed = fold(innerV4 ? pseudoHeaderV4(innerIp, tunInnerProto, l4Len) : pseudoHeaderV6(innerIp, tunInnerProto, l4Len));
  writeSeed(gd, gpa, tunInnerL4, field, seed);
}

/** Writes the pseudo-header seed into the guest's copy and asks NEEDS_CSUM at that field. */
function writeSeed(gd: u32, gpa: u32, l4: u32, field: u32, seed: u32): void {
  // The field is written in the guest's copy (guest RAM), byte by byte: it may straddle a page.
  store<u8>(machineAddress(gpa + l4 + field), <u8>seed);
  store<u8>(machineAddress(gpa + l4 + field + 1), <u8>(seed >> 8));
  store<u8>(gd + D.GD_FLAGS, <u8>D.VIRTIO_NET_HDR_F_NEEDS_CSUM);
  store<u16>(gd + D.GD_CSUM_START, <u16>l4);
  store<u16>(gd + D.GD_CSUM_OFFSET, <u16>field);
  countAdd(C_guestOffloadRequests, 1);
}

/** Where the IP packet ends in the frame (a length of 0 means BIG TCP: the frame's end), or 0
 *  when the frame is cut short or carries non-zero bytes after the packet. */
function ipPacketEnd(frame: u32, len: u32, l2: u32, v4: bool): u32 {
  const ip = frame + l2;
  const field = v4 ? be16(ip + IPV4_TOTAL_LEN) : be16(ip + IPV6_PAYLOAD_LEN);
  let end = field == 0 ? len : l2 + field + (v4 ? 0 : IPV6_HEADER_LEN);
  if (end > len) return 0;
  for (let i = end; i < len; i++) if (load<u8>(frame + i) != 0) return 0;
  return end;
}

export function clearOffloadHeader(gd: u32): void {
  store<u64>(gd + D.GD_FLAGS, 0); // flags, gso_type, hdr_len, gso_size, csum_start (12..19)
  store<u32>(gd + D.GD_CSUM_OFFSET, 0); // csum_offset and the reserved u16 (20..23)
}
