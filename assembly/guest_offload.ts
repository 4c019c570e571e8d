// What offloads the guest driver asks for, per frame, in its virtio_net_hdr — the way a Linux
// guest with TSO and tx-checksumming on would have posted what the capture recorded:
//   - a TCP packet longer than the MTU is a large send: gso_type TCPV4/TCPV6 (+ECN when CWR is
//     set, as Linux's SKB_GSO_TCP_ECN), gso_size = P_mss or, by default, MTU − IP header −
//     TCP header of the packet itself (the kernel's mss_cache; a BIG TCP jumbo option does not
//     count: segments do not carry it), hdr_len = the headers, NEEDS_CSUM at the TCP checksum;
//   - with P_csumOffload, any other TCP or UDP packet gets NEEDS_CSUM, and the guest writes the
//     pseudo-header sum into the checksum field of its copy (CHECKSUM_PARTIAL), which is what the
//     device then completes. A UDP/IPv4 checksum of 0 ("none", RFC 768) stays 0: no request.
// Fragments, truncated frames and frames with non-zero bytes after the IP packet (padding the
// checksum must not cover) are posted as they are.

import * as D from "./descriptors";
import { countAdd, C_guestOffloadRequests } from "./counters";
import { machineAddress } from "./layout";
import { param, P_csumOffload, P_mss, P_mtu } from "./params";
import { parseHeaders, PARSE_OK, hdrIpVersion, hdrL2Len, hdrL4Offset, hdrL4Proto, hdrTotalLen } from "./wire/headers";
import { be16 } from "./wire/bytes";
import { fold, pseudoHeaderV4, pseudoHeaderV6 } from "./wire/checksum";
import { IPV4_TOTAL_LEN, ipv4IsFragment } from "./wire/ipv4";
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LEN, NH_HOP_BY_HOP, ipv6Fragmented } from "./wire/ipv6";
import { IPPROTO_TCP, TCP_CHECKSUM, TCP_CWR, TCP_FLAGS, TCP_RST, TCP_SYN, TCP_URG } from "./wire/tcp";
import { IPPROTO_UDP, UDP_CHECKSUM } from "./wire/udp";

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
  const unsegmentable = proto == IPPROTO_TCP && (<u32>load<u8>(frame + l4 + TCP_FLAGS) & (TCP_SYN | TCP_RST | TCP_URG)) != 0;
  if (proto == IPPROTO_TCP && len - l2 > mtu && !unsegmentable) {
    requestLargeSend(gd, frame, l2, l4, v4, mtu);
    return;
  }
  if (!csum) return;
  if (proto == IPPROTO_UDP && v4 && load<u16>(frame + l4 + UDP_CHECKSUM) == 0) return;
  const ipEnd = ipPacketEnd(frame, len, l2, v4);
  if (ipEnd == 0) return;
  const field = proto == IPPROTO_TCP ? TCP_CHECKSUM : UDP_CHECKSUM;
  const l4Len = ipEnd - l4;
  const ip = frame + l2;
  const seed = fold(v4 ? pseudoHeaderV4(ip, proto, l4Len) : pseudoHeaderV6(ip, proto, l4Len));
  // The field is written in the guest's copy (guest RAM), byte by byte: it may straddle a page.
  store<u8>(machineAddress(gpa + l4 + field), <u8>seed);
  store<u8>(machineAddress(gpa + l4 + field + 1), <u8>(seed >> 8));
  store<u8>(gd + D.GD_FLAGS, <u8>D.VIRTIO_NET_HDR_F_NEEDS_CSUM);
  store<u16>(gd + D.GD_CSUM_START, <u16>l4);
  store<u16>(gd + D.GD_CSUM_OFFSET, <u16>field);
  countAdd(C_guestOffloadRequests, 1);
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
  store<u8>(gd + D.GD_FLAGS, <u8>D.VIRTIO_NET_HDR_F_NEEDS_CSUM);
  store<u8>(gd + D.GD_GSO_TYPE, <u8>type);
  store<u16>(gd + D.GD_HDR_LEN, <u16>hdrTotalLen);
  store<u16>(gd + D.GD_GSO_SIZE, <u16>(mss > 0xffff ? 0xffff : mss));
  store<u16>(gd + D.GD_CSUM_START, <u16>l4);
  store<u16>(gd + D.GD_CSUM_OFFSET, <u16>TCP_CHECKSUM);
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
