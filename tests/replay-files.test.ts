// Issue 15, "files are never lost or left half-written" and "habits of tcpreplay users":
// --out / --report checked before the run and written through a temporary file; write errors
// as one line with the summary so far; tcpreplay's options; vnic alone; gen's tcp default.

import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter, readCaptureFile } from "../src/capture/index.js";
import { translateTcpreplayOptions, TcpreplayOptionError } from "../src/cli/tcpreplay-options.js";
import { pattern } from "./helpers/core.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const dir = mkdtempSync(path.join(tmpdir(), "vnic-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [vnic, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** IPv4/UDP frames of `size` bytes (valid enough for the datapath; checksums are not asked for). */
function writeCapture(file: string, count: number, size: number): void {
  const w = new PcapWriter(file);
  for (let i = 0; i < count; i++) {
    const f = pattern(size, i);
    f.set([0x08, 0x00, 0x45, 0x00, ((size - 14) >> 8) & 0xff, (size - 14) & 0xff], 12);
    f[14 + 9] = 17;
    w.write(f, 1_700_000_000_000_000_000n + BigInt(i) * 1000n);
  }
  w.close();
}

const input = path.join(dir, "in.pcap");
writeCapture(input, 2000, 1514);
const inputBytes = readFileSync(input);

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string, ...parts: (string | RegExp)[]): void {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |internal error/);
  for (const p of parts) expect(lines[0]).toMatch(p);
}

describe("--out never destroys the input", () => {
  it.each([
    ["the same path", () => input],
    ["a hard link to it", () => { const l = path.join(dir, "hard.pcap"); if (!existsSync(l)) linkSync(input, l); return l; }],
    ["a symbolic link to it", () => { const l = path.join(dir, "soft.pcap"); if (!existsSync(l)) symlinkSync(input, l); return l; }],
    ["a path through ..", () => path.join(dir, "sub", "..", "in.pcap")],
  ])("refuses --out naming %s, before anything runs (exit 2)", (_what, target) => {
    mkdirSync(path.join(dir, "sub"), { recursive: true });
    const r = run(["replay", input, "--out", target()]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /is the input .* itself \(same file\)/);
    expect(r.stdout).toBe("");
    expect(readFileSync(input).equals(inputBytes)).toBe(true);
  });
});

describe("paths are checked before the run", () => {
  it("a missing folder for --out or --report fails at once with one line (exit 2)", () => {
    for (const opt of ["--out", "--report"]) {
      const r = run(["replay", input, opt, path.join(dir, "no-such-folder", "x")]);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, `${opt}: folder`, /does not exist/);
      expect(r.stdout).toBe(""); // nothing ran: no summary
    }
  });

  it("--out naming a folder is refused", () => {
    const r = run(["replay", input, "--out", dir]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /names a folder/);
  });
});

describe("write errors: one line, the summary so far, exit 1, no cut file", () => {
  it.skipIf(!existsSync("/dev/full"))("--out /dev/full", () => {
    const r = run(["replay", input, "--out", "/dev/full"]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, "/dev/full", /ENOSPC/);
    expect(r.stdout).toMatch(/^Actual: /); // the summary so far
    expect(r.stdout).toMatch(/Books: /);
  });

  it("--report /dev/full", () => {
    if (!existsSync("/dev/full")) return console.log("no /dev/full: skipped");
    const r = run(["replay", input, "--report", "/dev/full"]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, "/dev/full", /ENOSPC/);
    expect(r.stdout).toMatch(/^Actual: /);
  });

  it("a file system that fills up mid-run leaves the old target and no temporary file", () => {
    const mnt = path.join(dir, "small");
    mkdirSync(mnt, { recursive: true });
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "vnr-small", mnt]);
    if (m.status !== 0) return console.log(`cannot mount a small tmpfs (${m.stderr?.toString().trim()}): skipped`);
    try {
      const target = path.join(mnt, "out.pcap");
      writeFileSync(target, "the previous run's output\n");
      const r = run(["replay", input, "--out", target]); // 3 MB into 256 KiB
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, target, /ENOSPC/, /was not written/);
      expect(readFileSync(target, "utf8")).toBe("the previous run's output\n");
      expect(readdirSync(mnt)).toEqual(["out.pcap"]);
      // The same for gen, the other command that writes captures.
      const g = run(["gen", "--kind", "udp", "--size", "1514", "--count", "2000", "--out", target]);
      expect(g.code).toBe(1);
      expect(g.stderr.trim().split("\n")).toHaveLength(1);
      expect(g.stderr).toMatch(/ENOSPC/);
      expect(readFileSync(target, "utf8")).toBe("the previous run's output\n");
      expect(readdirSync(mnt)).toEqual(["out.pcap"]);
      // Read-only: refused before the run.
      expect(spawnSync("mount", ["-o", "remount,ro", mnt]).status).toBe(0);
      const ro = run(["replay", input, "--out", target]);
      expect(ro.code).toBe(2);
      expectOneLine(ro.stderr, /cannot write in folder/, /EROFS/);
      expect(ro.stdout).toBe("");
    } finally {
      spawnSync("umount", [mnt]);
    }
  });

  it("a finished run replaces the target whole, and leaves no temporary file", () => {
    const out = path.join(dir, "done", "out.pcap");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, "old");
    const r = run(["replay", input, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    let frames = 0;
    readCaptureFile(out, () => frames++);
    expect(frames).toBe(2000);
    expect(readdirSync(path.dirname(out))).toEqual(["out.pcap"]);
  });
});

describe("--report", () => {
  it("says where it wrote the report, on stdout", () => {
    const report = path.join(dir, "r.html");
    const r = run(["replay", input, "--report", report]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote report to ${report}\n`);
    expect(readFileSync(report, "utf8")).toMatch(/^<!doctype html>/i);
  });
});

describe("tcpreplay's options", () => {
  it("translates each alias in every spelling tcpreplay accepts", () => {
    expect(translateTcpreplayOptions(["-t", "-l", "3", "-L5", "-p", "100", "--pps=200", "-M", "9", "-x", "2", "-K", "-q", "-v", "f.pcap"]))
      .toEqual(["--topspeed", "--loop", "3", "--limit", "5", "--pps", "100", "--pps=200", "--mbps", "9", "--multiplier", "2",
        "--preload-limit", String(1 << 20), "--quiet", "--verbose", "f.pcap"]);
    expect(() => translateTcpreplayOptions(["--intf2", "eth1"])).toThrow(TcpreplayOptionError);
    expect(() => translateTcpreplayOptions(["-p"])).toThrow(/needs a value/);
    // -i is vnic's own option (another issue), never rewritten.
    expect(translateTcpreplayOptions(["-i", "x"])).toEqual(["-i", "x"]);
  });

  it("replays with -t -l 2 -L 3000 --stats=1 -q: tcpreplay's meaning, tcpreplay's two lines", () => {
    const r = run(["replay", "-t", "-l", "2", "-L", "3000", "--stats=1", "-q", input]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Actual: 3000 packets/);
    expect(lines[1]).toMatch(/^Rated: /);
  });

  it("-K preloads a capture larger than --preload-limit (not streamed)", () => {
    const r = run(["replay", "--preload-limit", "0", "-K", "--json", input]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).packets.read).toBe(2000);
  });

  it("an option vnic lacks gets one line saying what to use instead", () => {
    const r = run(["replay", "--mtu-trunc", input]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--mtu-trunc \(tcpreplay\) is not a vnic option: .*--mtu N/);
  });

  it("no raw argument-parser message reaches the user", () => {
    for (const [args, want] of [
      [["replay", "--frobnicate", input], "vnic: unknown option --frobnicate; see --help"],
      [["replay", input, "--out"], "vnic: --out needs a value; see --help"],
      [["replay", input, "--json=yes"], "vnic: --json takes no value; see --help"],
    ] as const) {
      const r = run([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(want);
    }
  });

  it("-v prints every transmitted frame decoded by tcpdump", () => {
    if (spawnSync("tcpdump", ["--version"]).status !== 0) return console.log("no tcpdump: -v test skipped");
    const r = run(["replay", "-v", "-L", "5", input]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter((l) => / IP /.test(l))).toHaveLength(5);
  });
});

describe("--fail-on-drop", () => {
  it("exits 1 when a frame was dropped, 0 when none was", () => {
    const big = path.join(dir, "big.pcap");
    writeCapture(big, 3, 1514);
    const ok = run(["replay", big, "--fail-on-drop"]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = run(["replay", big, "--mtu", "1000", "--fail-on-drop"]); // UDP frames over the MTU: oversize
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("vnic: --fail-on-drop: 3 dropped");
    expect(run(["replay", big, "--mtu", "1000"]).code).toBe(0); // without the flag a drop is counted, not a failure
  });
});

describe("first contact", () => {
  it("vnic alone prints help and exits 0", () => {
    const r = run([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^vnic — /);
  });

  it("vnic gen --kind tcp writes a few MB by default, not gigabytes", () => {
    const out = path.join(dir, "tcp.pcap");
    const r = run(["gen", "--kind", "tcp", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 256 frames, /);
    expect(readFileSync(out).length).toBeLessThan(32 << 20);
  });
});
