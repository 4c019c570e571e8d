// UDP header (RFC 768). Offsets from the start of the UDP header.

import { fold } from "./checksum";

export const UDP_HEADER_LEN: u32 = 8;
export const UDP_SRC_PORT: u32 = 0;
export const UDP_DST_PORT: u32 = 2;
export const UDP_LENGTH: u32 = 4;
export const UDP_CHECKSUM: u32 = 6;

export const IPPROTO_UDP: u32 = 17;

/** Stores the UDP checksum of partial sum `sum` (memory order). UDP's own rule (RFC 768, RFC
 *  8200 §8.1): a computed 0 is sent as 0xffff, since 0 on the wire means "no checksum" — as
 *  the kernel's udp_v4_check/__udp_gso_segment do (CSUM_MANGLED_0). Only UDP maps 0 this way. */
// @ts-ignore: decorator
@inline export function storeUdpChecksum(at: u32, sum: u32): void {
  let v = <u16>~fold(sum);
  if (v == 0) v = 0xffff;
  store<u16>(at, v);
}
