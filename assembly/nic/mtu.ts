// The NIC's MTU checks, shared by the gathered copy (nic.ts), pass-through (nic.ts) and the
// gather list (gather.ts). P_mtu bounds the IP packet, so the frame may carry the Ethernet
// header and its tags on top of it.

import { param, P_mtu } from "../shared/params";
import { ETH_HEADER_LEN, MAX_TAGS, VLAN_TAG_LEN } from "../packet/ethernet";

/** Longer than any frame an MTU allows, whatever its tags: refused before it takes wire room. */
// @ts-ignore: decorator
@inline export function longerThanAnyMtuFrame(len: u32): bool {
  return len > param(P_mtu) + ETH_HEADER_LEN + MAX_TAGS * VLAN_TAG_LEN;
}

/** The frame's packet behind its Ethernet header (`l2` bytes, 0: not parsed) exceeds the MTU. */
// @ts-ignore: decorator
@inline export function packetOverMtu(len: u32, l2: u32): bool {
  return len - (l2 != 0 ? l2 : ETH_HEADER_LEN) > param(P_mtu);
}
