// Run parameters: written by the host (setParam) before any worker starts, read-only after.
// Every `P_<name>` export is a parameter id; the host sets them by name.

import { PARAMS_BASE } from "./layout";

export const P_mtu: u32 = 0; // largest L3 packet on the wire (bytes); Ethernet adds its header
export const P_copyMode: u32 = 1; // COPY_* in header-copy.ts
export const P_copyBytes: u32 = 2; // N for COPY_FIXED
export const P_wireDiscard: u32 = 3; // 1: the wire sink only counts (no capture consumer)
export const P_coalescePolicy: u32 = 4; // POLICY_* in coalesce.ts
export const P_coalesceCount: u32 = 5; // count:N — completions per interrupt
export const P_coalesceThreshold: u32 = 6; // adaptive: commands-in-flight threshold
export const P_coalesceRatio: u32 = 7; // adaptive: in-flight commands per delivered interrupt
export const P_coalesceUsecs: u32 = 8; // count:N,usecs:U — the timer's period
export const P_slowdownNs: u32 = 9; // test/benchmark-gate support: extra work per frame (0: none)
export const P_mss: u32 = 10; // guest: gso_size for large sends (0: derive from the MTU per packet)
export const P_nicMaxLso: u32 = 11; // stage 1: largest frame the NIC accepts for segmentation
export const P_fixedId: u32 = 12; // stage 2: 1 keeps the IPv4 ID of every segment (no +1)
export const P_csumOffload: u32 = 13; // guest: 1 asks NEEDS_CSUM for TCP/UDP frames
export const P_maxSegments: u32 = 14; // stage 2: most segments one large send may become
export const P_guestResident: u32 = 15; // guest: frames stay in guest RAM across loops (pktgen-style)
export const P_guestBufferBytes: u32 = 16; // guest: bytes of guest RAM its buffers cycle through (0: all)
export const P_vxlanPort: u32 = 17; // UDP port parsed as VXLAN (0: 4789, RFC 7348)
export const P_genevePort: u32 = 18; // UDP port parsed as Geneve (0: 6081, RFC 8926)
export const P_nicTunnelLsoOff: u32 = 19; // 1: the NIC cannot segment tunnels (stage 1 does all)
export const P_inflight: u32 = 27; // device: 1 keeps in-flight records so a new device can take over (inflight.ts)
export const P_wireGate: u32 = 20; // 1: the capture writer reads only what the wire pump sent (--iface with --out)
export const P_offloadPass: u32 = 21; // PASS_* bits (passthrough.ts): operations handed to the kernel as they are
export const P_wireGather: u32 = 22; // 1: --wire-gather kernel, frames sent as they are go to the wire as gather lists (gather.ts)
export const P_gatherReleaseEarly: u32 = 23; // test support only: 1 releases gather-sent completions without waiting for the wire tail
export const P_sendTimestamps: u32 = 30; // 1: each wire record carries the time its burst left the NIC stage (--timestamps send)
export const P_COUNT: u32 = 32;

// @ts-ignore: decorator
@inline export function param(id: u32): u32 {
  return load<u32>(PARAMS_BASE + (id << 2));
}

export function setParam(id: u32, value: u32): void {
  if (id < P_COUNT) store<u32>(PARAMS_BASE + (id << 2), value);
}

export function getParam(id: u32): u32 {
  return id < P_COUNT ? param(id) : 0;
}
