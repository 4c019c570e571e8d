import { afterAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter } from "../src/capture/index.js";
import { Datapath, DatapathError } from "../src/datapath/datapath.js";
import { pattern } from "./helpers/core.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const dir = mkdtempSync(path.join(tmpdir(), "vnic-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames of MTU size with an IPv4/UDP header on a pattern payload (1514 does not divide a
 *  4 KiB page, so most frames cross a guest page boundary). */
function writeCapture(file: string, count: number, size: number, nanosecond = false): Uint8Array[] {
  const w = new PcapWriter(file, { nanosecond });
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const f = pattern(size, i);
    f.set([0x08, 0x00, 0x45, 0x00, ((size - 14) >> 8) & 0xff, (size - 14) & 0xff], 12);
    f[14 + 9] = 17;
    w.write(f, 1_700_000_000_000_000_000n + BigInt(i) * 1234n);
    frames.push(f);
  }
  w.close();
  return frames;
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, [vnic, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vnic replay, end to end", () => {
  const input = path.join(dir, "mtu.pcap");
  writeCapture(input, 3000, 1514);

  it.each(["headers", "none", "full", "l3:10", "fixed:100"])(
    "writes an output capture byte-identical to the input (--copy %s)",
    (mode) => {
      const out = path.join(dir, `out-${mode.replace(":", "_")}.pcap`);
      const r = run(["replay", input, "--out", out, "--copy", mode]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Actual: 3000 packets \(4542000 bytes\) sent in \d+\.\d{6} seconds\nRated: [\d.]+ Bps, [\d.]+ Mbps, [\d.]+ pps\n/);
      expect(r.stdout).toMatch(/Books: balanced/);
      expect(readFileSync(out).equals(readFileSync(input))).toBe(true);
    },
  );

  it("keeps nanosecond timestamps when the input had them", () => {
    const nsIn = path.join(dir, "ns.pcap");
    const out = path.join(dir, "ns-out.pcap");
    writeCapture(nsIn, 50, 200, true);
    expect(run(["replay", nsIn, "--out", out]).code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(nsIn))).toBe(true);
  });

  it("prints the documented JSON keys, with balanced books, for a looped replay", () => {
    const r = run(["replay", input, "--json", "--loop", "3"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.packets).toMatchObject({ read: 3000, posted: 9000, completed: 9000 });
    expect(j.wire).toEqual({ frames: 9000, bytes: 9000 * 1514 });
    expect(j.dropped.total).toBe(0);
    expect(j.rate.pps).toBeGreaterThan(0);
    expect(j.copy.bytesCopied + j.copy.bytesReferenced).toBe(9000 * 1514);
    expect(j.interrupts.delivered).toBeGreaterThan(0);
    expect(j.books.balanced).toBe(true);
    expect(typeof j.elapsedSeconds).toBe("number");
    // The device thread's time, split by stage and sampled in the run itself.
    expect(j.device.sampledSteps).toBeGreaterThan(0);
    expect(j.device.backendNsPerPacket).toBeGreaterThan(0);
    expect(j.device.nicNsPerPacket).toBeGreaterThan(0);
    expect(j.device.backendMppsPerCore).toBeCloseTo(1e3 / j.device.backendNsPerPacket, 9);
    // Time can only be spent while the run lasts: both stages together fit in its elapsed time.
    expect((j.device.backendNsPerPacket + j.device.nicNsPerPacket) * 9000 / 1e9).toBeLessThan(j.elapsedSeconds);
  });

  it("counts frames longer than the MTU as dropped (oversize), and the books still balance", () => {
    const r = run(["replay", input, "--json", "--mtu", "1400"]);
    const j = JSON.parse(r.stdout);
    expect(r.code).toBe(0);
    expect(j.dropped.oversize).toBe(3000);
    expect(j.wire.frames).toBe(0);
    expect(j.books.balanced).toBe(true);
  });
});

describe("bad input gets one clear line and exit code 2", () => {
  const good = path.join(dir, "good.pcap");
  writeCapture(good, 5, 100);
  const bytes = readFileSync(good);

  it.each([
    ["a file that is not a capture", Buffer.from("hello, this is not a capture file at all\n"), /at byte 0: not a pcap/],
    ["an empty file", Buffer.alloc(0), /empty/],
  ])("%s", (_what, content, message) => {
    const f = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.pcap`);
    writeFileSync(f, content);
    const r = run(["replay", f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(f);
    expect(lines[0]).toMatch(message);
  });

  it("a capture cut short inside its last record: the complete records replay with a warning; --strict refuses", () => {
    const f = path.join(dir, "cut.pcap");
    writeFileSync(f, bytes.subarray(0, bytes.length - 7));
    const r = run(["replay", f, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).packets.read).toBe(4);
    expect(JSON.parse(r.stdout).damagedTail).toMatchObject({ offset: 24 + 4 * 116 });
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^vnic: warning: .*cut\.pcap: at byte 488: record of 100 bytes cut short: 7 bytes missing; replayed the 4 complete frames/);
    const strict = run(["replay", f, "--strict"]);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toBe("");
    expect(strict.stderr.trim().split("\n")).toHaveLength(1);
    expect(strict.stderr).toMatch(/at byte 488: .*cut short.*7 bytes missing/);
  });

  it("a missing file", () => {
    const r = run(["replay", path.join(dir, "nope.pcap")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("an unknown flag or a bad value", () => {
    expect(run(["replay", good, "--frobnicate"]).code).toBe(2);
    expect(run(["replay", good, "--copy", "most"]).stderr).toMatch(/unknown mode "most"/);
    expect(run(["replay", good, "--ring-slots", "1000"]).stderr).toMatch(/power of two/);
  });

  it("--help explains every flag", () => {
    const r = run(["replay", "--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--out", "--mtu", "--copy", "--loop", "--limit", "--json"]) expect(r.stdout).toContain(flag);
  });
});

describe("a stage that fails", () => {
  it.each(["guest", "device"] as const)("ends the run within a second with an error naming the %s stage", async (stage) => {
    const frames = 2000;
    const dp = new Datapath(frames * 80, { loops: 1000 });
    const f = pattern(64, 1);
    for (let i = 0; i < frames; i++) dp.placeFrame(f, BigInt(i));
    const t0 = Date.now();
    const err = await dp.run({ stages: { [stage]: { fault: { kind: "throw", afterSteps: 200 } } } }).catch((e) => e);
    expect(err).toBeInstanceOf(DatapathError);
    expect(err.stage).toBe(stage);
    expect(err.message).toMatch(new RegExp(`^${stage} stage failed: injected failure`));
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
