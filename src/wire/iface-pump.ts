// The wire's consumer for --iface: the native pump thread (native/vnic_wire.c) drains the wire
// ring out of a Linux interface by itself; this class starts it, watches it from the main
// thread's loop (progress, an interface that went away), and ends it.
//
// Without --out the pump's cursor is the wire tail itself (it frees wire space). With --out it
// is a gate (STATE_WIRE_PUMP, param wireGate): the capture writer then copies only what the
// pump has handled and frees the space after it, skipping frames the kernel refused, so the
// copy is what went out, in order.

import type { Core, CounterName } from "../core/core.js";
import { loadWireNative, PumpStats, WireNative } from "./native.js";
import { OffloadMode, passBits, passedOperations } from "./offload-mode.js";

/** What the interface did with the run's wire frames (the report's `iface` key). */
export interface IfaceFacts {
  name: string;
  backend: WireBackend;
  /** --wire auto: why a faster backend was not used ("" when it was). */
  fallback: string;
  /** AF_XDP: frames longer than one UMEM chunk go as descriptor chains (XDP_USE_SG). */
  multiBuffer: boolean;
  mtu: number;
  /** --offload, and the operations it passed through to the kernel on this interface. */
  offload: {
    mode: OffloadMode;
    passedThrough: string[];
    /** Operations by mode: handed to the kernel, or done by vnic (segments made, checksums computed). */
    operations: { passedLargeSends: number; passedChecksums: number; emulatedSegments: number; emulatedChecksums: number };
  };
  sent: number;
  bytes: number;
  refused: { oversize: number; down: number; gone: number; other: number; otherErrno: number };
  backpressureRetries: number;
  syscalls: number;
  pumpSleeps: number;
  /** The pump thread's nice value (native/vnic_wire.c raise_priority: -5 with CAP_SYS_NICE). */
  pumpNice: number;
  /** --wire-gather: who gathers a frame sent as it is (kernel: gather lists, AF_PACKET iovecs),
   *  and how many frames went each way in kernel mode. */
  gather: { mode: "nic" | "kernel"; lists: number; copied: number };
  /** The interface was lost during the run (the run then ended early)... */
  gone: boolean;
  /** ...how: "down", "removed", or the errno. */
  lost: string;
}

export type WireBackend = "af_xdp" | "af_packet";
export const WIRE_CHOICES = ["auto", "af_xdp", "af_packet"] as const;
export type WireChoice = (typeof WIRE_CHOICES)[number];

/** --iface cannot start: `message` is the one line to print. */
export class IfaceError extends Error {}

const OPEN_ERRORS: Record<string, (name: string, detail: string) => string> = {
  EMEMLOCK: (name, detail) => `--wire af_xdp on ${name}: ${detail}`,
  EXDP: (name, detail) => `--wire af_xdp on ${name}: ${detail}`,
  EPERM: () => "--iface needs CAP_NET_RAW to open a packet socket: run as root, or start vnic from a wrapper that holds the capability (e.g. capsh --caps or systemd-run -p AmbientCapabilities=CAP_NET_RAW); do not setcap the node binary itself",
  ENODEV: (name) => `--iface ${name}: no such interface (ip link lists them)`,
  ENETDOWN: (name) => `--iface ${name}: the interface is down (ip link set ${name} up)`,
};

export class IfacePump {
  private readonly native: WireNative;
  private readonly handle: object;
  private readonly mtu: number;
  private readonly multiBuffer: boolean;
  readonly backend: WireBackend;
  private fallback = "";
  private lastSeen = 0;
  private finished?: PumpStats;
  private readonly passed: string[];

  constructor(private readonly core: Core, readonly name: string, gated: boolean, readonly offload: OffloadMode = "emulate", wire: WireChoice = "af_packet",
    readonly gather: "nic" | "kernel" = "nic") {
    this.native = loadWireNative();
    core.setParam("wireGate", gated ? 1 : 0);
    let bits = 0;
    try {
      bits = passBits(offload, core, this.native, name);
    } catch (e) {
      throw new IfaceError(`--offload auto: cannot read the features of ${name}: ${(e as Error).message}`);
    }
    core.setParam("offloadPass", bits);
    this.passed = passedOperations(bits, core);
    const pump = core.constant("STATE_WIRE_PUMP");
    const layout = {
      wireBase: core.constant("wireBase"),
      wireBytes: core.constant("wireBytes"),
      headAt: core.constant("STATE_WIRE"),
      cursorAt: gated ? pump : core.constant("STATE_WIRE_CONSUMER"),
      sleepingAt: pump + 4,
      bellAt: core.constant("STATE_WIRE_PUMP_BELL"),
      vnetHdr: offload === "emulate" ? 0 : 1,
      afXdp: 0,
    };
    if (wire === "af_xdp" && offload !== "emulate") throw new IfaceError(`--offload ${offload} needs --wire af_packet (AF_XDP has no virtio_net_hdr to hand over)`);
    // auto: AF_XDP first (the fastest that works), AF_PACKET when it does not (the reason is
    // reported). --wire-gather kernel on AF_XDP needs multi-buffer TX (XDP_USE_SG): a gather
    // list goes to the kernel as one descriptor chain (native/pump_xdp.c).
    const tries: WireBackend[] = wire === "auto" ? (offload === "emulate" ? ["af_xdp", "af_packet"] : ["af_packet"]) : [wire];
    const memory = new Uint8Array(core.memory.buffer);
    let started: ReturnType<WireNative["start"]> | undefined;
    let backend: WireBackend = tries[0];
    for (const b of tries) {
      try {
        backend = b;
        started = this.native.start(memory, name, { ...layout, afXdp: b === "af_xdp" ? 1 : 0 });
        if (b === "af_xdp" && gather === "kernel" && !started.multiBuffer) {
          this.native.finish(started.handle); // nothing was published: the pump ends at once
          started = undefined;
          if (b === tries[tries.length - 1]) throw new IfaceError(GATHER_XDP_NO_SG(name));
          this.fallback = GATHER_XDP_NO_SG(name);
          continue;
        }
        break;
      } catch (e) {
        const code = (e as { code?: string }).code ?? "";
        const line = OPEN_ERRORS[code]?.(name, (e as Error).message) ?? `--iface ${name}: ${(e as Error).message}`;
        const backendOnly = code === "EXDP" || code === "EMEMLOCK";
        if (!backendOnly || b === tries[tries.length - 1]) throw new IfaceError(line);
        this.fallback = line;
      }
    }
    this.handle = started!.handle;
    this.mtu = started!.mtu;
    this.multiBuffer = started!.multiBuffer;
    this.backend = backend;
  }

  /** Frames the pump has handled since the last call (the main loop's progress). */
  poll(): number {
    const s = this.native.stats(this.handle);
    const seen = s.sent + s.oversize + s.down + s.gone + s.other;
    const moved = seen - this.lastSeen;
    this.lastSeen = seen;
    return moved;
  }

  get gone(): boolean {
    return this.native.stats(this.handle).ifaceGone !== 0;
  }

  /** The producer is done: waits until the pump has handled every published frame. */
  finish(): void {
    if (this.finished) return;
    this.native.finish(this.handle);
    this.finished = this.native.stats(this.handle);
  }

  facts(): IfaceFacts {
    const s = this.finished ?? this.native.stats(this.handle);
    const c = (name: CounterName) => Number(this.core.counter(name));
    return {
      name: this.name,
      backend: this.backend,
      fallback: this.fallback,
      multiBuffer: this.multiBuffer,
      mtu: this.mtu,
      offload: {
        mode: this.offload,
        passedThrough: this.passed,
        operations: { passedLargeSends: c("passedLso"), passedChecksums: c("passedCsum"), emulatedSegments: c("segments"), emulatedChecksums: c("csumCompleted") },
      },
      sent: s.sent,
      bytes: s.bytes,
      refused: { oversize: s.oversize, down: s.down, gone: s.gone, other: s.other, otherErrno: s.otherErrno },
      backpressureRetries: s.backpressure,
      syscalls: s.syscalls,
      pumpSleeps: s.sleeps,
      pumpNice: s.nice,
      gather: { mode: this.gather, lists: c("gatherLists"), copied: c("gatherCopied") },
      gone: s.ifaceGone !== 0,
      lost: lostReason(s.ifaceGone),
    };
  }
}

/** --wire-gather kernel on an AF_XDP socket bound without multi-buffer (kernels before 6.6). */
export const GATHER_XDP_NO_SG = (name: string) => `--wire af_xdp --wire-gather kernel on ${name}: this kernel binds AF_XDP without multi-buffer (XDP_USE_SG, Linux 6.6+), so it takes no gather list; use --wire af_packet`;

const ENXIO = 6;
const ENETDOWN = 100;
const ETIMEDOUT = 110;

function lostReason(errno: number): string {
  if (errno === 0) return "";
  return errno === ENETDOWN ? "down" : errno === ENXIO ? "removed" : errno === ETIMEDOUT ? "stuck (the kernel stopped completing frames)" : `errno ${errno}`;
}

/** The one line for an interface lost mid-run. */
export function ifaceLostLine(f: IfaceFacts): string {
  const how = f.lost === "down" ? "went down" : f.lost === "removed" ? "went away" : `failed (${f.lost})`;
  return `interface ${f.name} ${how} during the run; the run ended early (frames after it counted as refused: interface ${f.lost === "down" ? "down" : f.lost === "removed" ? "gone" : "other"})`;
}

/** Frames the interface refused, all reasons. */
export function ifaceRefused(f: IfaceFacts): number {
  return f.refused.oversize + f.refused.down + f.refused.gone + f.refused.other;
}

/** The books' line for the interface: every wire frame was sent or refused for a named reason. */
export function ifaceBooksProblem(f: IfaceFacts, wireFrames: number): string | undefined {
  const refused = ifaceRefused(f);
  return wireFrames === f.sent + refused ? undefined : `wire frames ${wireFrames} != sent on ${f.name} ${f.sent} + refused ${refused}`;
}

/** The report's text line. */
export function ifaceTextLine(f: IfaceFacts): string {
  const r = f.refused;
  const reasons = [["oversize", r.oversize], ["interface down", r.down], ["interface gone", r.gone], [`other (errno ${r.otherErrno})`, r.other]]
    .filter(([, v]) => (v as number) > 0)
    .map(([k, v]) => `${k} ${v}`);
  const o = f.offload.operations;
  const offload = f.offload.mode === "emulate" ? "" : `; --offload ${f.offload.mode}: ${f.offload.passedThrough.length ? f.offload.passedThrough.join(", ") + " to the kernel" : "nothing to pass through"}` +
    ` (passed ${o.passedLargeSends} large sends, ${o.passedChecksums} checksums; emulated ${o.emulatedSegments} segments, ${o.emulatedChecksums} checksums)`;
  const backend = f.backend + (f.multiBuffer ? " multi-buffer" : "") + (f.fallback ? ` (AF_XDP unavailable: ${f.fallback})` : "") +
    (f.gather.mode === "kernel" ? `, kernel gather: ${f.gather.lists} gather lists, ${f.gather.copied} gathered by the NIC` : "");
  return `Interface ${f.name} (${backend}, MTU ${f.mtu}${offload}): ${f.sent} frames (${f.bytes} bytes) sent, refused ${ifaceRefused(f)}` +
    (reasons.length ? ` (${reasons.join(", ")})` : "") +
    `; ${f.backpressureRetries} backpressure retries, ${f.syscalls} ${f.backend === "af_xdp" ? "sendto kicks" : "sendmmsg calls"}, pump nice ${f.pumpNice}` +
    (f.gone ? `; the interface was lost during the run (${f.lost})` : "");
}
