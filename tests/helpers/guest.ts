// Test support: play the guest by hand — write guest RAM and post descriptors directly.
import type { Core } from "../../src/core/core.js";
import { u32 } from "./core.js";

export function writeGuest(core: Core, gpa: number, bytes: Uint8Array): void {
  const x = core.exports;
  let done = 0;
  while (done < bytes.length) {
    const at = gpa + done;
    const n = Math.min(4096 - (at & 4095), bytes.length - done);
    core.u8.set(bytes.subarray(done, done + n), u32(x.machineAddress(at)));
    done += n;
  }
}

export interface GuestDescriptor {
  gpa: number;
  len: number;
  cookie?: number;
  flags?: number;
  gsoType?: number;
  hdrLen?: number;
  gsoSize?: number;
  csumStart?: number;
  csumOffset?: number;
  tsNs?: bigint;
}

/** Posts descriptors on the guest TX ring as a (possibly hostile) guest would. */
export function postDescriptors(core: Core, descs: GuestDescriptor[]): void {
  const x = core.exports;
  const ring = core.constant("RING_GUEST_TX");
  const n = x.ringReserve(ring, descs.length);
  if (n !== descs.length) throw new Error(`guest TX ring has room for ${n} of ${descs.length}`);
  const head = u32(x.ringHead(ring));
  const v = core.view;
  descs.forEach((d, i) => {
    const gd = u32(x.ringSlot(ring, (head + i) >>> 0));
    v.setUint32(gd + core.constant("GD_GPA"), d.gpa >>> 0, true);
    v.setUint32(gd + core.constant("GD_LEN"), d.len >>> 0, true);
    v.setUint32(gd + core.constant("GD_COOKIE"), d.cookie ?? i, true);
    v.setUint8(gd + core.constant("GD_FLAGS"), d.flags ?? 0);
    v.setUint8(gd + core.constant("GD_GSO_TYPE"), d.gsoType ?? 0);
    v.setUint16(gd + core.constant("GD_HDR_LEN"), d.hdrLen ?? 0, true);
    v.setUint16(gd + core.constant("GD_GSO_SIZE"), d.gsoSize ?? 0, true);
    v.setUint16(gd + core.constant("GD_CSUM_START"), d.csumStart ?? 0, true);
    v.setUint16(gd + core.constant("GD_CSUM_OFFSET"), d.csumOffset ?? 0, true);
    v.setBigUint64(gd + core.constant("GD_TIMESTAMP"), d.tsNs ?? 0n, true);
  });
  x.ringPublish(ring, descs.length);
}

export interface Completion {
  cookie: number;
  status: number;
}

export function takeCompletions(core: Core): Completion[] {
  const x = core.exports;
  const ring = core.constant("RING_USED");
  const n = x.ringAvailable(ring, 1 << 16);
  const tail = u32(x.ringTail(ring));
  const out: Completion[] = [];
  for (let i = 0; i < n; i++) {
    const ue = u32(x.ringSlot(ring, (tail + i) >>> 0));
    out.push({ cookie: core.view.getUint32(ue + core.constant("UE_COOKIE"), true), status: core.view.getUint32(ue + core.constant("UE_STATUS"), true) });
  }
  x.ringRelease(ring, n);
  return out;
}

/** Every wire record currently in the ring (consumes them). */
export function takeWireFrames(core: Core): Uint8Array[] {
  const x = core.exports;
  const base = u32(x.wireBase.value);
  const size = u32(x.wireBytes.value);
  let tail = u32(x.wireTail());
  const head = u32(x.wireHead());
  const out: Uint8Array[] = [];
  while (tail !== head) {
    const pos = tail & (size - 1);
    const len = core.view.getUint32(base + pos, true);
    if (len === 0xffffffff) {
      tail = (tail + size - pos) >>> 0;
      continue;
    }
    out.push(core.u8.slice(base + pos + 16, base + pos + 16 + len));
    tail = (tail + 16 + ((len + 7) & ~7)) >>> 0;
  }
  x.wireSetTail(tail);
  return out;
}

export function statusName(core: Core, status: number): string {
  if (status === 0) return "ok";
  for (const [name, v] of core.constantsWithPrefix("DROP_")) if (v === status) return name;
  return `status ${status}`;
}
