// Faults: a stage worker that throws or dies mid-replay, backpressure instead of drops, and
// Ctrl-C. Worker faults are injected with the stage option `fault` (src/workers/stage-fault.ts)
// (in-process) or VNIC_STAGE_FAULT="<stage>:<throw|exit>:<steps>" (whole CLI).

import { afterAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter, readCaptureFile } from "../src/capture/index.js";
import { Datapath, DatapathError } from "../src/datapath/datapath.js";
import { totalDrops } from "../src/core/counters.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const dir = mkdtempSync(path.join(tmpdir(), "vnic-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** IPv4/UDP frames of `size` bytes whose payload starts with their index (self-checking). */
function frame(i: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, (size - 14) >> 8, (size - 14) & 0xff], 0);
  f[14 + 8] = 64;
  f[14 + 9] = 17;
  new DataView(f.buffer).setUint32(42, i);
  for (let k = 46; k < size; k++) f[k] = (k * 13 + i) & 0xff;
  return f;
}

function writeCapture(file: string, count: number, size: (i: number) => number): Uint8Array[] {
  const w = new PcapWriter(file);
  const frames = Array.from({ length: count }, (_, i) => frame(i, size(i)));
  frames.forEach((f, i) => w.write(f, 1_700_000_000_000_000_000n + BigInt(i) * 1000n));
  w.close();
  return frames;
}

function datapathWith(frames: number, loops: number, config: ConstructorParameters<typeof Datapath>[1] = {}): Datapath {
  const dp = new Datapath(frames * 96, { loops, ...config });
  for (let i = 0; i < frames; i++) dp.placeFrame(frame(i, 64), BigInt(i));
  return dp;
}

const threadHandles = () => process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "Worker").length;

describe("a stage worker that fails mid-replay", () => {
  it.each([
    ["guest", "throws", { fault: { kind: "throw", afterSteps: 300 } }, /^guest stage failed: injected failure after 300 steps/],
    ["device", "throws", { fault: { kind: "throw", afterSteps: 300 } }, /^device stage failed: injected failure after 300 steps/],
    ["guest", "is terminated (process.exit in the worker)", { fault: { kind: "exit", afterSteps: 300 } }, /^guest stage failed: worker exited with code: 70/],
    ["device", "is terminated (process.exit in the worker)", { fault: { kind: "exit", afterSteps: 300 } }, /^device stage failed: worker exited with code: 70/],
  ] as const)("the %s stage %s: the run stops within a second, names the stage, keeps the counters, leaves no thread", async (stage, _how, fault, message) => {
    const handlesBefore = threadHandles();
    const dp = datapathWith(2000, 1000); // 2·10^6 frames: far longer than the fault takes
    const t0 = performance.now();
    const err = await dp.run({ stages: { [stage]: fault } }).then(() => undefined, (e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(DatapathError);
    const e = err as DatapathError;
    expect(e.stage).toBe(stage);
    expect(e.message).toMatch(message);
    expect(ms).toBeLessThan(1000 + 500); // ≤ 1 s after the fault, pool start-up included
    // The counters up to the failure: traffic had moved, and nothing was invented.
    const c = e.counters.counters;
    expect(c.guestPosted).toBeGreaterThan(0n);
    expect(c.guestCompleted).toBeLessThanOrEqual(c.guestPosted);
    expect(c.deviceCompleted).toBeLessThanOrEqual(c.deviceDescriptors);
    expect(c.guestPosted).toBeLessThan(2_000_000n);
    // No worker left behind (piscina's replacement worker included).
    expect(threadHandles()).toBeLessThanOrEqual(handlesBefore);
  });

  it.each(["guest:throw:300", "device:throw:300", "guest:exit:300", "device:exit:300"])(
    "the CLI with VNIC_STAGE_FAULT=%s exits 1 promptly with the stage and the counters so far",
    (fault) => {
      const input = path.join(dir, "fault-in.pcap");
      writeCapture(input, 2000, () => 64);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [vnic, "replay", input, "--loop", "1000", "--out", path.join(dir, "fault-out.pcap")], {
        encoding: "utf8",
        timeout: 20_000,
        env: { ...process.env, VNIC_STAGE_FAULT: fault },
      });
      const ms = performance.now() - t0;
      expect(r.signal).toBeNull(); // it exited by itself: no hang, no thread keeping it alive
      expect(r.status).toBe(1);
      const stage = fault.split(":")[0];
      expect(r.stderr).toMatch(new RegExp(`^vnic: ${stage} stage failed: (injected failure|worker exited)`, "m"));
      expect(r.stderr).toMatch(/counters so far: posted \d+, completed \d+, wire frames \d+/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(ms).toBeLessThan(8_000); // node start-up + capture load + ≤ 1 s of stopping
    },
  );
});

describe("full rings and an exhausted buffer pool are backpressure, never a drop", () => {
  it("2-slot rings, a 1 MiB wire and a slow capture writer: every frame arrives, in order, none dropped", async () => {
    const n = 3000;
    const dp = new Datapath(n * 1600, { ringSlots: 2, wireBytes: 1 << 20 });
    const sent = Array.from({ length: n }, (_, i) => frame(i, i % 3 === 0 ? 1514 : 60 + (i % 700)));
    sent.forEach((f, i) => dp.placeFrame(f, BigInt(i)));
    const got: Uint8Array[] = [];
    const r = await dp.run({
      sink: (data) => {
        got.push(data.slice());
        // 200 µs per frame: far slower than the device even when it ping-pongs two frames
        // through sleeping threads (20 µs was not, on a quiet machine), so the wire must fill.
        const until = performance.now() + 0.2;
        while (performance.now() < until);
      },
    });
    const c = r.counters.counters;
    expect(totalDrops(r.counters)).toBe(0n);
    expect(c.guestPosted).toBe(BigInt(n));
    expect(c.devicePackets).toBe(BigInt(n));
    expect(got.length).toBe(n);
    got.forEach((f, i) => expect(Buffer.compare(f, sent[i]), `frame ${i}`).toBe(0));
    // Backpressure did happen: at the wire (the NIC stalled with the physical ring — and so every
    // pool buffer, one per physical slot — held) and at the guest (ring full / 2 in flight).
    // With the guest's in-flight limit equal to the ring size the translate stage finds its input
    // empty before it could find the physical ring full; that case is tests/translate.test.ts's
    // "backpressures on a full physical ring instead of dropping".
    expect(c.wireFull).toBeGreaterThan(0n);
    expect(c.guestRingFull).toBeGreaterThan(0n);
  }, 30_000);

  it("vnic replay --ring-slots 2 --out: the output capture is byte-identical to the input", () => {
    const input = path.join(dir, "bp-in.pcap");
    const out = path.join(dir, "bp-out.pcap");
    writeCapture(input, 2000, (i) => (i % 5 === 0 ? 1514 : 64 + (i % 900)));
    const r = spawnSync(process.execPath, [vnic, "replay", input, "--ring-slots", "2", "--out", out, "--json"], { encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.dropped.total).toBe(0);
    expect(j.packets.transmitted).toBe(2000);
    expect(j.books.balanced).toBe(true);
    expect(readFileSync(out).equals(readFileSync(input))).toBe(true);
  });
});

describe("Ctrl-C", () => {
  it("SIGINT after ~1 s: summary so far, books balanced, exit 130, a finished output capture", async () => {
    const input = path.join(dir, "big.pcap");
    const out = path.join(dir, "sigint-out.pcap");
    const frames = writeCapture(input, 10_000, () => 64);
    // --loop 0 (until stopped): 1000 loops (10^7 frames) sometimes finished within the second.
    const child = spawn(process.execPath, [vnic, "replay", input, "--loop", "0", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    child.kill("SIGINT");
    const { code, signal } = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => (child.kill("SIGKILL"), reject(new Error("no exit 10 s after SIGINT"))), 10_000)),
    ]);
    await new Promise((r) => setImmediate(r));
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(stderr).toMatch(/interrupted/);
    const actual = /^Actual: (\d+) packets \((\d+) bytes\) sent in [\d.]+ seconds$/m.exec(stdout);
    expect(actual, stdout).not.toBeNull();
    expect(stdout).toMatch(/^Rated: /m);
    expect(stdout).toMatch(/^Books: balanced/m);
    const sentFrames = Number(actual![1]);
    expect(sentFrames).toBeGreaterThan(0);
    // The output capture is finished: every record whole (the reader throws on a cut-short
    // one), as many as the summary says, each the input frame it should be.
    let i = 0;
    let bytes = 24;
    const info = readCaptureFile(out, (f) => {
      if (Buffer.compare(f.data, frames[i % frames.length]) !== 0) throw new Error(`output frame ${i} is not input frame ${i % frames.length}`);
      bytes += 16 + f.data.length;
      i++;
    });
    expect(info.frames).toBe(sentFrames);
    expect(statSync(out).size).toBe(bytes);
  }, 30_000);
});
