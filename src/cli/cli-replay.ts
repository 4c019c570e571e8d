// `vnic replay`: its help, its options (tcpreplay's spellings translated first) and the call
// down to replay(); the report and the books check follow the run. src/cli/cli.ts dispatches here
// and maps what is thrown to exit codes.

import { parseArgs } from "node:util";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCopyMode, COPY_MODES_HELP } from "../replay/copy-options.js";
import { COALESCE_HELP, CoalesceSpecError, DEFAULT_COALESCE, parseCoalesce } from "../replay/coalesce-options.js";
import { replay, DEFAULT_PRELOAD_LIMIT } from "../replay/replay.js";
import { clearProgress, combineSamplers, progressSampler } from "./progress.js";
import type { PaceSpec } from "../replay/pace-spec.js";
import { checkBooks, jsonReport, textReport } from "../report/report.js";
import { HandoverOptions, parseChaos, parseHandoverConfig } from "../handover/options.js";
import { compileCore } from "../core/core.js";
import { checkOutputTarget } from "../util/output-file.js";
import { translateTcpreplayOptions } from "./tcpreplay-options.js";
import { printDecoded, readWarnings, somethingLost } from "../replay/replay-output.js";
import { ifaceLostLine, WIRE_CHOICES, WireChoice } from "../wire/iface-pump.js";
import type { WireGather } from "../datapath/datapath.js";
import { OFFLOAD_MODES, OffloadMode } from "../wire/offload-mode.js";
import { EXIT_FAILED, EXIT_OK, UsageError } from "./cli-errors.js";

const REPLAY_HELP = `Usage: vnic replay CAPTURE [options]

Replays CAPTURE (pcap or pcapng, Ethernet) through the datapath: a guest thread copies each
frame into guest memory and posts it; a device thread translates, copies the headers into
pre-translated buffers, transmits and completes. Prints tcpreplay's summary lines, the
datapath's counters, and checks its books (exit 1 if they do not balance).

Options:
  --out FILE         write the transmitted frames to FILE (pcap; nanosecond pcap when the
                     input had nanosecond timestamps, or with --timestamps send)
  --timestamps capture|send  the times --out gives each frame: capture (default: the
                     capture's own, so the output is reproducible and compares with the input
                     and with Linux's output byte for byte), or send (when the frame's burst
                     left the NIC stage, in ns since the epoch, non-decreasing across loops)
  -i, --iface NAME   send the transmitted frames out of Linux interface NAME (AF_PACKET;
                     also --intf1 NAME, as tcpreplay spells it); needs CAP_NET_RAW
  --wire BACKEND     with --iface: auto (default: AF_XDP when it works, else AF_PACKET; the
                     report says which and why), af_xdp, af_packet
  --wire-gather WHO  with --iface: who gathers a frame sent as it is: nic (default: the NIC
                     model copies its bytes onto the wire ring), kernel (the header buffer
                     and the guest's SG entries go to the kernel as they lie: AF_PACKET
                     iovecs, or an AF_XDP multi-buffer descriptor chain (Linux 6.6+); no
                     copy; completions wait until the pump has sent the frame). Frames the
                     NIC segments or checksums in guest memory are still gathered. Not with
                     --handover-every or --chaos-device
  --offload MODE     with --iface: emulate (default: vnic segments and checksums, exactly as
                     Linux GSO), passthrough (large sends and checksum requests go to the
                     kernel as they are, with their virtio_net_hdr), auto (pass through what
                     the interface's features offer, emulate the rest)
  --mtu N            largest IP packet on the wire, bytes (default 1500); longer frames are
                     dropped with reason "oversize"
  --copy MODE        ${COPY_MODES_HELP}
  --mss N            large sends: payload bytes per segment (default: from the MTU and each
                     packet's own IP and TCP header lengths, as the kernel's mss_cache)
  --nic-max-lso N    largest frame the NIC segments (default 65536); bigger large sends are
                     first cut into k·MSS chunks by the backend (LSO stage 1)
  --nic-max-segments N  most segments one large send may become (default 65535)
  --fixed-id         keep the IPv4 ID of every segment (default: +1 per segment)
  --vxlan-port N     UDP port parsed as VXLAN (default 4789); --geneve-port N: Geneve (6081)
  --nic-tunnel-lso on|off  whether the NIC segments VXLAN/Geneve large sends (default on);
                     off: stage 1 segments and checksums them in software
  --no-csum-offload  post TCP/UDP frames that need no segmentation verbatim (default: the
                     guest asks NEEDS_CSUM and the NIC computes the checksum)
  ${COALESCE_HELP.replace(/\n/g, "\n  ")}
  --topspeed         as fast as the datapath goes (default)
  --pps N            N packets per second, paced from the start of the replay (no drift)
  --mbps N           N megabits per second of frames posted
  --multiplier X     the capture's own timing, X times faster (0.5: half speed)
  --loop N           replay the capture N times (default 1; 0: until stopped)
  --limit N          stop after N frames (default: no limit)
  --duration S       stop after S seconds (frames in flight still complete)
  --stats N          print the current rates every N seconds
  --preload-limit MIB  captures larger than this are streamed in bounded memory instead of
                     being read into memory first (default 1024; 0: always stream)
  --json             print one JSON object instead of text (keys in README.md)
  --report FILE.html write a self-contained HTML report (rate over time, latency, coalescing,
                     bytes copied vs referenced)
  --guest-resident   the guest writes each frame into guest RAM once and posts the same buffers
                     on every loop (like pktgen or testpmd txonly): benchmarks the device, not
                     the guest's copies; the capture must fit guest RAM
  --budget N         descriptors per stage step (default 32)
  --ring-slots N     slots per ring, a power of two (default 1024)
  --guest-ram MIB    guest RAM in MiB (default 64); the guest cycles its buffers through the
                     part a full ring of the capture's largest frame needs, at most 4 MiB
                     (Linux's TCP Small Queues limit), as a driver reuses the buffers it freed
  --seed N           seed of the guest page-table shuffle (default 24301)
  --debug-core       use the debug build of the core (assertions on)
  --handover-every N a new device worker every N descriptors; the guest keeps posting, its
                     TX ring holds what it posts meanwhile (README: Hand-over)
  --chaos-device COUNT[:SEED]  terminate COUNT device workers at random points (seeded) and
                     replace each; the wire stays exactly once
  --handover-config KEY=V,...  the configuration from the first hand-over on: copy=MODE,
                     coalesce=POLICY, nic-max-lso=N, nic-max-segments=N, csum=on|off,
                     fixed-id=on|off (needs --handover-every)
  --strict           refuse a capture whose last record is damaged or partial (default: replay
                     every complete record, warn with the byte offset of the damage)
  --fail-on-drop     exit 1 when any frame was dropped or skipped (for CI)
  -q, --quiet        print only tcpreplay's two summary lines (and errors)
  -v, --verbose      also print every transmitted frame, decoded by tcpdump (as tcpreplay -v)
  -h, --help         this text

tcpreplay's spellings work too: -t, -p N, -M N, -x X, -l N, -L N, -K, --stats=N; its options
vnic has no feature for are refused with a line that says what to use instead.

Ctrl-C stops posting, lets in-flight frames complete, prints the summary so far, and leaves
a finished output capture.
`;

function intOption(v: string | undefined, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} takes a whole number, not "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, not ${n}`);
  return n;
}

function numberOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new UsageError(`${name} takes a positive number, not "${v}"`);
  return n;
}

/** --topspeed | --pps N | --mbps N | --multiplier X: at most one. */
function parsePace(values: { topspeed?: boolean; pps?: string; mbps?: string; multiplier?: string }): PaceSpec | undefined {
  const given = (["pps", "mbps", "multiplier"] as const).filter((k) => values[k] !== undefined);
  if (given.length + (values.topspeed ? 1 : 0) > 1) {
    throw new UsageError(`choose one of --topspeed, --pps, --mbps, --multiplier (got ${[...(values.topspeed ? ["topspeed"] : []), ...given].map((g) => "--" + g).join(", ")})`);
  }
  if (given.length === 0) return undefined;
  const kind = given[0];
  return { kind, rate: numberOption(values[kind], "--" + kind)! };
}

/** -v without --out: the frames go to a temporary capture that tcpdump then decodes. */
function verboseCapturePath(): string {
  return join(tmpdir(), `vnic-verbose-${process.pid}.pcap`);
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: translateTcpreplayOptions(argv),
    allowPositionals: true,
    options: {
      out: { type: "string" },
      iface: { type: "string", short: "i" },
      intf1: { type: "string" },
      offload: { type: "string" },
      wire: { type: "string" },
      "wire-gather": { type: "string" },
      mtu: { type: "string" },
      copy: { type: "string" },
      loop: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
      budget: { type: "string" },
      "ring-slots": { type: "string" },
      "guest-ram": { type: "string" },
      seed: { type: "string" },
      mss: { type: "string" },
      "nic-max-lso": { type: "string" },
      "nic-max-segments": { type: "string" },
      "fixed-id": { type: "boolean" },
      "vxlan-port": { type: "string" },
      "geneve-port": { type: "string" },
      "nic-tunnel-lso": { type: "string" },
      "no-csum-offload": { type: "boolean" },
      coalesce: { type: "string" },
      topspeed: { type: "boolean" },
      pps: { type: "string" },
      mbps: { type: "string" },
      multiplier: { type: "string" },
      duration: { type: "string" },
      stats: { type: "string" },
      "preload-limit": { type: "string" },
      "debug-core": { type: "boolean" },
      "guest-resident": { type: "boolean" },
      report: { type: "string" },
      "handover-every": { type: "string" },
      "chaos-device": { type: "string" },
      "handover-config": { type: "string" },
      strict: { type: "boolean" },
      "fail-on-drop": { type: "boolean" },
      timestamps: { type: "string" },
      quiet: { type: "boolean" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError(`replay takes one capture file (got ${positionals.length}); see vnic replay --help`);
  // Every file the run will write is checked before it starts (src/util/output-file.ts).
  if (values.report) checkOutputTarget(values.report, "--report", [positionals[0]]);
  let copy;
  try {
    copy = parseCopyMode(values.copy ?? "headers");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const ringSlots = intOption(values["ring-slots"], "--ring-slots", 1024, 2, 65536);
  if ((ringSlots & (ringSlots - 1)) !== 0) throw new UsageError(`--ring-slots must be a power of two, not ${ringSlots}`);
  let coalesce;
  try {
    coalesce = parseCoalesce(values.coalesce ?? DEFAULT_COALESCE);
  } catch (e) {
    if (e instanceof CoalesceSpecError) throw new UsageError(e.message);
    throw e;
  }
  const params = {
    mtu: intOption(values.mtu, "--mtu", 1500, 68, 65535),
    ...copy,
    mss: intOption(values.mss, "--mss", 0, 1, 65535),
    nicMaxLso: intOption(values["nic-max-lso"], "--nic-max-lso", 65536, 1024, 262144),
    maxSegments: intOption(values["nic-max-segments"], "--nic-max-segments", 65535, 1, 65535),
    fixedId: values["fixed-id"] ? 1 : 0,
    csumOffload: values["no-csum-offload"] ? 0 : 1,
    guestResident: values["guest-resident"] ? 1 : 0,
    vxlanPort: intOption(values["vxlan-port"], "--vxlan-port", 4789, 1, 65535),
    genevePort: intOption(values["geneve-port"], "--geneve-port", 6081, 1, 65535),
    nicTunnelLsoOff: onOff(values["nic-tunnel-lso"], "--nic-tunnel-lso", true) ? 0 : 1,
    sendTimestamps: timestampsOption(values.timestamps),
  };
  const pace = parsePace(values);
  const offload = (values.offload ?? "emulate") as OffloadMode;
  if (!OFFLOAD_MODES.includes(offload)) throw new UsageError(`--offload takes ${OFFLOAD_MODES.join(", ")}, not "${values.offload}"`);
  if (values.offload && !(values.iface ?? values.intf1)) throw new UsageError("--offload needs --iface: only a kernel can take an operation passed through");
  const wire = (values.wire ?? "auto") as WireChoice;
  if (!WIRE_CHOICES.includes(wire)) throw new UsageError(`--wire takes ${WIRE_CHOICES.join(", ")}, not "${values.wire}"`);
  if (values.wire && !(values.iface ?? values.intf1)) throw new UsageError("--wire needs --iface");
  const wireGather = (values["wire-gather"] ?? "nic") as WireGather;
  if (wireGather !== "nic" && wireGather !== "kernel") throw new UsageError(`--wire-gather takes nic, kernel, not "${values["wire-gather"]}"`);
  if (wireGather === "kernel") {
    if (!(values.iface ?? values.intf1)) throw new UsageError("--wire-gather kernel needs --iface: only a kernel can gather");
    if (values["handover-every"] !== undefined || values["chaos-device"] !== undefined) {
      throw new UsageError("--wire-gather kernel cannot be combined with --handover-every or --chaos-device: a new device would publish completions the pump has not passed yet");
    }
  }
  if (values.iface && values.intf1 && values.iface !== values.intf1) throw new UsageError(`--iface ${values.iface} and --intf1 ${values.intf1} name two interfaces; give one`);
  const loops = intOption(values.loop, "--loop", 1, 0);
  let stopRequested = false;
  const recorder = values.report ? (await import("../report/report-html.js")).replayReportRecorder() : undefined;
  const limit = intOption(values.limit, "--limit", 0);
  let totalFrames: number | undefined; // known once the capture is placed (not when streamed)
  const progress = progressSampler({ statsEverySeconds: numberOption(values.stats, "--stats"), out: process.stderr, totalFrames: () => totalFrames });
  const handover = handoverOptions(values, params);
  const config = {
    budget: intOption(values.budget, "--budget", 32, 1, 4096),
    ringSlots,
    guestRamBytes: intOption(values["guest-ram"], "--guest-ram", 64, 1, 2048) << 20,
    pageSeed: intOption(values.seed, "--seed", 24301, 0, 0xffffffff),
    flavor: values["debug-core"] ? ("debug" as const) : ("release" as const),
  };
  const facts = await replay({
    handover,
    capture: positionals[0],
    out: values.out ?? (values.verbose ? verboseCapturePath() : undefined),
    strict: values.strict,
    iface: values.iface ?? values.intf1,
    offload,
    wire,
    wireGather,
    params,
    loops: loops === 0 ? 0xffffffff : loops,
    coalesce,
    limit,
    pace,
    durationSeconds: numberOption(values.duration, "--duration"),
    preloadLimit: intOption(values["preload-limit"], "--preload-limit", DEFAULT_PRELOAD_LIMIT >> 20, 0, 1 << 20) * (1 << 20),
    config,
    sampler: combineSamplers(recorder?.sampler, progress),
    onStart: (dp) => {
      recorder?.attach(dp);
      const passes = dp.framesPlaced * (loops === 0 ? Infinity : loops);
      totalFrames = limit > 0 ? Math.min(limit, passes) : Number.isFinite(passes) && passes > 0 ? passes : undefined;
      process.once("SIGINT", () => {
        stopRequested = true;
        process.stderr.write("\nvnic: interrupted; finishing frames in flight\n");
        dp.requestStop("drain");
      });
    },
  });
  clearProgress(process.stderr);
  for (const w of readWarnings(facts)) process.stderr.write(`vnic: warning: ${w}\n`);
  const text = values.json ? JSON.stringify(jsonReport(facts), null, 2) : textReport(facts);
  process.stdout.write((values.quiet && !values.json ? text.split("\n").slice(0, 2).join("\n") : text) + "\n");
  if (facts.outputFailure) {
    process.stderr.write(`vnic: ${facts.outputFailure.message} (the run stopped; ${facts.out} was not written)\n`);
    return EXIT_FAILED;
  }
  if (recorder && values.report) {
    const { runContext } = await import("../report/replay-report-context.js");
    const settings = { loops, limit, pace: pace ?? "topspeed", coalesce, offload: values.iface ?? values.intf1 ? offload : undefined, params,
      iface: values.iface ?? values.intf1, out: values.out, streamed: facts.streamed, handover: handover?.firstConfig };
    recorder.write(values.report, facts, runContext(["replay", ...argv], { ...settings, config }, facts.run.guest.startUs));
    process.stdout.write(`wrote report to ${values.report}\n`);
  }
  if (values.verbose && facts.out) {
    printDecoded(facts.out);
    if (!values.out) rmSync(facts.out, { force: true });
  }
  if (facts.iface?.gone) process.stderr.write(`vnic: ${ifaceLostLine(facts.iface)}\n`);
  if (stopRequested) return 130;
  if (facts.iface?.gone) return EXIT_FAILED;
  if (!checkBooks(facts).balanced) return EXIT_FAILED;
  if (values["fail-on-drop"] && somethingLost(facts)) {
    process.stderr.write(`vnic: --fail-on-drop: ${somethingLost(facts)}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

/** --handover-every, --chaos-device, --handover-config → the supervisor's options (or none). */
function handoverOptions(
  values: { "handover-every"?: string; "chaos-device"?: string; "handover-config"?: string; copy?: string; coalesce?: string },
  params: Record<string, number>,
): { options: HandoverOptions; firstConfig: string } | undefined {
  const every = intOption(values["handover-every"], "--handover-every", 0, 1);
  if (values["handover-config"] && every === 0) throw new UsageError("--handover-config needs --handover-every N (the hand-over it applies at)");
  if (every === 0 && values["chaos-device"] === undefined) return undefined;
  // parseChaos and parseHandoverConfig throw HandoverOptionError, a UsageError: one line, exit 2.
  const chaos = values["chaos-device"] !== undefined ? parseChaos(values["chaos-device"]) : { kills: 0, seed: 1 };
  const config = values["handover-config"]
    ? { params: parseHandoverConfig(values["handover-config"], coreConstant), text: values["handover-config"] }
    : undefined;
  const firstConfig = `copy=${values.copy ?? "headers"},coalesce=${values.coalesce ?? DEFAULT_COALESCE},` +
    `nic-max-lso=${params.nicMaxLso},nic-max-segments=${params.maxSegments},csum=${params.csumOffload ? "on" : "off"},fixed-id=${params.fixedId ? "on" : "off"}`;
  return { options: { every, chaosKills: chaos.kills, chaosSeed: chaos.seed, config, maxConsecutiveFailures: 5 }, firstConfig };
}

/** A core export's value, for option parsing before any datapath exists. */
function coreConstant(name: string): number {
  const g = new WebAssembly.Instance(compileCore(), { env: { memory: new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true }), nowUs: () => 0 } }).exports[name];
  return Number((g as WebAssembly.Global).value) >>> 0;
}
/** --timestamps capture|send → the core's P_sendTimestamps (wire-ring.ts). */
function timestampsOption(value: string | undefined): number {
  if (value === undefined || value === "capture") return 0;
  if (value === "send") return 1;
  throw new UsageError(`--timestamps takes capture or send, not "${value}"`);
}

/** An on|off option (undefined: the default). */
function onOff(value: string | undefined, name: string, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (value === "on") return true;
  if (value === "off") return false;
  throw new UsageError(`${name} takes on or off, not ${JSON.stringify(value)}`);
}
