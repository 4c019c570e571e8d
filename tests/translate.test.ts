import { describe, expect, it } from "vitest";
import { testCore, pattern, u32 } from "./helpers/core.js";
import { postDescriptors, statusName, takeCompletions, takeWireFrames, writeGuest } from "./helpers/guest.js";
import type { Core } from "../src/core/core.js";

const RAM = 4 << 20;

function setup(copyMode = 4 /* none: translate every byte */) {
  const core = testCore({ guestRamBytes: RAM, ringSlots: 64 });
  core.setParam("copyMode", copyMode);
  core.setParam("wireDiscard", 0);
  core.setParam("mtu", 9000);
  return core;
}

/** The physical descriptor the translate stage just wrote at physical index `i`. */
function physDesc(core: Core, i: number) {
  const x = core.exports;
  const pd = u32(x.ringSlot(core.constant("RING_PHYS_TX"), i));
  const v = core.view;
  const nsg = v.getUint16(pd + core.constant("PD_NSG"), true);
  const sgAt = v.getUint32(pd + core.constant("PD_SG_ADDR"), true);
  return {
    status: v.getUint32(pd + core.constant("PD_STATUS"), true),
    copied: v.getUint16(pd + core.constant("PD_HDR_COPIED"), true),
    total: v.getUint32(pd + core.constant("PD_TOTAL_LEN"), true),
    sg: Array.from({ length: nsg }, (_, k) => ({ addr: v.getUint32(sgAt + k * 8, true), len: v.getUint32(sgAt + k * 8 + 4, true) })),
  };
}

function frame(len: number, seed: number): Uint8Array {
  const f = pattern(len, seed);
  f[12] = 0x88; // an ethertype that is neither IP nor a VLAN tag: the frame is copied/translated as bytes
  f[13] = 0xb5;
  return f;
}

describe("translation queue (assembly/backend/translate.ts)", () => {
  it("splits a frame that crosses guest page boundaries into SG entries at the right machine addresses", () => {
    const core = setup();
    const x = core.exports;
    const gpa = 3 * 4096 - 100;
    const f = frame(9000, 1); // spans 4 guest pages: 100 + 4096 + 4096 + 708
    writeGuest(core, gpa, f);
    postDescriptors(core, [{ gpa, len: f.length }]);
    expect(x.translateStage(32)).toBe(1);
    const pd = physDesc(core, 0);
    expect(pd.status).toBe(0);
    expect(pd.copied).toBe(0);
    expect(pd.total).toBe(9000);
    // Each piece sits where the page table says its guest page lives.
    const pieces: { gpa: number; len: number }[] = [];
    for (let at = gpa, left = f.length; left > 0; ) {
      const n = Math.min(4096 - (at & 4095), left);
      pieces.push({ gpa: at, len: n });
      at += n;
      left -= n;
    }
    const merged: { addr: number; len: number }[] = [];
    for (const p of pieces) {
      const addr = u32(x.machineAddress(p.gpa));
      const last = merged[merged.length - 1];
      if (last && last.addr + last.len === addr) last.len += p.len;
      else merged.push({ addr, len: p.len });
    }
    expect(pd.sg).toEqual(merged);
    expect(merged.length).toBeGreaterThan(1); // the shuffle made them discontiguous
    expect(core.counter("translations")).toBe(4n);
    // And the NIC gathers exactly the guest's bytes.
    expect(x.nicStage(32)).toBe(1);
    expect(takeWireFrames(core)).toEqual([f]);
    expect(takeCompletions(core)).toEqual([{ cookie: 0, status: 0 }]);
  });

  it.each([
    ["zero length", { gpa: 0, len: 0 }, "empty"],
    ["starts past the end of guest RAM", { gpa: RAM, len: 64 }, "badAddress"],
    ["runs past the end of guest RAM", { gpa: RAM - 10, len: 64 }, "badAddress"],
    ["gpa + len overflows 32 bits", { gpa: 0xfffffff0, len: 0x20 }, "badAddress"],
    ["length 2^32 - 1", { gpa: 0, len: 0xffffffff }, "badAddress"],
    ["gpa 2^32 - 1, length 1", { gpa: 0xffffffff, len: 1 }, "badAddress"],
    ["more pages than an SG table holds", { gpa: 0, len: 300_000 }, "tooManySegments"],
  ])("refuses a descriptor that %s, completes it with a named status and reads nothing", (_what, desc, reason) => {
    const core = setup();
    const x = core.exports;
    postDescriptors(core, [{ ...desc, cookie: 77 }]);
    x.translateStage(32);
    x.nicStage(32);
    const [c] = takeCompletions(core);
    expect(c.cookie).toBe(77);
    expect(statusName(core, c.status)).toBe(reason);
    expect(core.counter("bytesCopied") + core.counter("bytesReferenced")).toBe(0n);
    expect(core.counter("wireFrames")).toBe(0n);
    expect(x.dropCount(core.constant("DROP_" + reason))).toBe(1n);
  });

  it("accepts a buffer that ends exactly at the end of guest RAM", () => {
    const core = setup();
    const f = frame(1000, 2);
    writeGuest(core, RAM - 1000, f);
    postDescriptors(core, [{ gpa: RAM - 1000, len: 1000 }]);
    core.exports.translateStage(32);
    core.exports.nicStage(32);
    expect(takeCompletions(core)).toEqual([{ cookie: 0, status: 0 }]);
    expect(takeWireFrames(core)).toEqual([f]);
  });

  it("completes good and bad descriptors in posting order", () => {
    const core = setup();
    const f = frame(200, 3);
    writeGuest(core, 8192, f);
    postDescriptors(core, [
      { gpa: 8192, len: 200, cookie: 1 },
      { gpa: RAM, len: 1, cookie: 2 },
      { gpa: 8192, len: 200, cookie: 3 },
      { gpa: 8192, len: 0, cookie: 4 },
    ]);
    core.exports.translateStage(32);
    core.exports.nicStage(32);
    expect(takeCompletions(core).map((c) => [c.cookie, statusName(core, c.status)])).toEqual([
      [1, "ok"], [2, "badAddress"], [3, "ok"], [4, "empty"],
    ]);
  });

  it("drops a frame longer than the MTU allows with reason oversize (no large send asked)", () => {
    const core = setup();
    core.setParam("mtu", 1500);
    const ok = frame(1514, 4);
    const big = frame(1515, 5);
    writeGuest(core, 0, ok);
    writeGuest(core, 8192, big);
    postDescriptors(core, [{ gpa: 0, len: 1514 }, { gpa: 8192, len: 1515 }]);
    core.exports.translateStage(32);
    core.exports.nicStage(32);
    expect(takeCompletions(core).map((c) => statusName(core, c.status))).toEqual(["ok", "oversize"]);
    expect(takeWireFrames(core)).toEqual([ok]);
  });

  it("sends a double-tagged frame of MTU + 22 bytes and refuses one byte more, or a frame longer than the wire window", () => {
    const core = setup();
    core.setParam("mtu", 1500);
    core.setParam("wireDiscard", 1); // the NIC writes into its small discard window
    const tagged = (len: number, seed: number) => {
      const f = frame(len, seed);
      f.set([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x88, 0xb5], 12); // 802.1ad + 802.1Q, then a non-IP type
      return f;
    };
    const fits = tagged(1500 + 22, 6);
    const over = tagged(1500 + 23, 7);
    const huge = frame(72 * 4096 - 4096, 8); // far past the MTU and past any discard window (256 KiB at most)
    writeGuest(core, 0, fits);
    writeGuest(core, 8192, over);
    writeGuest(core, 16384, huge);
    postDescriptors(core, [{ gpa: 0, len: fits.length }, { gpa: 8192, len: over.length }, { gpa: 16384, len: huge.length }]);
    core.exports.translateStage(32);
    core.exports.nicStage(32);
    expect(takeCompletions(core).map((c) => statusName(core, c.status))).toEqual(["ok", "oversize", "oversize"]);
    expect(Number(core.counter("wireFrames"))).toBe(1);
    expect(Number(core.counter("wireBytes"))).toBe(1522);
  });

  it("in discard mode writes the wire records into a window sized from the MTU, and never past it", () => {
    // Twice the longest record (MTU + 14 + 8 tags, padded, + its 16-byte header), a power of two, 64 KiB at least.
    for (const [mtu, window] of [[1500, 64 << 10], [9000, 64 << 10], [40000, 128 << 10]]) {
      const core = setup();
      core.setParam("mtu", mtu);
      core.setParam("wireDiscard", 1);
      const wire = u32(core.exports.wireBase.value);
      core.u8.fill(0x5a, wire, wire + (256 << 10) + 64);
      const f = frame(mtu + 14, mtu);
      writeGuest(core, 0, f);
      let sent = 0;
      for (let round = 0; round < 3; round++) {
        postDescriptors(core, Array.from({ length: 20 }, (_, i) => ({ gpa: 0, len: f.length, cookie: round * 20 + i })));
        core.exports.translateStage(64);
        core.exports.nicStage(64);
        sent += takeCompletions(core).filter((c) => statusName(core, c.status) === "ok").length;
      }
      expect(sent, `MTU ${mtu}`).toBe(60);
      expect(Number(core.counter("wireFrames"))).toBe(60);
      const past = core.u8.subarray(wire + window, wire + (256 << 10) + 64);
      expect(past.every((b) => b === 0x5a), `MTU ${mtu}: nothing written past the ${window >> 10} KiB window`).toBe(true);
      const lastHalf = core.u8.subarray(wire + window / 2, wire + window);
      expect(lastHalf.some((b) => b !== 0x5a), `MTU ${mtu}: the window's second half is used`).toBe(true);
    }
  });

  it("backpressures on a full physical ring instead of dropping", () => {
    const core = setup();
    const f = frame(64, 6);
    writeGuest(core, 0, f);
    postDescriptors(core, Array.from({ length: 64 }, (_, i) => ({ gpa: 0, len: 64, cookie: i })));
    expect(core.exports.translateStage(64)).toBe(64);
    postDescriptors(core, [{ gpa: 0, len: 64, cookie: 64 }]);
    expect(core.exports.translateStage(64)).toBe(0); // physical ring (and its pool) exhausted
    core.exports.nicStage(64);
    const first = takeCompletions(core);
    expect(core.exports.translateStage(64)).toBe(1);
    core.exports.nicStage(64);
    expect([...first, ...takeCompletions(core)].map((c) => c.cookie)).toEqual(Array.from({ length: 65 }, (_, i) => i));
  });
});
