// Ethernet II header with up to MAX_TAGS VLAN tags (IEEE 802.1Q 0x8100, 802.1ad 0x88a8, and the
// pre-standard QinQ 0x9100). Layout: dst(6) src(6) [TPID(2) TCI(2)]* ethertype(2).

import { be16 } from "./bytes";

export const ETH_HEADER_LEN: u32 = 14;
export const ETH_TYPE_OFFSET: u32 = 12;
export const VLAN_TAG_LEN: u32 = 4;
// Triple and deeper tags (provider bridges, lab captures) parse like two: up to Linux's
// VLAN_MAX_DEPTH (8, include/linux/if_vlan.h, __vlan_get_protocol).
export const MAX_TAGS: u32 = 8;

export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ETHERTYPE_IPV6: u32 = 0x86dd;
export const ETHERTYPE_VLAN: u32 = 0x8100;
export const ETHERTYPE_QINQ: u32 = 0x88a8;
export const ETHERTYPE_QINQ_OLD: u32 = 0x9100;

// @ts-ignore: decorator
@inline export function isVlanTpid(t: u32): bool {
  return t == ETHERTYPE_VLAN || t == ETHERTYPE_QINQ || t == ETHERTYPE_QINQ_OLD;
}

/** Length of the Ethernet header with its tags (14, 18, 22, ...), or 0 if `len` bytes at `p`
 *  cannot hold it (or it has more than MAX_TAGS tags). */
export function ethernetHeaderLen(p: u32, len: u32): u32 {
  let at = ETH_TYPE_OFFSET;
  for (let tags: u32 = 0; tags <= MAX_TAGS; tags++) {
    if (at + 2 > len) return 0;
    if (!isVlanTpid(be16(p + at))) return at + 2;
    at += VLAN_TAG_LEN;
  }
  return 0;
}

/** The ethertype after the tags; call only after ethernetHeaderLen(p, len) returned l2 > 0. */
// @ts-ignore: decorator
@inline export function ethertypeAt(p: u32, l2: u32): u32 {
  return be16(p + l2 - 2);
}
