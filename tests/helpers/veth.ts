// The receiving end's capture for the --iface tests: tcpdump inside the peer namespace.

import { spawn, ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { inNs, VethPair } from "../../src/wire/veth-pair.js";
export { createVethPair, inNs, removeVethPair, vethUnavailable } from "../../src/wire/veth-pair.js";
export type { VethPair } from "../../src/wire/veth-pair.js";

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
