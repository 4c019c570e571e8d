// Two network namespaces joined by a veth pair, made by a test and removed in its afterAll:
// vnic sends into one end (`tx`), and a capture on the other end (`rx`) sees what arrived.
// Names carry the prefix vnw and this process's pid, so parallel runs never collide.

import { spawn, spawnSync, ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

export interface VethPair {
  txNs: string;
  rxNs: string;
  tx: string;
  rx: string;
}

function sh(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8" });
  return { ok: r.status === 0, err: (r.stderr ?? "").trim() };
}

function must(args: string[]): void {
  const r = sh(args);
  if (!r.ok) throw new Error(`${args.join(" ")}: ${r.err}`);
}

/** Why these tests cannot run here (one line), or undefined when they can. */
export function vethUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: the veth tests need CAP_NET_ADMIN and CAP_NET_RAW (CI runs them as root)";
  if (!existsSync("/usr/sbin/tcpdump") && !existsSync("/usr/bin/tcpdump")) return "tcpdump is not installed (apt-get install tcpdump)";
  const probe = `vnw-probe-${process.pid}`;
  const r = sh(["ip", "netns", "add", probe]);
  if (!r.ok) return `cannot create a network namespace (${r.err}): no CAP_NET_ADMIN?`;
  sh(["ip", "netns", "del", probe]);
  return undefined;
}

let serial = 0;

/** Creates the pair, both ends up, IPv6 off (no router solicitations in the capture). */
export function createVethPair(mtu = 1500): VethPair {
  const id = `${process.pid}-${serial++}`;
  const pair = { txNs: `vnw-tx-${id}`, rxNs: `vnw-rx-${id}`, tx: `vnwt${serial}-${process.pid}`.slice(0, 15), rx: `vnwr${serial}-${process.pid}`.slice(0, 15) };
  try {
    must(["ip", "netns", "add", pair.txNs]);
    must(["ip", "netns", "add", pair.rxNs]);
    for (const ns of [pair.txNs, pair.rxNs]) must(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    must(["ip", "link", "add", pair.tx, "netns", pair.txNs, "mtu", String(mtu), "type", "veth", "peer", "name", pair.rx, "netns", pair.rxNs, "mtu", String(mtu)]);
    must(["ip", "-n", pair.txNs, "link", "set", pair.tx, "up"]);
    must(["ip", "-n", pair.rxNs, "link", "set", pair.rx, "up"]);
  } catch (e) {
    removeVethPair(pair);
    throw e;
  }
  return pair;
}

/** Deleting the namespaces deletes the veth pair with them. */
export function removeVethPair(pair: VethPair): void {
  sh(["ip", "netns", "del", pair.txNs]);
  sh(["ip", "netns", "del", pair.rxNs]);
}

/** Runs a command inside a namespace. */
export function inNs(ns: string, args: string[]): string[] {
  return ["ip", "netns", "exec", ns, ...args];
}

/** tcpdump on the receiving end, writing every arriving frame (-Q in) to `file` unbuffered (-U). */
export class PeerCapture {
  private readonly child: ChildProcess;
  private stderr = "";
  private readonly exited: Promise<void>;

  private constructor(pair: VethPair, file: string) {
    const [cmd, ...args] = inNs(pair.rxNs, ["tcpdump", "-i", pair.rx, "-Q", "in", "-U", "-s", "0", "-B", "65536", "-w", file]);
    this.child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  /** Starts tcpdump and waits until it says it is listening. */
  static async start(pair: VethPair, file: string): Promise<PeerCapture> {
    const c = new PeerCapture(pair, file);
    const t0 = Date.now();
    while (!c.stderr.includes("listening on")) {
      if (c.child.exitCode !== null || Date.now() - t0 > 10_000) throw new Error(`tcpdump did not start: ${c.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return c;
  }

  /** Waits until tcpdump has `frames` (or `quietMs` passed with no new ones), then stops it; returns
   *  its own count of frames the kernel dropped before tcpdump read them. */
  async stop(countNow: () => number, frames: number, quietMs = 1500): Promise<{ droppedByKernel: number }> {
    let last = -1;
    let since = Date.now();
    for (;;) {
      const n = countNow();
      if (n >= frames) break;
      if (n !== last) {
        last = n;
        since = Date.now();
      } else if (Date.now() - since > quietMs) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    this.child.kill("SIGINT");
    await this.exited;
    const m = /(\d+) packets dropped by kernel/.exec(this.stderr);
    return { droppedByKernel: m ? Number(m[1]) : -1 };
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Complete records in a pcap that tcpdump may still be writing (a partial last one is not counted). */
export function countPcapRecords(file: string): number {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return 0;
  }
  if (buf.length < 24) return 0;
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  let at = 24;
  let n = 0;
  while (at + 16 <= buf.length) {
    const incl = le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8);
    if (at + 16 + incl > buf.length) break;
    at += 16 + incl;
    n++;
  }
  return n;
}
