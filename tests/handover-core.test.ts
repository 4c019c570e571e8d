// The in-flight records of assembly/device/inflight.ts and the reconcile of assembly/device/handover.ts, on
// one thread: the two states a death can leave a burst in, built by running a real burst and
// then putting back what a thread that died at that point would not have stored.

import { describe, expect, it } from "vitest";
import { attachCore } from "../src/core/core.js";
import { DeviceRig, type FuzzDesc } from "../testkit/fuzz-device.js";
import { MACS, concat, ethertype, ipv4, udp } from "../testkit/frames.js";

function plainFrames(n: number): FuzzDesc[] {
  const frame = concat(MACS, ethertype(0x0800), ipv4(17, 8 + 50), udp(50), new Uint8Array(50));
  return Array.from({ length: n }, (_, i) => ({ gpa: 4096 * (i + 1), len: frame.length, flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0,
    csumStart: 0, csumOffset: 0, content: { kind: "frame", bytes: frame } }));
}

function setup() {
  const rig = new DeviceRig({ chaos: { seed: 1, every: 1 << 30 } }); // tracking on, no random swaps
  const core = rig.core;
  core.setParam("mtu", 1500);
  const x = core.exports;
  const c = (n: string) => core.constant(n);
  const u32 = (name: string) => core.view.getUint32(c(name), true);
  const set = (name: string, v: number) => core.view.setUint32(c(name), v >>> 0, true);
  const ring = (name: string) => ({ head: x.ringHeadSeen(c(name)) >>> 0, tail: x.ringTailSeen(c(name)) >>> 0 });
  return { rig, core, x, c, u32, set, ring };
}

describe("in-flight records", () => {
  it("journal every device counter (no C_ or DROP_ counter past the snapshot)", () => {
    const { core, c } = setup();
    const last = c("SNAP_FIRST") + c("SNAP_COUNT");
    for (const [name, id] of core.constantsWithPrefix("C_")) if (id >= 64) expect([name, id < last]).toEqual([name, true]);
    expect(c("COUNTER_DROPS_BASE") + c("MAX_DROP_REASONS")).toBeLessThanOrEqual(last);
  });

  it("keep the snapshot, the state slots and the per-device words apart, inside the INFLIGHT page", () => {
    const { c } = setup();
    const areas = [
      ["IF_N_STATE", c("IF_N_STATE"), 2 * c("IF_STATE_SLOT")],
      ["IF_SNAP", c("IF_SNAP"), c("SNAP_COUNT") * 8],
      ["IF_FIRST_WORK_BY_SERIAL", c("IF_FIRST_WORK_BY_SERIAL"), 64 * 8],
      ["IF_HELD_BY_SERIAL", c("IF_HELD_BY_SERIAL"), 64 * 4],
    ] as const;
    for (let i = 1; i < areas.length; i++) expect([areas[i][0], areas[i][1] >= areas[i - 1][1] + areas[i - 1][2]]).toEqual([areas[i][0], true]);
    const end = areas[areas.length - 1][1] + areas[areas.length - 1][2];
    expect(end).toBeLessThanOrEqual(c("INFLIGHT_BASE") + c("INFLIGHT_BYTES"));
    expect(c("INFLIGHT_BYTES")).toBeLessThanOrEqual(c("PAGE_SIZE"));
  });

  it("a translate burst that died before its commit point is rolled back: counters as before, taken again", () => {
    const { rig, core, x, c, u32, set, ring } = setup();
    for (const d of plainFrames(8)) rig.writeGuest(d.gpa, (d.content as { bytes: Uint8Array }).bytes);
    rig.post(plainFrames(8));
    const before = rig.counters();
    const guest0 = ring("RING_GUEST_TX");
    const phys0 = ring("RING_PHYS_TX");
    expect(x.translateStage(32)).toBe(8);
    // A thread that died just before the commit store: no ring index moved, COMMIT still old.
    set("IF_T_COMMIT", u32("IF_T_OPEN") - 1);
    set("IF_T_CLOSE", u32("IF_T_OPEN") - 1);
    x.ringSetTail(c("RING_GUEST_TX"), guest0.tail);
    x.ringSetHead(c("RING_PHYS_TX"), phys0.head);
    const fresh = attachCore(core.module, core.memory);
    fresh.exports.deviceAttach();
    const after = rig.counters();
    for (const k of ["deviceDescriptors", "bytesCopied", "translationsAvoided"]) expect([k, after.get(k)]).toEqual([k, before.get(k)]);
    expect(u32("IF_T_UNDONE")).toBe(1);
    expect(fresh.exports.translateStage(32)).toBe(8);
    expect(rig.counters().get("deviceDescriptors")).toBe(before.get("deviceDescriptors")! + 8n);
  });

  it("a translate burst that died after its commit point is completed: the rings reach the committed indices", () => {
    const { rig, core, x, c, u32, set, ring } = setup();
    for (const d of plainFrames(5)) rig.writeGuest(d.gpa, (d.content as { bytes: Uint8Array }).bytes);
    rig.post(plainFrames(5));
    const guest0 = ring("RING_GUEST_TX");
    const phys0 = ring("RING_PHYS_TX");
    expect(x.translateStage(32)).toBe(5);
    const counters = rig.counters();
    // Died right after the commit store: nothing published yet, CLOSE not written.
    set("IF_T_CLOSE", u32("IF_T_OPEN") - 1);
    x.ringSetTail(c("RING_GUEST_TX"), guest0.tail);
    x.ringSetHead(c("RING_PHYS_TX"), phys0.head);
    attachCore(core.module, core.memory).exports.deviceAttach();
    expect(ring("RING_GUEST_TX").tail).toBe((guest0.tail + 5) >>> 0);
    expect(ring("RING_PHYS_TX").head).toBe((phys0.head + 5) >>> 0);
    expect(u32("IF_T_REDONE")).toBe(1);
    expect(rig.counters().get("deviceDescriptors")).toBe(counters.get("deviceDescriptors"));
  });

  it("a NIC burst that died after its commit point: wire head, completions and released slots all reach their committed values, and one interrupt signals them", () => {
    const { rig, core, x, c, u32, set, ring } = setup();
    for (const d of plainFrames(6)) rig.writeGuest(d.gpa, (d.content as { bytes: Uint8Array }).bytes);
    rig.post(plainFrames(6));
    x.translateStage(32);
    const phys0 = ring("RING_PHYS_TX");
    const used0 = ring("RING_USED");
    const wire0 = x.wireHead() >>> 0;
    expect(x.nicStage(32)).toBe(6);
    const wire1 = x.wireHead() >>> 0;
    const interrupts = rig.counters().get("interrupts")!;
    set("IF_N_CLOSE", u32("IF_N_OPEN") - 1);
    x.ringSetTail(c("RING_PHYS_TX"), phys0.tail);
    x.ringSetHead(c("RING_USED"), used0.head);
    core.view.setUint32(c("STATE_WIRE"), wire0, true);
    attachCore(core.module, core.memory).exports.deviceAttach();
    expect(x.wireHead() >>> 0).toBe(wire1);
    expect(ring("RING_PHYS_TX").tail).toBe((phys0.tail + 6) >>> 0);
    expect(ring("RING_USED").head).toBe((used0.head + 6) >>> 0);
    expect(rig.counters().get("interrupts")).toBe(interrupts + 1n);
    expect(rig.counters().get("stranded")).toBe(0n);
    expect(rig.takeCompletions().map((e) => e.status)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
