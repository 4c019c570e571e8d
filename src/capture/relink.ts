// Giving frames of a non-Ethernet capture an Ethernet header, as `tcprewrite --dlt=enet` does,
// so captures people have replay: Linux cooked (what `tcpdump -i any` writes, often a host-side
// TSO capture), raw IP and BSD loopback. The new header is built from what the capture knows:
//   ethertype    SLL/SLL2's protocol field; raw IP and loopback: from the IP version nibble
//   source MAC   SLL/SLL2's link-layer address when it is a 6-byte Ethernet one, else RELINK_SRC
//   dest MAC     RELINK_DST (the capture never knew it)
// Both default MACs are locally administered (IEEE 802 U/L bit set), so they collide with no
// vendor's. Link types: https://www.tcpdump.org/linktypes.html; SLL: LINKTYPE_LINUX_SLL and
// LINKTYPE_LINUX_SLL2 pages there; BSD loopback: LINKTYPE_NULL (4-byte family, host order).

import { LINKTYPE_ETHERNET } from "./types.js";

export const LINKTYPE_NULL = 0;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: LINKTYPE_NULL with the family big-endian
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

/** Source MAC given to frames whose capture did not record one. */
export const RELINK_SRC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
/** Destination MAC given to every relinked frame. */
export const RELINK_DST = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x02);

const ETH_HEADER = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** Below this an SLL protocol value is not an ethertype (802.3 length range: LLC, raw 802.3). */
const ETHERTYPE_MIN = 0x0600;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

// SLL (16 bytes): packet type u16, ARPHRD type u16, address length u16, address [8], protocol u16.
const SLL_HEADER = 16;
const SLL_HATYPE = 2;
const SLL_HALEN = 4;
const SLL_ADDR = 6;
const SLL_PROTOCOL = 14;
// SLL2 (20 bytes): protocol u16, reserved u16, ifindex u32, ARPHRD type u16, packet type u8,
// address length u8, address [8].
const SLL2_HEADER = 20;
const SLL2_PROTOCOL = 0;
const SLL2_HATYPE = 8;
const SLL2_HALEN = 11;
const SLL2_ADDR = 12;
const NULL_HEADER = 4;

/** Link types relinkFrame can turn into Ethernet. */
export function isRelinkable(linkType: number): boolean {
  return (
    linkType === LINKTYPE_LINUX_SLL || linkType === LINKTYPE_LINUX_SLL2 || linkType === LINKTYPE_RAW ||
    linkType === LINKTYPE_IPV4 || linkType === LINKTYPE_IPV6 || linkType === LINKTYPE_NULL || linkType === LINKTYPE_LOOP
  );
}

/** True when frames of this link type replay: Ethernet as they are, or relinked. */
export function isReplayableLinkType(linkType: number): boolean {
  return linkType === LINKTYPE_ETHERNET || isRelinkable(linkType);
}

/**
 * The frame with an Ethernet header in place of its own link-layer header, or null when this
 * frame carries nothing an Ethernet header can announce (an SLL frame of LLC, a loopback frame
 * that is not IP, a header cut short). `frame` is not kept.
 */
export function relinkFrame(linkType: number, frame: Uint8Array): Uint8Array | null {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  switch (linkType) {
    case LINKTYPE_LINUX_SLL:
      if (frame.length < SLL_HEADER) return null;
      return ethernet(frame, SLL_HEADER, v.getUint16(SLL_PROTOCOL), sllSource(frame, v.getUint16(SLL_HATYPE), v.getUint16(SLL_HALEN), SLL_ADDR));
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < SLL2_HEADER) return null;
      return ethernet(frame, SLL2_HEADER, v.getUint16(SLL2_PROTOCOL), sllSource(frame, v.getUint16(SLL2_HATYPE), frame[SLL2_HALEN], SLL2_ADDR));
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return ethernet(frame, 0, ipEthertype(frame, 0), RELINK_SRC);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // The family (AF_INET 2; AF_INET6 10, 24, 28 or 30 by OS) is in the capturing host's
      // byte order; the IP version nibble after it says the same thing whatever the order.
      if (frame.length < NULL_HEADER) return null;
      return ethernet(frame, NULL_HEADER, ipEthertype(frame, NULL_HEADER), RELINK_SRC);
    default:
      return null;
  }
}

function sllSource(frame: Uint8Array, hatype: number, halen: number, at: number): Uint8Array {
  const ethernetAddress = (hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK) && halen === 6;
  return ethernetAddress ? frame.subarray(at, at + 6) : RELINK_SRC;
}

/** 0x0800 or 0x86dd from the IP version nibble at `at`; 0 when it is neither. */
function ipEthertype(frame: Uint8Array, at: number): number {
  if (frame.length <= at) return 0;
  const version = frame[at] >> 4;
  return version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
}

function ethernet(frame: Uint8Array, payloadAt: number, ethertype: number, src: Uint8Array): Uint8Array | null {
  if (ethertype < ETHERTYPE_MIN) return null;
  const out = new Uint8Array(ETH_HEADER + frame.length - payloadAt);
  out.set(RELINK_DST, 0);
  out.set(src, 6);
  out[12] = ethertype >> 8;
  out[13] = ethertype & 0xff;
  out.set(frame.subarray(payloadAt), ETH_HEADER);
  return out;
}
