// The hand-over options of a replay: --handover-every N, --chaos-device COUNT[:SEED],
// --handover-config KEY=VALUE,... (parsed here, applied by the supervisor).

import { parseCopyMode } from "../replay/copy-options.js";
import { coalesceParams, parseCoalesce } from "../replay/coalesce-options.js";
import { UsageError } from "../cli/cli-errors.js";

export interface HandoverOptions {
  /** A new device worker every N guest descriptors (0: none). */
  every: number;
  /** Device workers to terminate at a random point (0: none). */
  chaosKills: number;
  chaosSeed: number;
  /** Core params the devices after the first hand-over run with (by name), and its text. */
  config?: { params: Record<string, number>; text: string };
  /** Most devices in a row that may die on their own before the run gives up. */
  maxConsecutiveFailures: number;
}

export class HandoverOptionError extends UsageError {}

/** "1000" or "1000:7". */
export function parseChaos(spec: string): { kills: number; seed: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new HandoverOptionError(`--chaos-device takes COUNT[:SEED], not "${spec}"`);
  return { kills: Number(m[1]), seed: m[2] === undefined ? 1 : Number(m[2]) };
}

/**
 * "copy=full,coalesce=none,nic-max-lso=16384,csum=off,fixed-id=on,nic-max-segments=N" → core
 * params. `constant` reads a core export (coalescing policy ids live in the core).
 */
export function parseHandoverConfig(spec: string, constant: (name: string) => number): Record<string, number> {
  const params: Record<string, number> = {};
  // coalesce values contain commas (count:8,usecs:50): split on commas before a key only.
  for (const item of spec.split(/,(?=(?:copy|coalesce|nic-max-lso|nic-max-segments|csum|fixed-id)=)/)) {
    const eq = item.indexOf("=");
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (eq < 0) throw new HandoverOptionError(`--handover-config: "${item}" is not KEY=VALUE`);
    const onOff = () => {
      if (value !== "on" && value !== "off") throw new HandoverOptionError(`--handover-config ${key} takes on or off, not "${value}"`);
      return value === "on" ? 1 : 0;
    };
    const int = (min: number, max: number) => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < min || n > max) throw new HandoverOptionError(`--handover-config ${key} takes a whole number from ${min} to ${max}, not "${value}"`);
      return n;
    };
    try {
      if (key === "copy") Object.assign(params, parseCopyMode(value));
      else if (key === "coalesce") Object.assign(params, coalesceParams(parseCoalesce(value), constant));
      else if (key === "nic-max-lso") params.nicMaxLso = int(1024, 262144);
      else if (key === "nic-max-segments") params.maxSegments = int(1, 65535);
      else if (key === "csum") params.csumOffload = onOff();
      else if (key === "fixed-id") params.fixedId = onOff();
      else throw new HandoverOptionError(`--handover-config: unknown key "${key}" (copy, coalesce, nic-max-lso, nic-max-segments, csum, fixed-id)`);
    } catch (e) {
      if (e instanceof HandoverOptionError) throw e;
      throw new HandoverOptionError(`--handover-config ${key}: ${(e as Error).message}`);
    }
  }
  return params;
}
