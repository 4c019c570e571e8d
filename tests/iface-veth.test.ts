// vnic replay --iface against a real interface: a veth pair between two network namespaces made
// here. What arrives on the peer (tcpdump there) must be what the same run wrote with --out,
// byte for byte and in order; the books must balance, also when the interface disappears.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import path from "node:path";
import { readCaptureFile } from "../src/capture/index.js";
import { countPcapRecords, createVethPair, inNs, PeerCapture, removeVethPair, VethPair, vethUnavailable } from "./helpers/veth.js";
import { rxPackets } from "../src/wire/veth-pair.js";

const root = path.resolve(import.meta.dirname, "..");
const vnic = path.join(root, "bin", "vnic.js");
const captures = path.join(root, "captures");
const gso = path.join(root, "..", "shared", "captures", "linux-gso");
const unavailable = vethUnavailable();
if (unavailable) console.log(`iface-veth: skipped: ${unavailable}`);
const noEthtool = spawnSync("ethtool", ["--version"]).status !== 0;
if (!unavailable && noEthtool) console.log("iface-veth: the --offload tests skipped: ethtool is not installed (apt-get install ethtool)");

function frames(file: string): Buffer[] {
  const out: Buffer[] = [];
  readCaptureFile(file, (f) => out.push(Buffer.from(f.data)));
  return out;
}

/** IPv4 TCP frames (untagged Ethernet), as the kernel's GSO output holds besides ARP etc. */
const isTcp4 = (f: Buffer) => f.readUInt16BE(12) === 0x0800 && f[23] === 6;

/** An untagged IPv4 TCP/UDP frame with its L4 checksum field zeroed (others unchanged). */
function withoutL4Checksum(f: Buffer): Buffer {
  const c = Buffer.from(f);
  if (c.readUInt16BE(12) !== 0x0800) return c;
  const l4 = 14 + (c[14] & 15) * 4;
  if (c[23] === 6) c.writeUInt16BE(0, l4 + 16);
  if (c[23] === 17) c.writeUInt16BE(0, l4 + 6);
  return c;
}

const CAP_SYS_NICE = 23; // linux/capability.h

/** Whether this process holds a capability (its effective set, /proc/self/status CapEff). */
function hasCapability(bit: number): boolean {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("CapEff:"));
  return line !== undefined && ((BigInt("0x" + line.split(/\s+/)[1]) >> BigInt(bit)) & 1n) === 1n;
}

describe.skipIf(!!unavailable)("replay --iface into a veth pair", () => {
  let pair: VethPair;
  let dir: string;
  beforeAll(() => {
    pair = createVethPair();
    dir = mkdtempSync(path.join(tmpdir(), "vnic-iface-"));
  });
  afterAll(() => {
    if (pair) removeVethPair(pair);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One replay out of the tx end, captured on the rx end. */
  async function sendAndCapture(name: string, args: string[], expectFrames?: number, via: VethPair = pair) {
    const pair = via;
    const rx = path.join(dir, `${name}.rx.pcap`);
    const out = path.join(dir, `${name}.out.pcap`);
    const cap = await PeerCapture.start(pair, rx);
    try {
      const [cmd, ...rest] = inNs(pair.txNs, [process.execPath, vnic, "replay", ...args, "--iface", pair.tx, "--out", out, "--json"]);
      const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 60_000 });
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

  const copyCases = [
    ["imix", "headers"],
    ["imix", "l3:10"],
    ["imix", "fixed:64"],
    ["udp-mix-vlan", "full"],
    ["udp-1514", "none"],
  ];
  it.each(["af_packet", "af_xdp"].flatMap((wire) => copyCases.map(([capture, copy]) => [wire, capture, copy])))("--wire %s: %s with --copy %s arrives byte-identical and in order to the run's --out", async (wire, capture, copy) => {
    const { j, rx, out } = await sendAndCapture(`${wire}-${capture}-${copy}`, [path.join(captures, `${capture}.pcap`), "--wire", wire, "--copy", copy, "--pps", "50000"]);
    expect(j.books.balanced).toBe(true);
    expect(j.iface.backend).toBe(wire);
    expect(j.iface.sent).toBe(j.wire.frames);
    expect(j.iface.sent).toBeGreaterThan(0);
    expect(out.length).toBe(j.iface.sent);
    expect(rx.length).toBe(out.length);
    for (let i = 0; i < rx.length; i++) if (!rx[i].equals(out[i])) expect.fail(`frame ${i} differs`);
  });

  it.skipIf(!existsSync(gso)).each(["af_packet", "af_xdp"])("--wire %s: a host-side TSO capture (v4-64k.in.pcap) arrives as exactly the kernel's TCP segments (--offload emulate)", async (wire) => {
    const want = frames(path.join(gso, "v4-64k.out.pcap")).filter(isTcp4);
    const { j, rx } = await sendAndCapture(`v4-64k-${wire}`, [path.join(gso, "v4-64k.in.pcap"), "--wire", wire, "--mtu", "1500", "--pps", "20000"]);
    expect(j.iface.backend).toBe(wire);
    expect(j.books.balanced).toBe(true);
    const got = rx.filter(isTcp4);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < got.length; i++) if (!got[i].equals(want[i])) expect.fail(`segment ${i} differs from the kernel's`);
  });

  describe.skipIf(noEthtool)("--offload (needs ethtool)", () => {
    let bare: VethPair;
    beforeAll(() => {
      // No TSO and no checksum offload on the sending veth: the kernel segments and checksums
      // in software before the veth (validate_xmit_skb), so the peer sees the kernel's own
      // segments. (A veth's "TSO" and tx checksumming never do either: with them on, the peer
      // gets the super-packet, or unfinished checksums.)
      bare = createVethPair();
      const [cmd, ...rest] = inNs(bare.txNs, ["ethtool", "-K", bare.tx, "tso", "off", "tx", "off"]);
      const r = spawnSync(cmd, rest, { encoding: "utf8" });
      expect(r.status).toBe(0);
    });
    afterAll(() => {
      if (bare) removeVethPair(bare);
    });

    it.skipIf(!existsSync(gso))("passthrough hands the large sends to the kernel: the peer gets exactly the kernel's own TCP segments", async () => {
      const want = frames(path.join(gso, "v4-64k.out.pcap")).filter(isTcp4);
      // Slowly: each large send becomes ~45 frames at once on the peer's backlog (netdev_max_backlog).
      const { j, rx, out } = await sendAndCapture("v4-64k-pass", [path.join(gso, "v4-64k.in.pcap"), "--offload", "passthrough", "--pps", "300"], want.length, bare);
      expect(j.books.balanced).toBe(true);
      expect(j.iface.offload.operations.passedLargeSends).toBeGreaterThan(0);
      expect(j.iface.offload.operations.emulatedSegments).toBe(0);
      expect(out.length).toBe(j.iface.sent); // the copy holds what was handed over: the super-packets
      expect(out.some((f) => f.length > 1514)).toBe(true);
      const got = rx.filter(isTcp4);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < got.length; i++) if (!got[i].equals(want[i])) expect.fail(`segment ${i} differs from the kernel's`);
    });

    it.skipIf(!existsSync(gso))("auto passes through what the interface offers: nothing on the bare veth (all emulated), large sends on a default one", async () => {
      const input = path.join(gso, "v4-64k.in.pcap");
      const a = await sendAndCapture("v4-64k-auto-bare", [input, "--offload", "auto", "--pps", "300"], undefined, bare);
      expect(a.j.iface.offload.passedThrough).toEqual([]);
      expect(a.j.iface.offload.operations.passedLargeSends).toBe(0);
      expect(a.rx.filter(isTcp4).length).toBe(frames(path.join(gso, "v4-64k.out.pcap")).filter(isTcp4).length);
      const b = await sendAndCapture("v4-64k-auto-default", [input, "--offload", "auto", "--pps", "300"]);
      expect(b.j.iface.offload.passedThrough).toEqual(expect.arrayContaining(["TCPv4 large sends", "IPv4 checksums"]));
      expect(b.j.iface.offload.operations.passedLargeSends).toBeGreaterThan(0);
      expect(b.rx.length).toBe(b.out.length); // a veth delivers the super-packets as they are
      // Only the L4 checksum may differ: passed through, it is left to hardware a veth does not have.
      for (let i = 0; i < b.rx.length; i++) if (!withoutL4Checksum(b.rx[i]).equals(withoutL4Checksum(b.out[i]))) expect.fail(`frame ${i} differs beyond its checksum`);
    });

    it("--offload passthrough with --wire af_xdp: one line (AF_XDP carries no virtio_net_hdr)", () => {
      const [cmd, ...rest] = inNs(bare.txNs, [process.execPath, vnic, "replay", path.join(captures, "udp-64.pcap"), "--iface", bare.tx, "--wire", "af_xdp", "--offload", "passthrough"]);
      const r = spawnSync(cmd, rest, { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe("vnic: --offload passthrough needs --wire af_packet (AF_XDP has no virtio_net_hdr to hand over)\n");
    });

    it("--wire auto picks AF_XDP when it works (and says so)", async () => {
      const { j } = await sendAndCapture("auto-wire", [path.join(captures, "udp-64.pcap"), "--limit", "100"], 100, bare);
      expect(j.iface.backend).toBe("af_xdp");
      expect(j.iface.fallback).toBe("");
      expect(j.iface.sent).toBe(100);
      // With CAP_SYS_NICE (root has it) the pump thread raised its priority (native/vnic_wire.c).
      expect(j.iface.pumpNice).toBe(hasCapability(CAP_SYS_NICE) ? Math.min(-5, getPriority()) : getPriority());
    });

    it("without CAP_SYS_NICE the pump keeps its nice value, says so, and sends the same", () => {
      // setpriv drops the capability from the bounding set, so the exec'd node (root) lacks it.
      const [cmd, ...rest] = inNs(bare.txNs, ["setpriv", "--bounding-set", "-sys_nice", process.execPath, vnic, "replay", path.join(captures, "udp-64.pcap"), "--limit", "100", "--iface", bare.tx, "--json"]);
      const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 60_000 });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.iface.pumpNice).toBe(getPriority()); // the nice value it was started with
      expect(j.iface.sent).toBe(100);
      expect(j.books.balanced).toBe(true);
    });

    it("--offload without --iface is a usage error", () => {
      const r = spawnSync(process.execPath, [vnic, "replay", path.join(captures, "udp-64.pcap"), "--offload", "passthrough"], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe("vnic: --offload needs --iface: only a kernel can take an operation passed through\n");
    });
  });

  it.each(["af_packet", "af_xdp"])("--wire %s: frames longer than the interface's MTU are refused as oversize, left out of --out, and the books balance", async (wire) => {
    // --mtu 9000 lets 1514-byte frames through vnic; a veth at MTU 1000 refuses them (EMSGSIZE).
    const small = createVethPair(1000);
    try {
      const out = path.join(dir, "oversize.out.pcap");
      const [cmd, ...rest] = inNs(small.txNs, [process.execPath, vnic, "replay", path.join(captures, "imix.pcap"), "--mtu", "9000", "--wire", wire, "--iface", small.tx, "--out", out, "--json"]);
      const r = spawnSync(cmd, rest, { encoding: "utf8", timeout: 60_000 });
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.books.balanced).toBe(true);
      expect(j.iface.refused.oversize).toBeGreaterThan(0);
      expect(j.iface.sent + j.iface.refused.oversize).toBe(j.wire.frames);
      const copy = frames(out);
      expect(copy.length).toBe(j.iface.sent);
      expect(copy.every((f) => f.length <= 1000 + 18)).toBe(true);
    } finally {
      removeVethPair(small);
    }
  });

  it("rate control holds on the wire: --pps never arrives faster than asked", async () => {
    const pps = 2000;
    const spawnedNs = BigInt(Date.now()) * 1_000_000n;
    const { j, rx } = await sendAndCapture("paced", [path.join(captures, "udp-64.pcap"), "--pps", String(pps), "--limit", "3000"], 3000);
    expect(j.books.balanced).toBe(true);
    expect(rx.length).toBe(3000);
    const ts: bigint[] = [];
    readCaptureFile(path.join(dir, "paced.rx.pcap"), (f) => ts.push(f.tsNs));
    // The pacer is anchored at the start of the replay (a late start is caught up, never run
    // ahead of): frame i cannot arrive before start + i/pps, and the start is after the spawn.
    // (tcpdump's timestamps and Date.now are the same realtime clock.)
    for (let i = 0; i < ts.length; i += 100) expect(Number(ts[i] - spawnedNs) / 1e9).toBeGreaterThan((i / pps) * 0.99);
    // 1.5 s of pacing: far more than a start-up could hide if the pacer ran ahead.
    expect(Number(ts[ts.length - 1] - spawnedNs) / 1e9).toBeGreaterThan((2999 / pps) * 0.99);
  });

  it.each(["af_packet", "af_xdp"])("--wire %s: an interface deleted mid-run ends the run with one line, and the books still balance", async (wire) => {
    // Unregistering a device takes it down first (dev_close), so a send may see either errno.
    await loseMidRun(wire, ["link", "del"], /interface .* went (away|down) during the run/);
  });

  it.each(["af_packet", "af_xdp"])("--wire %s: an interface set down mid-run ends the run with one line, and the books still balance", async (wire) => {
    await loseMidRun(wire, ["link", "set"], /interface .* went down during the run/);
  });

  async function loseMidRun(wire: string, how: string[], line: RegExp) {
    const doomed = createVethPair();
    try {
      const [cmd, ...rest] = inNs(doomed.txNs, [process.execPath, vnic, "replay", path.join(captures, "udp-64.pcap"), "--loop", "0", "--pps", "20000", "--wire", wire, "--iface", doomed.tx, "--json"]);
      const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      // Delete it once frames are arriving (however long start-up takes on a loaded machine).
      const t0 = Date.now();
      while (rxPackets(doomed) < 1000 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
      spawnSync("ip", ["-n", doomed.txNs, ...how, doomed.tx, ...(how[1] === "set" ? ["down"] : [])]);
      const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(timeout);
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toEqual([expect.stringMatching(line)]);
      const j = JSON.parse(stdout);
      expect(j.iface.gone).toBe(true);
      expect(j.iface.sent).toBeGreaterThan(0);
      expect(j.iface.refused[j.iface.lost === "down" ? "down" : "gone"]).toBeGreaterThan(0);
      expect(j.iface.lost).toBe(stderr.includes("went down") ? "down" : "removed");
      expect(j.books.balanced).toBe(true);
    } finally {
      removeVethPair(doomed);
    }
  }

  it("Ctrl-C while sending: frames in flight finish, the books balance, exit 130", async () => {
    const [cmd, ...rest] = inNs(pair.txNs, [process.execPath, vnic, "replay", path.join(captures, "imix.pcap"), "--loop", "0", "--pps", "20000", "--iface", pair.tx, "--json"]);
    const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const before = rxPackets(pair);
    const t0 = Date.now();
    while (rxPackets(pair) - before < 1000 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
    // ip netns exec runs node itself (exec), so the signal reaches vnic.
    child.kill("SIGINT");
    const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(timeout);
    expect(code).toBe(130);
    const j = JSON.parse(stdout);
    expect(j.books.balanced).toBe(true);
    expect(j.iface.sent).toBe(j.wire.frames);
    expect(rxPackets(pair) - before).toBeGreaterThanOrEqual(j.iface.sent);
  });

  it("an unknown interface gets one line and exit 2", () => {
    const r = spawnSync(process.execPath, [vnic, "replay", path.join(captures, "udp-64.pcap"), "-i", "vnw-nonesuch"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("vnic: --iface vnw-nonesuch: no such interface (ip link lists them)\n");
  });

  it("without CAP_NET_RAW: one line saying how to get it, never setcap on node", () => {
    const [cmd, ...rest] = inNs(pair.txNs, ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", process.execPath, vnic, "replay", path.join(captures, "udp-64.pcap"), "--intf1", pair.tx]);
    const r = spawnSync(cmd, rest, { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/needs CAP_NET_RAW.*run as root.*do not setcap the node binary/);
  });
});

describe("the native module's build", () => {
  it("when it was not built, --iface says in one line what is missing and how to get it", () => {
    const r = spawnSync(process.execPath, [vnic, "replay", path.join(captures, "udp-64.pcap"), "--iface", "lo"], {
      encoding: "utf8",
      env: { ...process.env, VNIC_WIRE_NODE: path.join(tmpdir(), `vnw-absent-${process.pid}.node`) },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("vnic: --iface needs a C compiler at install time: the native wire module (native/) is not built; install one (Debian: apt-get install gcc libc6-dev) and run `npm rebuild vnic-wire`\n");
  });

  it("without a C compiler, the install script still succeeds and says in one line what is missing", () => {
    const r = spawnSync(process.execPath, [path.join(root, "native", "build.cjs")], {
      encoding: "utf8",
      env: { ...process.env, CC: "/nonexistent/cc", VNIC_WIRE_OUT: path.join(tmpdir(), `vnw-never-${process.pid}.node`) },
    });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/not built \(no C compiler.*apt-get install gcc/);
  });
});
