// vnic replay --iface beside tcpreplay on the same veth pair (a benchmark, not a test).
//
//   npm run build && sudo node dist/bench/wire-peers.js [--trials N] [--packets N] [--senders LIST] [--captures LIST] [--no-tso]
//
//   --trials N      interleaved trials per sender and capture (default 5)
//   --packets N     packets per run, about (default 1000000)
//   --senders LIST  which to run, comma-separated, of af_xdp, af_packet, gather (AF_PACKET with
//                   --wire-gather kernel: the kernel gathers), gather_xdp (AF_XDP with
//                   --wire-gather kernel), af_xdp_full and af_xdp_none (AF_XDP with --copy full or
//                   none: the partial copy's baselines), tcpreplay (default af_xdp,af_packet,tcpreplay)
//   --captures LIST which bundled captures, comma-separated (default udp-64.pcap,imix.pcap,udp-1514.pcap)
//   --no-tso        skip the host-side TSO capture at the end
//
// Both tools send into one end of a veth pair between two namespaces made here; the figure is
// packets per second *received on the peer*: the peer's rx_packets (read from
// /proc/<pid>/net/dev of a process parked in the peer namespace) sampled every SAMPLE_MS, from
// its first change to its last. So vnic's figure includes its pump draining what the NIC model
// already completed, and neither tool is credited for frames the peer never got.
// Sending-side CPU per packet: user + system time of the sender's process tree (bash `times`),
// minus the same tool's cost for a one-packet run (process start-up, loading the capture).
// For vnic also its backend's time per packet (the report's "Device time per packet", median).
// Runs are interleaved (vnic, tcpreplay, vnic, ...) and each figure is the median of the trials.
// The ratio to the reference (the last sender named) is given twice: median over median, and the
// median of the per-trial ratios (trial t of a sender over trial t of the reference, run moments
// apart) with its 95 % bootstrap interval, which says how far the noise of the run reaches.
// The machine is shared: the load average is printed beside the figures.
//
// Last: a host-side TSO capture (frames up to 64 KiB): tcpreplay's result beside vnic's.

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { projectRoot } from "../src/core/core.js";
import { createVethPair, inNs, removeVethPair, VethPair, vethUnavailable } from "../src/wire/veth-pair.js";
import { readCaptureFile } from "../src/capture/index.js";
import { helpIfAsked } from "../src/perf/bench-help.js";
import { bootstrapMedian } from "../src/perf/bench-stats.js";

const SAMPLE_MS = 5;
const root = projectRoot();
const vnic = path.join(root, "bin", "vnic.js");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
helpIfAsked(import.meta.url);
const trials = arg("--trials", 5);
const packetsPerRun = arg("--packets", 1_000_000);

interface Sender {
  name: string;
  /** argv (run inside the sending namespace) for `loops` passes over `capture`, or `limit` frames. */
  argv(pair: VethPair, capture: string, loops: number, limit?: number): string[];
}

const vnicSender = (wire: string, extra: string[] = []): Sender => ({
  name: `vnic --wire ${wire}${extra.length ? " " + extra.join(" ") : ""}`,
  argv: (p, c, loops, limit) => [process.execPath, vnic, "replay", c, "--iface", p.tx, "--wire", wire, ...extra, "--loop", String(loops), ...(limit ? ["--limit", String(limit)] : [])],
});

const SENDERS: Record<string, Sender> = {
  af_xdp: vnicSender("af_xdp"),
  af_packet: vnicSender("af_packet"),
  gather: vnicSender("af_packet", ["--wire-gather", "kernel"]),
  gather_xdp: vnicSender("af_xdp", ["--wire-gather", "kernel"]),
  // The partial copy's baselines on a real wire (issue 17): the same backend, every byte
  // copied, or none (headers read from guest memory by the NIC model).
  af_xdp_full: vnicSender("af_xdp", ["--copy", "full"]),
  af_xdp_none: vnicSender("af_xdp", ["--copy", "none"]),
  tcpreplay: {
    name: "tcpreplay --topspeed -K",
    argv: (p, c, loops, limit) => ["tcpreplay", "--topspeed", "-K", "-i", p.tx, "--loop", String(loops), ...(limit ? ["-L", String(limit)] : []), c],
  },
};
const listArg = (name: string, def: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : def).split(",");
const captures = listArg("--captures", "udp-64.pcap,imix.pcap,udp-1514.pcap");
const senderKeys = listArg("--senders", "af_xdp,af_packet,tcpreplay");
const refuse = (why: string): never => {
  console.error(`wire-peers: ${why}`);
  process.exit(2);
};
for (const k of senderKeys) if (!SENDERS[k]) refuse(`unknown sender ${k} (${Object.keys(SENDERS).join(", ")})`);
const senders: Sender[] = senderKeys.map((k) => SENDERS[k]);
for (const c of captures) if (!existsSync(path.join(root, "captures", c))) refuse(`no capture captures/${c} (the bundled ones: vnic gen --bundled captures)`);

function framesIn(file: string): number {
  let n = 0;
  readCaptureFile(file, () => n++);
  return n;
}

/** A process parked in the peer namespace: its /proc/PID/net/dev shows that namespace. */
function parkInPeer(pair: VethPair) {
  const [cmd, ...rest] = inNs(pair.rxNs, ["sleep", "100000"]);
  const child = spawn(cmd, rest, { stdio: "ignore" });
  const file = `/proc/${child.pid}/net/dev`;
  const rxPackets = () => {
    const line = readFileSync(file, "utf8").split("\n").find((l) => l.trim().startsWith(pair.rx + ":"));
    if (!line) throw new Error(`${pair.rx} not in ${file}`);
    return Number(line.split(":")[1].trim().split(/\s+/)[1]);
  };
  return { rxPackets, stop: () => child.kill("SIGKILL") };
}

interface RunFigures {
  pps: number;
  received: number;
  cpuSeconds: number;
  output: string;
}

/** Runs one sender to completion, sampling the peer's counter meanwhile. */
async function measure(pair: VethPair, peer: ReturnType<typeof parkInPeer>, argv: string[]): Promise<RunFigures> {
  const [cmd, ...rest] = inNs(pair.txNs, argv);
  const script = `"$@" 2>&1; times`;
  const child = spawn("bash", ["-c", script, "bash", cmd, ...rest], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const start = peer.rxPackets();
  let last = start;
  let firstChangeMs = -1;
  let lastChangeMs = -1;
  let done = false;
  exited.then(() => (done = true));
  while (!done) {
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const n = peer.rxPackets();
    const now = performance.now();
    if (n !== last) {
      if (firstChangeMs < 0) firstChangeMs = now - SAMPLE_MS / 2; // it began within the last interval
      lastChangeMs = now;
      last = n;
    }
  }
  const end = peer.rxPackets();
  const times = output.trim().split("\n").slice(-1)[0].match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const cpuSeconds = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : Number.NaN;
  const seconds = (lastChangeMs - firstChangeMs) / 1000;
  return { pps: seconds > 0 ? (end - start) / seconds : Number.NaN, received: end - start, cpuSeconds, output };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function sizeRow(pair: VethPair, peer: ReturnType<typeof parkInPeer>, capture: string) {
  const file = path.join(root, "captures", capture);
  const frames = framesIn(file);
  const loops = Math.max(1, Math.round(packetsPerRun / frames));
  const figures = senders.map(() => ({ pps: [] as number[], cpu: [] as number[], startupCpu: 0, received: [] as number[], backendNs: [] as number[] }));
  for (const [i, s] of senders.entries()) figures[i].startupCpu = (await measure(pair, peer, s.argv(pair, file, 1, 1))).cpuSeconds;
  for (let t = 0; t < trials; t++) {
    for (const [i, s] of senders.entries()) {
      const r = await measure(pair, peer, s.argv(pair, file, loops));
      figures[i].pps.push(r.pps);
      figures[i].received.push(r.received);
      figures[i].cpu.push(r.cpuSeconds);
      const backend = r.output.match(/^Device time per packet: backend ([\d.]+) ns/m);
      if (backend) figures[i].backendNs.push(Number(backend[1]));
    }
  }
  const sent = frames * loops;
  return senders.map((s, i) => {
    const f = figures[i];
    return {
      sender: s.name,
      capture,
      sent,
      receivedMin: Math.min(...f.received),
      ppsMedian: median(f.pps),
      ppsAll: f.pps.map((p) => Math.round(p)),
      cpuNsPerPacket: ((median(f.cpu) - f.startupCpu) / sent) * 1e9,
      backendNs: f.backendNs.length ? median(f.backendNs) : Number.NaN,
    };
  });
}

/** "1.800x (paired 1.790x [95 %: 1.770–1.820])": median over median, then the per-trial ratios' median and interval. */
function ratioText(sender: number[], reference: number[]): string {
  const paired = bootstrapMedian(sender.map((x, i) => x / reference[i]));
  return `${(median(sender) / median(reference)).toFixed(3)}x (paired ${paired.estimate.toFixed(3)}x [95 %: ${paired.lo.toFixed(3)}–${paired.hi.toFixed(3)}])`;
}

/** The host-side TSO capture: tcpreplay's result beside vnic's, with the kernel's segments as the reference. */
async function tsoRow(pair: VethPair, peer: ReturnType<typeof parkInPeer>) {
  const gso = path.join(root, "..", "shared", "captures", "linux-gso");
  if (!existsSync(gso)) return "host-side TSO capture: skipped (../shared/captures/linux-gso is absent)";
  const input = path.join(gso, "v4-64k.in.pcap");
  const want = framesIn(path.join(gso, "v4-64k.out.pcap"));
  const t = await measure(pair, peer, ["tcpreplay", "--topspeed", "-i", pair.tx, input]);
  const v = await measure(pair, peer, [process.execPath, vnic, "replay", input, "--iface", pair.tx, "--pps", "20000"]);
  const lines = t.output.split("\n").map((l) => l.trim());
  const errors = lines.filter((l) => /Message too long/.test(l));
  const err = [...(errors.length ? [`${errors.length} × "${errors[0]}"`] : []), ...lines.filter((l) => /^(Failed|Successful) packets/.test(l))];
  return [
    `host-side TSO capture v4-64k.in.pcap (${framesIn(input)} frames, the kernel sent them as ${want} frames):`,
    `  tcpreplay: the peer received ${t.received}; ${err.join("; ")}`,
    `  vnic:      the peer received ${v.received}; ${v.output.split("\n").find((l) => l.startsWith("Interface")) ?? ""}`,
  ].join("\n");
}

async function main() {
  const why = vethUnavailable();
  if (why) {
    console.log(`wire-peers: cannot run: ${why}`);
    return;
  }
  const pair = createVethPair();
  const peer = parkInPeer(pair);
  try {
    console.log(`wire-peers: ${trials} interleaved trials, ~${packetsPerRun} packets per run; load average before: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    const rows = [];
    for (const capture of captures) rows.push(...(await sizeRow(pair, peer, capture)));
    console.log("\n| capture | sender | pps received on the peer (median) | all trials | sending CPU ns/packet | vnic backend ns/packet |");
    console.log("|---|---|---:|---|---:|---:|");
    for (const r of rows) {
      const backend = Number.isNaN(r.backendNs) ? "" : r.backendNs.toFixed(1);
      console.log(`| ${r.capture} | ${r.sender} | ${Math.round(r.ppsMedian).toLocaleString("en")} | ${r.ppsAll.join(", ")} | ${r.cpuNsPerPacket.toFixed(0)} | ${backend} |`);
    }
    for (const capture of captures) {
      const row = rows.filter((r) => r.capture === capture);
      const t = row[row.length - 1]; // the last sender named is the reference
      for (const v of row.slice(0, -1)) console.log(`${capture}: ${v.sender} / ${t.sender} = ${ratioText(v.ppsAll, t.ppsAll)}`);
    }
    if (!process.argv.includes("--no-tso")) console.log("\n" + (await tsoRow(pair, peer)));
    console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  } finally {
    peer.stop();
    removeVethPair(pair);
  }
}

await main();
