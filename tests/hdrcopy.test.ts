import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { testCore, u32 } from "./helpers/core.js";
import { postDescriptors, takeCompletions, takeWireFrames, writeGuest } from "./helpers/guest.js";
import { MACS, concat, ethertype, ipv4, ipv6, payload, tcp, udp, vlanTag } from "../testkit/frames.js";
import type { Core } from "../src/core/core.js";

const MODES = { headers: 0, "l3:10": 1, fixed: 2, full: 3, none: 4 } as const;
type Mode = keyof typeof MODES;

function setup(mode: Mode, copyBytes = 0) {
  const core = testCore({ guestRamBytes: 1 << 20, ringSlots: 64 });
  core.setParam("copyMode", MODES[mode]);
  core.setParam("copyBytes", copyBytes);
  core.setParam("wireDiscard", 0);
  return core;
}

/** Sends one frame at `gpa` through translate + NIC; returns bytes copied, the copy itself,
 *  and the wire frame. */
function send(core: Core, frame: Uint8Array, gpa = 8192) {
  const x = core.exports;
  writeGuest(core, gpa, frame);
  postDescriptors(core, [{ gpa, len: frame.length }]);
  const physIndex = u32(x.ringHeadSeen(core.constant("RING_PHYS_TX")));
  x.translateStage(1);
  const pd = u32(x.ringSlot(core.constant("RING_PHYS_TX"), physIndex));
  const copied = core.view.getUint16(pd + core.constant("PD_HDR_COPIED"), true);
  const at = core.view.getUint32(pd + core.constant("PD_HDR_ADDR"), true);
  const copy = core.u8.slice(at, at + copied);
  x.nicStage(1);
  const [c] = takeCompletions(core);
  const [wire] = takeWireFrames(core);
  return { copied, copy, wire, status: c.status };
}

const tcp4 = (payloadLen: number) => concat(MACS, ethertype(0x0800), ipv4(6, 20 + payloadLen), tcp(), payload(payloadLen));
const tcp4Vlan = (payloadLen: number) => concat(MACS, vlanTag(0x8100, 7), ethertype(0x0800), ipv4(6, 32 + payloadLen), tcp(3), payload(payloadLen));
const udp6 = (payloadLen: number) => concat(MACS, ethertype(0x86dd), ipv6(17, 8 + payloadLen), udp(payloadLen), payload(payloadLen));

describe("copy length per mode (assembly/backend/header-copy.ts)", () => {
  it.each<[string, () => Uint8Array, Mode, number, number]>([
    ["1514-byte IPv4/TCP", () => tcp4(1460), "headers", 0, 54],
    ["1514-byte VLAN IPv4/TCP with options", () => tcp4Vlan(1448), "headers", 0, 18 + 20 + 32],
    ["1514-byte IPv6/UDP", () => udp6(1452), "headers", 0, 14 + 40 + 8],
    ["64-byte frame (fits a pool buffer: copied whole)", () => tcp4(10), "headers", 0, 64],
    ["240-byte frame (exactly a pool buffer)", () => tcp4(186), "headers", 0, 240],
    ["241-byte frame (one byte more: headers only)", () => tcp4(187), "headers", 0, 54],
    ["1514-byte IPv4/TCP", () => tcp4(1460), "l3:10", 0, 24],
    ["1514-byte VLAN IPv4/TCP", () => tcp4Vlan(1448), "l3:10", 0, 28],
    ["1514-byte IPv4/TCP", () => tcp4(1460), "fixed", 100, 100],
    ["60-byte frame shorter than the fixed length", () => tcp4(6), "fixed", 100, 60],
    ["20-byte frame shorter than l3:10", () => concat(MACS, ethertype(0x0800), payload(6)), "l3:10", 0, 20],
    ["1514-byte IPv4/TCP", () => tcp4(1460), "full", 0, 1514],
    ["64-byte frame", () => tcp4(10), "full", 0, 64],
    ["1514-byte IPv4/TCP", () => tcp4(1460), "none", 0, 0],
  ])("%s, --copy %s: copies the right number of bytes, and the wire frame is unchanged", (_what, make, mode, n, expected) => {
    const core = setup(mode, n);
    const f = make();
    const r = send(core, f);
    expect(r.status).toBe(0);
    expect(r.copied).toBe(expected);
    expect(r.copy).toEqual(f.subarray(0, expected));
    expect(r.wire).toEqual(f);
    expect(core.counter("bytesCopied")).toBe(BigInt(expected));
    expect(core.counter("bytesReferenced")).toBe(BigInt(f.length - expected));
    expect(core.counter("translationsAvoided")).toBe(expected === f.length ? 1n : 0n);
  });

  it("copies headers that straddle a guest page boundary from both machine pages", () => {
    const core = setup("headers");
    const f = tcp4Vlan(1448);
    const gpa = 4096 * 5 - 30; // the boundary falls inside the IPv4 header
    expect(u32(core.exports.machineAddress(gpa + 30)) - u32(core.exports.machineAddress(gpa))).not.toBe(30);
    const r = send(core, f, gpa);
    expect(r.copied).toBe(70);
    expect(r.copy).toEqual(f.subarray(0, 70));
    expect(r.wire).toEqual(f);
  });

  it("falls back to a fixed copy for headers that do not parse, counts it, and still sends the frame", () => {
    const core = setup("headers");
    const f = tcp4(1460);
    f[14] = 0x43; // IHL 3: impossible
    const r = send(core, f);
    expect(r.copied).toBe(core.constant("FALLBACK_COPY"));
    expect(core.counter("unparsed")).toBe(1n);
    expect(r.wire).toEqual(f);
  });

  it("parses a long header stack past the first speculative copy (IPv6 + 96 bytes of extension headers + TCP with options)", () => {
    const core = setup("headers");
    const ext = new Uint8Array(96);
    ext[0] = 6; // next header TCP
    ext[1] = 11; // (11 + 1) × 8 = 96 bytes of hop-by-hop options
    const f = concat(MACS, ethertype(0x86dd), ipv6(0, 96 + 40 + 1000), ext, tcp(5), payload(1000));
    const r = send(core, f);
    expect(r.copied).toBe(14 + 40 + 96 + 40);
    expect(core.counter("unparsed")).toBe(0n);
    expect(r.wire).toEqual(f);
  });
});

describe("the reason partial copy exists: a guest that rewrites headers after posting", () => {
  async function hostileRun(mode: Mode) {
    const core = setup(mode);
    const x = core.exports;
    const frames = Array.from({ length: 200 }, (_, i) => { const f = tcp4(1000); f[5] = i; return f; });
    const signalAddr = u32(x.arenaBase.value);
    Atomics.store(new Int32Array(core.memory.buffer), signalAddr >> 2, 0);
    const C = Object.fromEntries(["RING_GUEST_TX", "GD_GPA", "GD_LEN", "GD_COOKIE"].map((n) => [n, core.constant(n)]));
    const worker = new Worker(fileURLToPath(new URL("./helpers/hostile-guest.mjs", import.meta.url)), {
      workerData: { module: core.module, memory: core.memory, frames, signalAddr, headerBytes: 54, C },
    });
    const finished = new Promise((resolve, reject) => { worker.once("message", resolve); worker.once("error", reject); });
    // The device: translate a burst, wait until the guest has scribbled over every frame it took,
    // then transmit. Whatever the NIC reads from guest memory now is the scribble.
    const i32 = new Int32Array(core.memory.buffer);
    const wire: Uint8Array[] = [];
    let taken = 0;
    const deadline = Date.now() + 20_000;
    while (taken < frames.length && Date.now() < deadline) {
      taken += x.translateStage(16);
      while (Atomics.load(i32, signalAddr >> 2) < taken && Date.now() < deadline) Atomics.wait(i32, signalAddr >> 2, Atomics.load(i32, signalAddr >> 2), 1);
      x.nicStage(16);
      takeCompletions(core);
      wire.push(...takeWireFrames(core));
    }
    await finished;
    await worker.terminate();
    return { frames, wire };
  }

  it("with --copy headers, every header on the wire is the one the device copied", async () => {
    const { frames, wire } = await hostileRun("headers");
    expect(wire).toHaveLength(frames.length);
    wire.forEach((w, i) => expect(w.subarray(0, 54)).toEqual(frames[i].subarray(0, 54)));
  });

  it("with --copy none, the rewritten headers reach the wire (so the test above can fail)", async () => {
    const { frames, wire } = await hostileRun("none");
    expect(wire).toHaveLength(frames.length);
    const rewritten = wire.filter((w) => w.subarray(0, 54).every((b) => b === 0xee)).length;
    expect(rewritten).toBe(frames.length);
  });
});
