// Device hand-over (README "Hand-over"): devices replaced cooperatively and terminated at random points
// (worker.terminate()) while the guest keeps posting; the wire must stay exactly once.
//
// Every run here is checked against a run without hand-overs: the --out capture byte for byte,
// the books, nothing stranded. The capture mixes 64-byte frames, 64 KiB super-packets cut by
// LSO stage 1 (nic-max-lso 16384) and stage 2, and frames the device drops (oversize, runt).

import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter, readCaptureFile, type CaptureFrame } from "../src/capture/index.js";
import { replay, type ReplayOptions } from "../src/replay/replay.js";
import { checkBooks } from "../src/report/report.js";
import { Datapath, DatapathError } from "../src/datapath/datapath.js";
import { createHash } from "node:crypto";
import { handoverJson } from "../src/handover/report.js";
import { parseHandoverConfig, type HandoverOptions } from "../src/handover/options.js";
import { parseCopyMode } from "../src/replay/copy-options.js";

const root = path.resolve(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "vnic-handover-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frames(file: string): CaptureFrame[] {
  const out: CaptureFrame[] = [];
  readCaptureFile(path.join(root, "captures", file), (f) => out.push({ ...f, data: new Uint8Array(f.data) }));
  return out;
}

/** 64-byte UDP frames with a 64 KiB TCP super-packet every 50, an oversize frame every 97 and a
 *  runt every 211: every path of the device, drops included. */
function writeMixed(file: string, count: number): CaptureFrame[] {
  const small = frames("udp-64.pcap");
  const large = frames("tcp-64k-v4.pcap");
  const big = frames("udp-1514.pcap")[0].data;
  const oversize = new Uint8Array(3000);
  oversize.set(big.subarray(0, 42));
  oversize[23] = 1; // IPv4 protocol ICMP: a UDP frame over the MTU is a USO large send now, not an oversize drop
  const runt = big.subarray(0, 9);
  const w = new PcapWriter(file);
  const out: CaptureFrame[] = [];
  for (let i = 0; i < count; i++) {
    const data = i % 211 === 7 ? runt : i % 97 === 5 ? oversize : i % 50 === 3 ? large[i % large.length].data : small[i % small.length].data;
    const f = { data, tsNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, origLen: data.length } as CaptureFrame;
    w.write(f.data, f.tsNs);
    out.push(f);
  }
  w.close();
  return out;
}

const mixed = path.join(dir, "mixed.pcap");
writeMixed(mixed, 3000);
const COPY_MODES = ["headers", "l3:10", "fixed:100", "full", "none"];
const baseParams = { mtu: 1500, nicMaxLso: 16384, maxSegments: 65535, fixedId: 0, csumOffload: 1, mss: 0 };

function handover(o: Partial<HandoverOptions>): ReplayOptions["handover"] {
  return { options: { every: 0, chaosKills: 0, chaosSeed: 1, maxConsecutiveFailures: 5, ...o }, firstConfig: "test" };
}

async function run(name: string, copy: string, extra: Partial<ReplayOptions> = {}, capture = mixed, params: Record<string, number> = {}) {
  const out = path.join(dir, name + ".pcap");
  const facts = await replay({ capture, out, params: { ...baseParams, ...parseCopyMode(copy), ...params }, loops: 4, limit: 0, ...extra });
  return { facts, bytes: readFileSync(out) };
}

/** A preloaded replay whose wire goes to a running SHA-256 (no disk): long runs stay cheap. */
async function replaySink(capture: string, loops: number, h?: ReplayOptions["handover"], withSink = true) {
  const all = frames(path.basename(capture));
  const dp = new Datapath(all.reduce((a, f) => a + 16 + ((f.data.length + 7) & ~7), 0), { loops, params: baseParams });
  for (const f of all) dp.placeFrame(f.data, f.tsNs);
  const digest = createHash("sha256");
  let count = 0;
  const sink = (data: Uint8Array, sec: number, nsec: number) => {
    digest.update(data);
    digest.update(`${sec}.${nsec}`);
    count++;
  };
  const run = await dp.run({ sink: withSink ? sink : undefined, handover: h });
  const books = checkBooks({ capture, framesInCapture: all.length, loops, elapsedSeconds: run.elapsedSeconds, snapshot: run.counters });
  return { frames: count, digest: digest.digest("hex"), books: books.problems, handover: run.handover, counters: run.counters.counters };
}

describe("chaos: device workers terminated at random points", () => {
  const references = new Map<string, Buffer>();
  const killPhases: Record<string, number> = {};
  let restarts = 0;

  it("the runs without chaos agree across copy modes (the reference)", async () => {
    for (const copy of COPY_MODES) {
      const r = await run("ref-" + copy.replace(":", ""), copy);
      expect(checkBooks(r.facts).balanced).toBe(true);
      references.set(copy, r.bytes);
    }
    expect(new Set([...references.values()].map((b) => b.toString("base64"))).size).toBe(1);
  }, 60_000);

  it.each(Array.from({ length: 20 }, (_, i) => i + 1))("seed %i: --out byte-identical, books balanced, nothing stranded", async (seed) => {
    const copy = COPY_MODES[seed % COPY_MODES.length];
    // Paced, so that a run lasts long enough for its kills (a restart cycle is a thread start).
    const r = await run(`chaos-${seed}`, copy, { pace: { kind: "pps", rate: 50_000 }, handover: handover({ chaosKills: 3, chaosSeed: seed }) });
    const h = handoverJson(r.facts.handover!);
    restarts += h.restarts.count;
    for (const [k, v] of Object.entries(h.killPhases)) killPhases[k] = (killPhases[k] ?? 0) + v;
    expect(h.restarts.count).toBeGreaterThanOrEqual(1); // the first kill has a warm standby at once
    expect(checkBooks(r.facts).problems).toEqual([]);
    expect(r.facts.snapshot.counters.stranded).toBe(0n);
    expect(r.facts.snapshot.drops.oversize).toBeGreaterThan(0n);
    expect(r.facts.snapshot.drops.runt).toBeGreaterThan(0n);
    expect(r.bytes.equals(references.get(copy)!)).toBe(true);
  }, 30_000);

  it("at top speed, 64 KiB super-packets through both LSO stages: 12 kills, the same wire", async () => {
    const tcp = path.join(root, "captures", "tcp-64k-v4.pcap");
    const hash = async (h?: ReplayOptions["handover"]) => {
      const facts = await replaySink(tcp, 150, h);
      return facts;
    };
    const ref = await hash();
    const r = await hash(handover({ chaosKills: 12, chaosSeed: 99 }));
    const h = handoverJson(r.handover!);
    restarts += h.restarts.count;
    for (const [k, v] of Object.entries(h.killPhases)) killPhases[k] = (killPhases[k] ?? 0) + v;
    expect(h.restarts.count).toBeGreaterThan(0);
    expect(r.frames).toBe(ref.frames);
    expect(r.digest).toBe(ref.digest);
    expect(r.books).toEqual([]);
  }, 30_000);

  it("in discard mode (no consumer to wait for, so kills land inside the stages): the same wire counts", async () => {
    const tcp = path.join(root, "captures", "tcp-64k-v4.pcap");
    const ref = await replaySink(tcp, 400, undefined, false);
    const r = await replaySink(tcp, 400, handover({ chaosKills: 12, chaosSeed: 7 }), false);
    const h = handoverJson(r.handover!);
    restarts += h.restarts.count;
    for (const [k, v] of Object.entries(h.killPhases)) killPhases[k] = (killPhases[k] ?? 0) + v;
    expect(h.restarts.count).toBeGreaterThan(0);
    for (const k of ["wireFrames", "wireBytes", "segments", "stage1Chunks", "devicePackets", "deviceCompleted"]) {
      expect([k, r.counters[k]]).toEqual([k, ref.counters[k]]);
    }
    expect(r.books).toEqual([]);
  }, 30_000);

  it("killed devices, and where the kills landed", () => {
    console.log(`chaos: ${restarts} restarts over 20 seeds; kill points: ${JSON.stringify(killPhases)}`);
    expect(restarts).toBeGreaterThanOrEqual(20);
    // Not all in the idle loop: kills landed inside the stages' bursts too.
    const inStages = Object.entries(killPhases).filter(([k]) => k !== "loop" && k !== "none").reduce((a, [, v]) => a + v, 0);
    expect(inStages).toBeGreaterThan(0);
  });
});

describe("cooperative hand-over", () => {
  it("every 500 descriptors: the wire is the same as without, and the report has each hand-over", async () => {
    const plain = await run("plain", "headers", { loops: 2 });
    const r = await run("every500", "headers", { loops: 2, handover: handover({ every: 500 }) });
    const h = handoverJson(r.facts.handover!);
    expect(h.handovers.count).toBe(6000 / 500); // the last device hands over at 6000 too
    expect(h.handovers.held.each).toHaveLength(12);
    expect(h.restarts.count).toBe(0);
    expect(checkBooks(r.facts).problems).toEqual([]);
    expect(r.bytes.equals(plain.bytes)).toBe(true);
  }, 30_000);

  it("a hand-over that changes the configuration changes the wire from that descriptor on, exactly as two replays of the halves", async () => {
    // fixed-id changes the IPv4 IDs of every segment (wire-visible); copy and coalescing do not
    // change the wire but must still apply. The guest's checksum request is its own setting.
    const all = frames("tcp-64k-v4.pcap");
    const cut = 10;
    const first = path.join(dir, "first.pcap");
    const second = path.join(dir, "second.pcap");
    for (const [file, part] of [[first, all.slice(0, cut)], [second, all.slice(cut)]] as const) {
      const w = new PcapWriter(file);
      for (const f of part) w.write(f.data, f.tsNs);
      w.close();
    }
    const cfg = "copy=full,coalesce=none,fixed-id=on,nic-max-lso=65536";
    const params = parseHandoverConfig(cfg, (n) => ({ POLICY_ADAPTIVE: 0, POLICY_NONE: 1, POLICY_COUNT: 2, POLICY_COUNT_USECS: 3, POLICY_VIRTIO: 4 })[n]!);
    const tcp = path.join(root, "captures", "tcp-64k-v4.pcap");
    const r = await run("switch", "headers", { loops: 1, handover: { options: { every: cut, chaosKills: 0, chaosSeed: 1, maxConsecutiveFailures: 5, config: { params, text: cfg } }, firstConfig: "copy=headers" } }, tcp);
    const a = await run("half1", "headers", { loops: 1 }, first);
    const b = await run("half2", "full", { loops: 1, coalesce: { kind: "none" } }, second, { fixedId: 1, nicMaxLso: 65536 });
    const withoutSwitch = await run("noswitch", "headers", { loops: 1 }, tcp);
    const wire = (bytes: Buffer) => bytes.subarray(24);
    expect(r.bytes.equals(Buffer.concat([r.bytes.subarray(0, 24), wire(a.bytes), wire(b.bytes)]))).toBe(true);
    expect(r.bytes.equals(withoutSwitch.bytes)).toBe(false);
    expect(r.facts.handover!.segments).toEqual([{ fromDescriptor: 0, config: "copy=headers" }, { fromDescriptor: cut, config: cfg }]);
    expect(checkBooks(r.facts).problems).toEqual([]);
  }, 30_000);
});

describe("the guard", () => {
  it("a device that keeps dying at once ends the run with one clear error; what it sent is all there, once, in order", async () => {
    process.env.VNIC_HANDOVER_FAULT = "die-from:2";
    const out = path.join(dir, "guard.pcap");
    let error: unknown;
    try {
      await replay({ capture: mixed, out, params: { ...baseParams, copyMode: 0, copyBytes: 0 }, loops: 1, limit: 0, handover: handover({ every: 700 }) });
    } catch (e) {
      error = e;
    } finally {
      delete process.env.VNIC_HANDOVER_FAULT;
    }
    expect(error).toBeInstanceOf(DatapathError);
    expect((error as Error).message).toMatch(/^device stage failed: the device died 5 times in a row without doing any work \(last: its thread exited with code 70\)/);
    const counters = (error as DatapathError).counters.counters;
    expect(counters.deviceDescriptors).toBe(700n);
    // The output holds exactly what the first device transmitted: the reference's first frames.
    const got: Buffer[] = [];
    readCaptureFile(out, (f) => got.push(Buffer.from(f.data)));
    const ref = path.join(dir, "guard-ref.pcap");
    await replay({ capture: mixed, out: ref, params: { ...baseParams, copyMode: 0, copyBytes: 0 }, loops: 1, limit: 700 });
    const want: Buffer[] = [];
    readCaptureFile(ref, (f) => want.push(Buffer.from(f.data)));
    expect(BigInt(got.length)).toBe(counters.wireFrames);
    expect(got.length).toBe(want.length);
    expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
  }, 30_000);
});
