// The generator: exact sizes and mixes, checksums verified by an independent parser,
// TSO super-packets shaped like Linux's, determinism, and the bundled captures.
import { IMIX, IMIX_CYCLE } from "../src/capture/imix.js";
import { describe, it, expect, vi, afterEach } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { generateFrames, checkOptions, GEN_DEFAULTS, type GenOptions } from "../src/capture/generate.js";
import { runGen, BUNDLED, parseGenArgs } from "../src/cli/gen.js";
import { readCaptureFile } from "../src/capture/index.js";
import { parseFrame } from "./gen-parse.js";
import { dir } from "./capture-bytes.js";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, "..");
const SHARED = join(ROOT, "..", "shared", "captures");

const opts = (o: Partial<GenOptions>): GenOptions => ({ ...GEN_DEFAULTS, ...o });
/** Copies each frame as it comes: `data` is only valid until the next one. */
function all(o: Partial<GenOptions>) {
  const out: { data: Uint8Array; tsNs: bigint }[] = [];
  for (const f of generateFrames(opts(o))) out.push({ data: Uint8Array.from(f.data), tsNs: f.tsNs });
  return out;
}
const concat = (fs: { data: Uint8Array }[]) => Buffer.concat(fs.map((f) => f.data));

afterEach(() => vi.restoreAllMocks());

describe("fully formed UDP frames", () => {
  for (const ip of ["4", "6", "mix"] as const) {
    for (const vlan of [undefined, 100]) {
      it(`imix over IPv${ip}${vlan ? " with VLAN" : ""}: 7:4:1, valid checksums, sequence numbers`, () => {
        const fr = all({ kind: "imix", count: 240, ip, vlan, vlanShare: 0.5 });
        const sizes: Record<number, number> = {};
        fr.forEach((f, i) => {
          const p = parseFrame(f.data);
          expect(p.proto).toBe(17);
          if (!p.v6) expect(p.ipHeaderOk).toBe(true);
          expect(p.full).toBe(0xffff); // UDP checksum verifies
          expect(p.ipLenField).toBe(p.v6 ? p.l4Len : p.l4Len + 20);
          if (f.data.length - p.l4 - 8 >= 4) expect(Buffer.from(f.data).readUInt32BE(p.l4 + 8)).toBe(i);
          const size = f.data.length === 66 ? 64 : f.data.length; // IPv6 + VLAN cannot be 64
          sizes[size] = (sizes[size] ?? 0) + 1;
        });
        expect(sizes).toEqual({ 64: 140, 576: 80, 1500: 20 });
        if (ip === "mix") expect(new Set(fr.map((f) => parseFrame(f.data).v6))).toEqual(new Set([false, true]));
        if (vlan) {
          const tagged = fr.map((f) => parseFrame(f.data)).filter((p) => p.vlan === 100);
          expect(tagged.length).toBeGreaterThan(0);
          expect(tagged.length).toBeLessThan(fr.length);
          if (ip === "mix") expect(new Set(tagged.map((p) => p.v6))).toEqual(new Set([false, true]));
        }
      });
    }
  }
  it("fixed-size frames are exactly --size bytes, Ethernet header included", () => {
    for (const size of [42, 64, 1514, 9018]) {
      const fr = all({ kind: "udp", size, count: 20 });
      expect(fr.every((f) => f.data.length === size && parseFrame(f.data).full === 0xffff)).toBe(true);
    }
    expect(checkOptions(opts({ kind: "udp", size: 41 }))).toBe("--size must be 42..65549 for these headers (got 41)");
    expect(checkOptions(opts({ kind: "udp", size: 64, ip: "6", vlan: 1 }))).toBe("--size must be 66..65589 for these headers (got 64)");
  });
  it("literal bytes of the first 64-byte frame's headers", () => {
    const f = all({ kind: "udp", size: 64, count: 1, seed: 7 })[0].data;
    const h = Buffer.from(f.subarray(12, 42)).toString("hex");
    // ethertype IPv4 | 45 00, total 50, id, no DF, ttl 64, UDP | ... | UDP len 30
    expect(h.slice(0, 4)).toBe("0800");
    expect(h.slice(4, 12)).toBe("45000032");
    expect(h.slice(16, 24)).toBe("00004011");
    expect(h.slice(48, 56)).toBe("0009001e"); // dport 9, length 30
  });
});

describe("TCP super-packets", () => {
  it("64 KiB over IPv4 looks like Linux's: 45 × 1448, IDs by segments, seq by payload, PSH on each flow's last", () => {
    const fr = all({ kind: "tcp", superSize: 65536, count: 6, flows: 2 }).map((f) => ({ ...parseFrame(f.data), len: f.data.length }));
    for (const p of fr) {
      expect(p.len).toBe(65226); // what Linux posts: see ../shared/captures/linux-gso/v4-64k.in.pcap
      expect([p.ipLenField, p.ipHeaderOk, p.df, p.tcp!.dataOff, p.tcp!.optKind]).toEqual([65212, true, true, 32, 8]);
      expect(p.checksumField).toBe(p.pseudo); // partial checksum: the folded pseudo-header sum
    }
    for (const flow of [0, 1]) {
      const f = fr.filter((_, i) => i % 2 === flow);
      expect(f.map((p) => (p.ipId! - f[0].ipId! + 65536) % 65536)).toEqual([0, 45, 90]);
      expect(f.map((p) => (p.tcp!.seq - f[0].tcp!.seq) >>> 0)).toEqual([0, 65160, 130320]);
      expect(f.map((p) => p.tcp!.flags)).toEqual([0x10, 0x10, 0x18]);
    }
  });
  it("185 KB BIG TCP: IPv4 total length 0, IPv6 payload length 0, and the RFC 2675 jumbo option when asked", () => {
    const v4 = parseFrame(all({ kind: "tcp", superSize: 185000, count: 1 })[0].data);
    expect([v4.ipLenField, v4.l4Len, v4.ipHeaderOk, v4.checksumField === v4.pseudo]).toEqual([0, 32 + 127 * 1448, true, true]);
    const v6 = parseFrame(all({ kind: "tcp", superSize: 185000, count: 1, ip: "6" })[0].data);
    expect([v6.ipLenField, v6.hbhJumbo, v6.l4Len, v6.checksumField === v6.pseudo]).toEqual([0, undefined, 32 + 129 * 1428, true]);
    const hbh = parseFrame(all({ kind: "tcp", superSize: 185000, count: 1, ip: "6", jumboHbh: true })[0].data);
    expect([hbh.ipLenField, hbh.hbhJumbo, hbh.l4Len]).toEqual([0, 8 + 32 + 129 * 1428, 32 + 129 * 1428]);
    const small = parseFrame(all({ kind: "tcp", superSize: 65536, count: 1, ip: "6", jumboHbh: true })[0].data);
    expect([small.ipLenField, small.hbhJumbo]).toEqual([32 + 45 * 1428, undefined]); // jumbo only over 65535
  });
  it.skipIf(!existsSync(SHARED))(`uses the partial checksum Linux posts (real captures in ${SHARED}${existsSync(SHARED) ? "" : ": skipped, not found"})`, () => {
    let supers = 0;
    for (const file of ["linux-gso/v4-64k.in.pcap", "conformance/bigtcp-ipv4.pcap", "conformance/bigtcp-ipv6-hbh.pcap"]) {
      readCaptureFile(join(SHARED, file), (f) => {
        if (f.data.length <= 1514) return;
        const p = parseFrame(Uint8Array.from(f.data));
        expect(p.checksumField).toBe(p.pseudo);
        supers++;
      });
    }
    expect(supers).toBeGreaterThan(50);
  });
  it("refuses a super-packet with no room for one MSS", () => {
    expect(checkOptions(opts({ kind: "tcp", superSize: 1000 }))).toBe("--super 1000 leaves no room for one MSS of 1448 bytes");
  });
});

describe("determinism", () => {
  it("same options and seed give identical bytes and timestamps; another seed does not", () => {
    for (const o of [{ kind: "imix" as const, count: 300, ip: "mix" as const, vlan: 7 }, { kind: "tcp" as const, count: 3, superSize: 185000 }]) {
      const a = all({ ...o, seed: 42 });
      const b = all({ ...o, seed: 42 });
      expect(concat(a).equals(concat(b))).toBe(true);
      expect(a.map((f) => f.tsNs)).toEqual(b.map((f) => f.tsNs));
      expect(concat(all({ ...o, seed: 43 })).equals(concat(a))).toBe(false);
    }
  });
  it("each bundled capture in captures/ regenerates byte for byte, and the README gives its command", async () => {
    const readme = readFileSync(join(ROOT, "captures", "README.md"), "utf8");
    for (const b of BUNDLED) {
      const out = join(dir, b.file);
      expect(await runGenQuiet([...b.args, "--out", out])).toBe(0);
      expect(readFileSync(out).equals(readFileSync(join(ROOT, "captures", b.file))), b.file).toBe(true);
      expect(readme).toContain(`node dist/src/cli/gen.js ${b.args.join(" ")} --out captures/${b.file}`);
    }
  });
});

async function runGenQuiet(argv: string[]): Promise<number> {
  vi.spyOn(console, "log").mockImplementation(() => {});
  return runGen(argv);
}

describe("runGen", () => {
  it("prints help, naming the frame-size convention", async () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    expect(await runGen(["--help"])).toBe(0);
    expect(String(out.mock.calls[0][0])).toMatch(/L2 frame size: Ethernet header \(and VLAN tag\)\s+included, FCS excluded/);
  });
  it("exits 2 with one line on bad options", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await runGen(["--kind", "udp", "--size", "20", "--out", join(dir, "x.pcap")])).toBe(2);
    expect(await runGen(["--kind", "bogus"])).toBe(2);
    expect(await runGen(["--kind", "udp"])).toBe(2);
    expect(err.mock.calls.map((c) => c[0])).toEqual([
      "vnic gen: --size must be 42..65549 for these headers (got 20) (see vnic gen --help)",
      'vnic gen: --kind must be udp, imix or tcp (got "bogus") (see vnic gen --help)',
      "vnic gen: --out FILE is required (see vnic gen --help)",
    ]);
  });
  it("writes a capture the readers accept, in ns when asked", async () => {
    const out = join(dir, "ns.pcap");
    expect(await runGenQuiet(["--kind", "udp", "--size", "128", "--count", "50", "--ns", "--out", out])).toBe(0);
    const info = readCaptureFile(out, (f) => expect(f.data.length).toBe(128));
    expect(info).toMatchObject({ nanosecond: true, frames: 50, linkType: 1 });
    expect(parseGenArgs(["--jumbo-hbh", "--vlan", "5"]).opts).toMatchObject({ jumboHbh: true, vlan: 5 });
  });
});

describe("the one IMIX", () => {
  it("the fixed benchmark cycle is 7:4:1 of the generator's sizes, with no two large frames adjacent", () => {
    const count = (s: number) => IMIX_CYCLE.filter((x) => x === s).length;
    expect(IMIX.map((p) => count(p.size))).toEqual(IMIX.map((p) => p.weight));
    expect(IMIX_CYCLE.length).toBe(IMIX.reduce((n, p) => n + p.weight, 0));
    IMIX_CYCLE.forEach((s, i) => { if (s !== 64) expect(IMIX_CYCLE[(i + 1) % IMIX_CYCLE.length]).toBe(64); });
  });
});
