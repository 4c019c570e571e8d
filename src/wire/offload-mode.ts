// --offload emulate|passthrough|auto: which operations vnic performs itself (emulate: its own
// two-stage LSO and checksums, byte-identical to Linux GSO) and which it hands to the kernel as
// they are, with their virtio_net_hdr (assembly/nic/passthrough.ts). Only with --iface: a pcap file
// has no kernel behind it.
//
// auto reads the interface's features (ETHTOOL_GFEATURES, the names `ethtool -k` prints) and
// passes through exactly what the device offers, per IP version; the rest is emulated. Note a
// veth's "TSO" never segments: passing large sends through to one hands its peer super-packets,
// which is why the default is emulate.

import type { ConstantName, Core } from "../core/core.js";
import type { WireNative } from "./native.js";

export type OffloadMode = "emulate" | "passthrough" | "auto";
export const OFFLOAD_MODES: readonly OffloadMode[] = ["emulate", "passthrough", "auto"];

/** The operations to pass through (PASS_* bits, assembly/nic/passthrough.ts) for `mode` on `name`. */
export function passBits(mode: OffloadMode, core: Core, native: WireNative, name: string): number {
  const [lso4, csum4, lso6, csum6] = (["PASS_LSO4", "PASS_CSUM4", "PASS_LSO6", "PASS_CSUM6"] as const).map((n) => core.constant(n));
  if (mode === "emulate") return 0;
  if (mode === "passthrough") return lso4 | csum4 | lso6 | csum6;
  const f = native.features(name);
  const generic = f["tx-checksum-ip-generic"] === true;
  let bits = 0;
  if (f["tx-tcp-segmentation"]) bits |= lso4;
  if (f["tx-tcp6-segmentation"]) bits |= lso6;
  if (generic || f["tx-checksum-ipv4"]) bits |= csum4;
  if (generic || f["tx-checksum-ipv6"]) bits |= csum6;
  return bits;
}

/** The report's words for the bits. */
export function passedOperations(bits: number, core: Core): string[] {
  const names: [ConstantName, string][] = [["PASS_LSO4", "TCPv4 large sends"], ["PASS_LSO6", "TCPv6 large sends"], ["PASS_CSUM4", "IPv4 checksums"], ["PASS_CSUM6", "IPv6 checksums"]];
  return names.filter(([b]) => bits & core.constant(b)).map(([, n]) => n);
}
