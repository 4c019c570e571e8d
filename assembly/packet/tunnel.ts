// UDP tunnels: VXLAN (RFC 7348) and Geneve (RFC 8926) over an outer IPv4/IPv6 + UDP stack,
// carrying an inner Ethernet frame. parseTunnel runs after parseHeaders parsed the outer stack
// and parses the inner one; results land in per-instance globals (offsets from the frame).
//
// What it does not do: GRE, IP-in-IP, GUE and VXLAN-GPE (no inner Ethernet) are not tunnels
// here; a Geneve header with a protocol other than Transparent Ethernet Bridging is refused.

import { be16 } from "./bytes";
import { parseHeaders, PARSE_OK, hdrIpVersion, hdrL2Len, hdrL4Offset, hdrL4Proto, hdrTotalLen } from "./headers";
import { IPPROTO_UDP, UDP_DST_PORT, UDP_HEADER_LEN } from "./udp";
import { param, P_genevePort, P_vxlanPort } from "../shared/params";

export const VXLAN_HEADER_LEN: u32 = 8;
export const GENEVE_BASE_LEN: u32 = 8;
const ETH_P_TEB: u32 = 0x6558; // Transparent Ethernet Bridging: Geneve's inner Ethernet

export let tunOuterL3: u32 = 0;
export let tunOuterL4: u32 = 0;
export let tunOuterVersion: u32 = 0;
export let tunInnerL3: u32 = 0;
export let tunInnerL4: u32 = 0;
export let tunInnerVersion: u32 = 0;
export let tunInnerProto: u32 = 0;
export let tunTotalLen: u32 = 0; // bytes of headers through the inner L4 header

export function vxlanPort(): u32 {
  const p = param(P_vxlanPort);
  return p != 0 ? p : 4789;
}

export function genevePort(): u32 {
  const p = param(P_genevePort);
  return p != 0 ? p : 6081;
}

/** Where the inner Ethernet frame starts after the outer UDP header at `udp` (offset `l4` of
 *  the frame at `p`, `avail` bytes), or 0 when this is no tunnel vnic knows. */
export function tunnelInnerOffset(p: u32, l4: u32, avail: u32): u32 {
  const port = <u32>be16(p + l4 + UDP_DST_PORT);
  const base = l4 + UDP_HEADER_LEN;
  if (port == vxlanPort()) return base + VXLAN_HEADER_LEN;
  if (port != genevePort() || base + GENEVE_BASE_LEN > avail) return 0;
  const first = <u32>load<u8>(p + base);
  if ((first >> 6) != 0 || <u32>be16(p + base + 2) != ETH_P_TEB) return 0; // version 0, inner Ethernet
  return base + GENEVE_BASE_LEN + (first & 0x3f) * 4; // Opt Len counts 4-byte words
}

/**
 * Parses a tunnel's inner headers, after parseHeaders returned PARSE_OK for the outer stack of
 * the frame at `p` (`avail` bytes). True with the tun* globals set when the outer L4 is UDP to
 * a tunnel port and the inner Ethernet/IP/L4 stack parses whole; the hdr* globals then describe
 * the inner stack (relative to the inner frame). False leaves them describing the outer stack.
 *
 * Inline: every UDP frame the guest posts asks this, and almost none is a tunnel; the port test
 * here costs a plain datagram ~15 WebAssembly instructions instead of a call into the parser
 * (~65, measured with the metered build, README "The gate on any machine").
 */
// @ts-ignore: decorator
@inline export function parseTunnel(p: u32, avail: u32): bool {
  if (hdrL4Offset == 0 || hdrL4Proto != IPPROTO_UDP) return false;
  return parseUdpTunnel(p, avail);
}

/** parseTunnel for a caller that knows the outer stack parsed to a UDP header (hdrL4Offset set,
 *  hdrL4Proto UDP): the port test alone. */
// @ts-ignore: decorator
@inline export function parseUdpTunnel(p: u32, avail: u32): bool {
  const port = <u32>be16(p + hdrL4Offset + UDP_DST_PORT);
  if (port != vxlanPort() && port != genevePort()) return false;
  return parseTunnelStack(p, avail);
}

/** parseTunnel past its port test: the outer L4 is UDP to a tunnel port. */
function parseTunnelStack(p: u32, avail: u32): bool {
  const outerL3 = hdrL2Len;
  const outerL4 = hdrL4Offset;
  const outerVersion = hdrIpVersion;
  const inner = tunnelInnerOffset(p, outerL4, avail);
  if (inner == 0 || inner >= avail) return false;
  if (parseHeaders(p + inner, avail - inner) != PARSE_OK || hdrL4Offset == 0) {
    parseHeaders(p, avail); // the hdr* globals describe the outer stack again, as before the call
    return false;
  }
  tunOuterL3 = outerL3;
  tunOuterL4 = outerL4;
  tunOuterVersion = outerVersion;
  tunInnerL3 = inner + hdrL2Len;
  tunInnerL4 = inner + hdrL4Offset;
  tunInnerVersion = hdrIpVersion;
  tunInnerProto = hdrL4Proto;
  tunTotalLen = inner + hdrTotalLen;
  return true;
}
