// Loads the native wire pump (native/, the optional dependency vnic-wire), or says in one line
// what is missing and how to get it.

import { createRequire } from "node:module";

export interface PumpLayout {
  wireBase: number;
  wireBytes: number;
  /** Byte offsets (in the shared memory) of the producer's head, our cursor, our sleeping flag and our bell. */
  headAt: number;
  cursorAt: number;
  sleepingAt: number;
  bellAt: number;
  /** 1: PACKET_VNET_HDR (every message starts with a virtio_net_hdr: --offload passthrough|auto). */
  vnetHdr: number;
  /** 1: the AF_XDP backend (the memory registered as UMEM); 0: AF_PACKET. */
  afXdp: number;
}

export interface PumpStats {
  sent: number;
  bytes: number;
  oversize: number;
  down: number;
  gone: number;
  other: number;
  otherErrno: number;
  backpressure: number;
  syscalls: number;
  sleeps: number;
  /** The pump thread's nice value: -5 when it could raise its priority (CAP_SYS_NICE), else its own. */
  nice: number;
  ifaceGone: number;
}

export interface WireNative {
  start(memory: Uint8Array, iface: string, layout: PumpLayout): { handle: object; mtu: number; multiBuffer: boolean };
  stats(handle: object): PumpStats;
  finish(handle: object): void;
  kick(memory: Uint8Array, bellAt: number): void;
  /** The interface's offload features by `ethtool -k` name. */
  features(iface: string): Record<string, boolean>;
}

/** The native module is not there: `message` is the one line to print. */
export class WireNativeMissing extends Error {}

let cached: WireNative | undefined;

export function loadWireNative(): WireNative {
  if (cached) return cached;
  let mod: (WireNative & { loadError?: string }) | undefined;
  let why = "";
  try {
    mod = createRequire(import.meta.url)("vnic-wire");
  } catch (e) {
    why = (e as { code?: string }).code === "MODULE_NOT_FOUND" ? "the optional package vnic-wire (native/) is not installed" : String((e as Error).message);
  }
  if (mod?.loadError) why = `the native wire module (native/) is ${mod.loadError}`;
  if (!mod || mod.loadError) {
    throw new WireNativeMissing(`--iface needs a C compiler at install time: ${why}; install one (Debian: apt-get install gcc libc6-dev) and run \`npm rebuild vnic-wire\``);
  }
  cached = mod;
  return mod;
}
