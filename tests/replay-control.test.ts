import { afterAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter, readCaptureFile } from "../src/capture/index.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const dir = mkdtempSync(path.join(tmpdir(), "vnic-control-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const captures = path.join(root, "captures");

function run(args: string[]) {
  const r = spawnSync(process.execPath, [vnic, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (args: string[]) => {
  const r = run([...args, "--json"]);
  expect(r.stderr).toBe("");
  return { code: r.code, j: JSON.parse(r.stdout) };
};

describe("streaming captures larger than --preload-limit", () => {
  it.each(["udp-64", "imix", "tcp-64k-v4", "bigtcp-185k-v6-hbh"])("gives output byte-identical to a preloaded replay (%s, 3 loops)", (name) => {
    const input = path.join(captures, `${name}.pcap`);
    const streamed = path.join(dir, `${name}-streamed.pcap`);
    const preloaded = path.join(dir, `${name}-preloaded.pcap`);
    const a = json(["replay", input, "--loop", "3", "--preload-limit", "0", "--out", streamed]);
    const b = json(["replay", input, "--loop", "3", "--out", preloaded]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.j.books.balanced).toBe(true);
    expect(a.j.packets.offered).toBe(b.j.packets.offered);
    expect(readFileSync(streamed).equals(readFileSync(preloaded))).toBe(true);
  });
});

describe("rate control", () => {
  it("--pps never runs ahead of the asked rate (anchored at the start) and prints asked beside achieved", () => {
    const r = run(["replay", path.join(captures, "udp-64.pcap"), "--pps", "20000", "--limit", "2001"]);
    expect(r.code).toBe(0);
    const m = /Actual: 2001 packets .* sent in ([\d.]+) seconds/.exec(r.stdout);
    expect(m).not.toBeNull();
    // Frame k is due at k / 20000 s: the last (k = 2000) not before 0.1 s.
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.1);
    expect(r.stdout).toMatch(/Pacing: asked 20000 pps, achieved [\d.]+ pps \([+-][\d.]+%\)/);
  });

  it("--pps reaches the asked rate within 1 % over three seconds (the schedule catches up, never drifts)", () => {
    // 60001 frames at 20000 pps: frame k is due at k / 20000 s, the last at 3 s. Any machine
    // does 20000 pps, so a shortfall here is the pacer losing time, not the machine's limit.
    // Three seconds, not one: 1 % of one second (10 ms) is within what a loaded 2-core machine
    // can hold a thread off its core at the very end, which no schedule can catch up (a
    // 17 ms stall was seen during `npm test`).
    const { code, j } = json(["replay", path.join(captures, "udp-64.pcap"), "--loop", "7", "--limit", "60001", "--pps", "20000"]);
    expect(code).toBe(0);
    expect(j.packets.offered).toBe(60001);
    expect(j.pacing).toMatchObject({ asked: 20000, unit: "pps" });
    expect(Math.abs(j.pacing.errorPct)).toBeLessThan(1);
  });

  it("--mbps never runs ahead of the asked rate", () => {
    const { j } = json(["replay", path.join(captures, "udp-1514.pcap"), "--mbps", "200"]);
    // 1200 frames × 1514 bytes at 200 Mbit/s: the last frame goes once the bytes before it fit.
    expect(j.elapsedSeconds).toBeGreaterThanOrEqual((1199 * 1514 * 8) / 200e6);
    expect(j.pacing).toMatchObject({ asked: 200, unit: "Mbps" });
  });

  it("--multiplier follows the capture's own timing, scaled", () => {
    const file = path.join(dir, "timed.pcap");
    const w = new PcapWriter(file);
    const frame = new Uint8Array(60);
    frame[12] = 0x88; frame[13] = 0xb5;
    for (let i = 0; i < 11; i++) w.write(frame, 1_000_000_000n + BigInt(i) * 50_000_000n); // 0.5 s of capture
    w.close();
    const { j } = json(["replay", file, "--multiplier", "2"]);
    expect(j.elapsedSeconds).toBeGreaterThanOrEqual(0.25);
    expect(j.wire.frames).toBe(11);
  });

  it("--duration stops a replay that would run for ever (--loop 0), with balanced books", () => {
    const { code, j } = json(["replay", path.join(captures, "udp-64.pcap"), "--loop", "0", "--duration", "0.5"]);
    expect(code).toBe(0);
    expect(j.books.balanced).toBe(true);
    expect(j.packets.posted).toBe(j.packets.completed);
    expect(j.packets.posted).toBeGreaterThan(10000);
  });

  it("--limit takes exactly N frames", () => {
    const { j } = json(["replay", path.join(captures, "imix.pcap"), "--loop", "5", "--limit", "12345"]);
    expect(j.packets.offered).toBe(12345);
    expect(j.books.balanced).toBe(true);
  });

  it("refuses two rates at once, and rates that are not positive numbers", () => {
    expect(run(["replay", path.join(captures, "udp-64.pcap"), "--pps", "10", "--mbps", "5"]).stderr).toMatch(/choose one of --topspeed, --pps, --mbps, --multiplier/);
    const r = run(["replay", path.join(captures, "udp-64.pcap"), "--pps", "-3"]);
    expect(r.code).toBe(2);
  });
});

describe("--guest-resident (buffers posted again on every loop, like pktgen)", () => {
  it.each(["udp-1514", "imix", "tcp-64k-v4"])("gives the same wire frames as a guest that copies every frame (%s, 4 loops)", (name) => {
    const input = path.join(captures, `${name}.pcap`);
    const a = path.join(dir, `${name}-resident.pcap`);
    const b = path.join(dir, `${name}-copying.pcap`);
    const r = json(["replay", input, "--loop", "4", "--guest-resident", "--out", a]);
    expect(r.code).toBe(0);
    expect(r.j.books.balanced).toBe(true);
    expect(json(["replay", input, "--loop", "4", "--out", b]).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it("refuses a capture that does not fit guest RAM, with one line and exit 2", () => {
    const r = run(["replay", path.join(captures, "udp-1514.pcap"), "--guest-resident", "--guest-ram", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--guest-resident needs the capture .* to fit guest RAM/);
  });
});

describe("reporting while it runs", () => {
  it("--stats N prints the current rates every N seconds; no progress bar when stderr is not a terminal", () => {
    const r = run(["replay", path.join(captures, "udp-64.pcap"), "--pps", "20000", "--limit", "12000", "--stats", "0.2"]);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split("\n").filter((l) => l.startsWith("Stats: "));
    expect(lines.length).toBeGreaterThanOrEqual(2); // 0.6 s of replay at one line per 0.2 s
    for (const l of lines) expect(l).toMatch(/^Stats: [\d.]+ s: \d+ packets, \d+ bytes; now [\d.]+ Mpps, [\d.]+ Gbit\/s$/);
    expect(r.stderr).not.toMatch(/\r\[/);
  });
});

describe("link types other than Ethernet", () => {
  it("get one clear line and exit 2", () => {
    // 802.11 (105): no Ethernet header can be made for it (Linux cooked, raw IP and loopback
    // are relinked instead: tests/capture-real.test.ts).
    const file = path.join(dir, "wlan.pcap");
    const w = new PcapWriter(file, { linkType: 105 });
    w.write(new Uint8Array(40), 0n);
    w.close();
    const r = run(["replay", file]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/link type 105 \(802.11\) is not Ethernet and cannot be made Ethernet/);
  });
});

describe("Ctrl-C", () => {
  it("stops posting, finishes what is in flight, prints the summary and leaves a finished capture", async () => {
    const out = path.join(dir, "sigint.pcap");
    const child = spawn(process.execPath, [vnic, "replay", path.join(captures, "udp-64.pcap"), "--loop", "0", "--out", out, "--json"]);
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    setTimeout(() => child.kill("SIGINT"), 1500);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(130);
    const j = JSON.parse(stdout);
    expect(j.books.balanced).toBe(true);
    let frames = 0;
    readCaptureFile(out, () => frames++); // throws if any record is cut short
    expect(frames).toBe(j.wire.frames);
    expect(frames).toBeGreaterThan(0);
  });
});
