// vnic replay --iface --wire-gather kernel (issue #14) through a veth pair between two
// namespaces made here: what the peer receives must be byte-identical, in order, to the run's
// --out, and --out identical to the same replay with --wire-gather nic, for each copy mode and
// for a host-side TSO capture; the books balance. The guest scribbles over every buffer as soon
// as its completion is visible (VNIC_GUEST_POISON), so a completion delivered before the pump
// had sent the frame would show on the peer; with the release not waiting
// (VNIC_GATHER_RELEASE_EARLY, test support) it does.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readCaptureFile } from "../src/capture/index.js";
import { countPcapRecords, createVethPair, inNs, PeerCapture, removeVethPair, VethPair, vethUnavailable } from "./helpers/veth.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const captures = path.join(root, "captures");
const gso = path.join(root, "..", "shared", "captures", "linux-gso");
const unavailable = vethUnavailable();
if (unavailable) console.log(`iface-gather: skipped: ${unavailable}`);

function frames(file: string): Buffer[] {
  const out: Buffer[] = [];
  readCaptureFile(file, (f) => out.push(Buffer.from(f.data)));
  return out;
}
const isTcp4 = (f: Buffer) => f.readUInt16BE(12) === 0x0800 && f[23] === 6;
function firstDiff(a: Buffer[], b: Buffer[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (!a[i].equals(b[i])) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

describe("--wire-gather usage", () => {
  const usage = (...args: string[]) => spawnSync(process.execPath, [vnic, "replay", path.join(captures, "imix.pcap"), ...args], { encoding: "utf8" });
  it("kernel needs --iface and no hand-over: one line each, exit 2", () => {
    for (const [args, line] of [
      [["--wire-gather", "kernel"], "--wire-gather kernel needs --iface"],
      [["--wire-gather", "kernel", "-i", "lo", "--handover-every", "100"], "cannot be combined with --handover-every or --chaos-device"],
      [["--wire-gather", "copy"], "--wire-gather takes nic, kernel"],
    ] as [string[], string][]) {
      const r = usage(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(line);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
  });
});

describe.skipIf(!!unavailable)("replay --iface --wire-gather kernel into a veth pair", () => {
  let pair: VethPair;
  let dir: string;
  beforeAll(() => {
    pair = createVethPair();
    dir = mkdtempSync(path.join(tmpdir(), "vnic-iface-gather-"));
  });
  afterAll(() => {
    if (pair) removeVethPair(pair);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function send(name: string, args: string[], env: Record<string, string> = {}, expectFrames?: number) {
    const rx = path.join(dir, `${name}.rx.pcap`);
    const out = path.join(dir, `${name}.out.pcap`);
    const cap = await PeerCapture.start(pair, rx);
    try {
      const [cmd, ...rest] = inNs(pair.txNs, [process.execPath, vnic, "replay", ...args, "--iface", pair.tx, "--out", out, "--json"]);
      const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout);
      const { droppedByKernel } = await cap.stop(() => countPcapRecords(rx), expectFrames ?? j.iface.sent);
      expect(droppedByKernel).toBe(0);
      return { j, rx: frames(rx), out: frames(out) };
    } finally {
      cap.kill();
    }
  }

  const poison = { VNIC_GUEST_POISON: "1" };
  const copyCases: [string, string[]][] = [
    ["imix", ["--copy", "headers"]],
    ["imix", ["--copy", "l3:10", "--no-csum-offload"]],
    ["imix", ["--copy", "fixed:63"]],
    ["udp-mix-vlan", ["--copy", "full"]],
    ["udp-1514", ["--copy", "none", "--no-csum-offload"]],
    ["udp-1514", ["--copy", "none"]], // checksum field in guest memory: gathered by the NIC
  ];
  // AF_PACKET takes a gather list as iovecs, AF_XDP as a multi-buffer descriptor chain.
  const backendCases = copyCases.flatMap(([capture, opts]) => (["af_packet", "af_xdp"] as const).map((b) => [b, capture, opts] as const));
  it.each(backendCases)("%s, %s %j: the peer gets the run's --out, and --out equals --wire-gather nic's", async (backend, capture, opts) => {
    const input = path.join(captures, `${capture}.pcap`);
    const tag = `${backend}-${capture}-${opts.join("").replace(/[^a-z0-9]/gi, "")}`;
    const nic = await send(`${tag}-nic`, [input, ...opts, "--wire", "af_packet", "--pps", "50000"]);
    const k = await send(`${tag}-kernel`, [input, ...opts, "--wire", backend, "--wire-gather", "kernel", "--pps", "50000"], poison);
    expect(k.j.books.balanced).toBe(true);
    expect(k.j.iface.backend).toBe(backend);
    expect(k.j.iface.gather.mode).toBe("kernel");
    expect(k.j.iface.sent).toBe(k.j.wire.frames);
    expect(k.j.iface.gather.lists + k.j.iface.gather.copied).toBe(k.j.wire.frames);
    if (!(opts.includes("none") && !opts.includes("--no-csum-offload"))) expect(k.j.iface.gather.lists).toBe(k.j.wire.frames);
    expect(k.rx.length).toBe(k.out.length);
    expect(firstDiff(k.rx, k.out)).toBe(-1);
    expect(firstDiff(k.out, nic.out)).toBe(-1);
    expect(firstDiff(nic.rx, nic.out)).toBe(-1);
  }, 60_000);

  it.skipIf(!existsSync(gso))("a host-side TSO capture (v4-64k.in.pcap) at MTU 1500 arrives as exactly the kernel's TCP segments", async () => {
    const want = frames(path.join(gso, "v4-64k.out.pcap")).filter(isTcp4);
    const input = path.join(gso, "v4-64k.in.pcap");
    const k = await send("v4-64k-kernel", [input, "--wire-gather", "kernel", "--mtu", "1500", "--pps", "20000"], poison);
    const nic = await send("v4-64k-nic", [input, "--wire", "af_packet", "--mtu", "1500", "--pps", "20000"]);
    expect(k.j.books.balanced).toBe(true);
    expect(k.j.iface.gather.lists).toBeGreaterThan(0); // the frames that were not large sends
    const got = k.rx.filter(isTcp4);
    expect(got.length).toBe(want.length);
    expect(firstDiff(got, want)).toBe(-1);
    expect(firstDiff(k.rx, k.out)).toBe(-1);
    expect(firstDiff(k.out, nic.out)).toBe(-1);
  }, 60_000);

  it("with completions released before the pump passed them, the poisoned buffers reach the peer (the check can fail)", async () => {
    const input = path.join(captures, "imix.pcap");
    const nic = await send("early-nic", [input, "--wire", "af_packet", "--topspeed", "--loop", "10"]);
    // On AF_PACKET, where the window is wide (the pump sends in batches of sendmmsg): on AF_XDP
    // in copy mode the kernel copies at the kick. The race is likely, not certain, in any one run
    // (a busy machine can let the pump keep up), so up to three runs of 12000 frames each: the
    // check has teeth if one of them shows the poison.
    let differs = false;
    for (let attempt = 0; attempt < 3 && !differs; attempt++) {
      const early = await send(`early-kernel-${attempt}`, [input, "--wire", "af_packet", "--wire-gather", "kernel", "--topspeed", "--loop", "10"], { ...poison, VNIC_GATHER_RELEASE_EARLY: "1" });
      expect(early.rx.length).toBe(nic.out.length);
      differs = firstDiff(early.rx, nic.out) !== -1;
    }
    expect(differs).toBe(true);
  }, 120_000);
});
