// Test support for the LSO tests: the wasm core driven single-threaded, one guest descriptor at a
// time — write the frame into guest RAM, post the virtio_net_hdr fields a Linux guest with TSO
// would (the same ones assembly/guest/vnet-header.ts writes), run translateStage (stage 1) and
// nicStage (stage 2) until the completion arrives, and collect the wire frames.

import type { Core } from "../../src/core/core.js";
import { testCore } from "./core.js";
import { GuestDescriptor, postDescriptors, statusName, takeCompletions, takeWireFrames, writeGuest } from "./guest.js";

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;
export const GSO_ECN = 0x80;

export interface RigParams {
  mtu: number;
  nicMaxLso: number;
  maxSegments: number;
  fixedId: boolean;
  copyMode?: number;
}

export interface SendResult {
  status: string; // "ok" or the DROP_ name without its prefix
  frames: Uint8Array[];
}

export class LsoRig {
  readonly core: Core;
  readonly ram: number;
  private cookie = 0;

  constructor(o: { guestRamBytes?: number; wireBytes?: number; ringSlots?: number } = {}) {
    this.ram = o.guestRamBytes ?? 2 << 20;
    this.core = testCore({
      guestRamBytes: this.ram,
      ringSlots: o.ringSlots ?? 1024,
      wireBytes: o.wireBytes ?? 16 << 20,
      arenaBytes: 1 << 12,
      flavor: "release",
    });
    this.core.setParam("wireDiscard", 0);
  }

  set(p: RigParams): void {
    const c = this.core;
    c.setParam("mtu", p.mtu);
    c.setParam("nicMaxLso", p.nicMaxLso);
    c.setParam("maxSegments", p.maxSegments);
    c.setParam("fixedId", p.fixedId ? 1 : 0);
    c.setParam("copyMode", p.copyMode ?? 0);
  }

  /** Posts one frame at guest-physical `gpa` with descriptor fields `d` and runs it through. */
  send(frame: Uint8Array, gpa: number, d: Omit<GuestDescriptor, "gpa" | "len">): SendResult {
    const core = this.core;
    const x = core.exports;
    if (gpa + frame.length > this.ram) throw new Error("frame does not fit guest RAM");
    writeGuest(core, gpa, frame);
    const cookie = this.cookie++ >>> 0;
    postDescriptors(core, [{ ...d, gpa, len: frame.length, cookie }]);
    const frames: Uint8Array[] = [];
    for (let spins = 0; spins < 1_000_000; spins++) {
      x.translateStage(64);
      x.nicStage(64);
      for (const f of takeWireFrames(core)) frames.push(f);
      const done = takeCompletions(core);
      if (done.length > 0) {
        if (done.length !== 1 || done[0].cookie !== cookie) throw new Error(`unexpected completions ${JSON.stringify(done)}`);
        return { status: statusName(core, done[0].status).replace(/^DROP_/, ""), frames };
      }
    }
    throw new Error("no completion after 10^6 steps (the device is stuck)");
  }

  /** The large-send descriptor vnet-header.ts posts for a TCP frame with headers through
   *  `headers` and TCP at `l4`. */
  static largeSend(ipVersion: 4 | 6, flags: number, l4: number, headers: number, mss: number): Omit<GuestDescriptor, "gpa" | "len"> {
    return {
      flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
      gsoType: (ipVersion === 4 ? GSO_TCPV4 : GSO_TCPV6) | (flags & 0x80 ? GSO_ECN : 0),
      hdrLen: headers,
      gsoSize: mss,
      csumStart: l4,
      csumOffset: 16,
    };
  }
}
