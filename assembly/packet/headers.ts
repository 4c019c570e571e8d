// The protocol header stack of one frame: Ethernet (+ tags), IPv4 (+ options) or IPv6 (+
// extension headers), then TCP (+ options) or UDP. One parse, bounds-checked against the bytes
// actually available; results land in per-instance globals read right after the call.
//
// What it does not do: tunnels (VXLAN, Geneve, GRE) are parsed as their outer UDP/IP stack
// only, and IP-in-IP stops at the outer IP header.

import { ethernetHeaderLen, ethertypeAt, ETH_HEADER_LEN, ETH_TYPE_OFFSET, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "./ethernet";
import { IPV4_MIN_LEN, IPV4_PROTO, ipv4HeaderLen, ipv4IsLaterFragment, ipv4Version } from "./ipv4";
import { walkIpv6, ipv6LaterFragment, ipv6UpperOffset, ipv6UpperProto } from "./ipv6";
import { IPPROTO_TCP, TCP_MIN_LEN, tcpHeaderLen } from "./tcp";
import { IPPROTO_UDP, UDP_HEADER_LEN } from "./udp";

export const PARSE_OK: u32 = 0;
export const PARSE_TRUNCATED: u32 = 1; // a header runs past the bytes available
export const PARSE_MALFORMED: u32 = 2; // a length field is impossible (IHL < 5, TCP offset < 5)

export let hdrL2Len: u32 = 0; // Ethernet + tags: where L3 starts (0 if not even that parsed)
export let hdrIpVersion: u32 = 0; // 4, 6, or 0 for a non-IP ethertype
export let hdrL4Offset: u32 = 0; // where the TCP/UDP header starts (0: no L4 header found)
export let hdrL4Proto: u32 = 0; // IP protocol number of the upper layer (0 if none)
export let hdrTotalLen: u32 = 0; // bytes of headers: through L4 if found, else through L3/L2

/**
 * Parses the headers of the frame whose first `avail` bytes are at `p`. Returns PARSE_OK and
 * sets the hdr* globals, or a PARSE_* error (the globals then describe what did parse).
 */
export function parseHeaders(p: u32, avail: u32): u32 {
  if (parseUntaggedIpv4(p, avail)) return PARSE_OK;
  hdrL2Len = 0;
  hdrIpVersion = 0;
  hdrL4Offset = 0;
  hdrL4Proto = 0;
  hdrTotalLen = 0;
  const l2 = ethernetHeaderLen(p, avail);
  if (l2 == 0) return PARSE_TRUNCATED;
  hdrL2Len = l2;
  hdrTotalLen = l2;
  const ethertype = ethertypeAt(p, l2);
  const ip = p + l2;
  const ipAvail = avail - l2;
  let l4: u32 = 0;
  if (ethertype == ETHERTYPE_IPV4) {
    if (ipAvail < IPV4_MIN_LEN) return PARSE_TRUNCATED;
    const ihl = ipv4HeaderLen(ip);
    if (ipv4Version(ip) != 4 || ihl < IPV4_MIN_LEN) return PARSE_MALFORMED;
    if (ihl > ipAvail) return PARSE_TRUNCATED;
    hdrIpVersion = 4;
    hdrL4Proto = load<u8>(ip + IPV4_PROTO);
    hdrTotalLen = l2 + ihl;
    if (ipv4IsLaterFragment(ip)) return PARSE_OK;
    l4 = l2 + ihl;
  } else if (ethertype == ETHERTYPE_IPV6) {
    if (ipAvail < 1 || (load<u8>(ip) >> 4) != 6) return ipAvail < 1 ? PARSE_TRUNCATED : PARSE_MALFORMED;
    if (!walkIpv6(ip, ipAvail)) return PARSE_TRUNCATED;
    hdrIpVersion = 6;
    hdrL4Proto = ipv6UpperProto;
    hdrTotalLen = l2 + ipv6UpperOffset;
    if (ipv6LaterFragment) return PARSE_OK;
    l4 = l2 + ipv6UpperOffset;
  } else {
    return PARSE_OK; // not IP: the Ethernet header is all there is to parse
  }
  if (hdrL4Proto == IPPROTO_TCP) {
    if (l4 + TCP_MIN_LEN > avail) return PARSE_TRUNCATED;
    const th = tcpHeaderLen(p + l4);
    if (th < TCP_MIN_LEN) return PARSE_MALFORMED;
    if (l4 + th > avail) return PARSE_TRUNCATED;
    hdrL4Offset = l4;
    hdrTotalLen = l4 + th;
  } else if (hdrL4Proto == IPPROTO_UDP) {
    if (l4 + UDP_HEADER_LEN > avail) return PARSE_TRUNCATED;
    hdrL4Offset = l4;
    hdrTotalLen = l4 + UDP_HEADER_LEN;
  }
  return PARSE_OK;
}

// The shape most frames have — untagged Ethernet, IPv4 without options, not a later fragment,
// UDP or TCP — checked with a few wide loads instead of the walk above. Returns true with the
// hdr* globals set exactly as parseHeaders would set them, or false (nothing set) for every
// other frame, including every one on which parseHeaders would return an error, so that the
// general walk decides those.
const ETHERTYPE_IPV4_VER4_IHL5: u32 = 0x450008; // bytes 12..14 as a little-endian load: 08 00 45
const UNTAGGED_IPV4_L4: u32 = ETH_HEADER_LEN + IPV4_MIN_LEN; // 34
// @ts-ignore: decorator
@inline function parseUntaggedIpv4(p: u32, avail: u32): bool {
  if (avail < UNTAGGED_IPV4_L4 + UDP_HEADER_LEN) return false;
  if ((load<u32>(p + ETH_TYPE_OFFSET) & 0xffffff) != ETHERTYPE_IPV4_VER4_IHL5) return false;
  if (ipv4IsLaterFragment(p + ETH_HEADER_LEN)) return false;
  const proto = <u32>load<u8>(p + ETH_HEADER_LEN + IPV4_PROTO);
  let total: u32;
  if (proto == IPPROTO_UDP) {
    total = UNTAGGED_IPV4_L4 + UDP_HEADER_LEN;
  } else if (proto == IPPROTO_TCP) {
    if (UNTAGGED_IPV4_L4 + TCP_MIN_LEN > avail) return false;
    const th = tcpHeaderLen(p + UNTAGGED_IPV4_L4);
    if (th < TCP_MIN_LEN || UNTAGGED_IPV4_L4 + th > avail) return false;
    total = UNTAGGED_IPV4_L4 + th;
  } else {
    return false;
  }
  hdrL2Len = ETH_HEADER_LEN;
  hdrIpVersion = 4;
  hdrL4Proto = proto;
  hdrL4Offset = UNTAGGED_IPV4_L4;
  hdrTotalLen = total;
  return true;
}
