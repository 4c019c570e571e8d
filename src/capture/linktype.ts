// Link-layer header types (https://www.tcpdump.org/linktypes.html) that users are likely to
// meet, so an error can say "113 (Linux cooked)" instead of a bare number.

import { CaptureError, CaptureInfo, LINKTYPE_ETHERNET } from "./types.js";

const NAMES: Record<number, string> = {
  0: "BSD loopback",
  1: "Ethernet",
  101: "raw IP",
  104: "Cisco HDLC",
  105: "802.11",
  113: "Linux cooked",
  127: "802.11 radiotap",
  228: "raw IPv4",
  229: "raw IPv6",
  276: "Linux cooked v2",
};

/** "113 (Linux cooked)", or just the number when we have no name for it. */
export function linkTypeName(linkType: number): string {
  if (linkType < 0) return "none (the capture declares no interface)";
  const name = NAMES[linkType];
  return name ? `${linkType} (${name})` : String(linkType);
}

/**
 * Throws unless the capture holds plain Ethernet frames, the only thing vnic transmits.
 * Frames that carry their FCS are refused too: vnic frames end before the FCS.
 */
export function requireEthernet(info: CaptureInfo, file: string): void {
  if (info.linkType !== LINKTYPE_ETHERNET) {
    const what = info.format === "pcapng" && info.linkTypeAt !== undefined ? "the interface's link type" : "link type";
    throw new CaptureError(file, info.linkTypeAt ?? 0, `${what} ${linkTypeName(info.linkType)} is not Ethernet; vnic transmits Ethernet frames`);
  }
  if (info.fcsBytes) {
    throw new CaptureError(file, 0, `frames carry a ${info.fcsBytes}-byte FCS; vnic transmits Ethernet frames without FCS`);
  }
}
