// How fast a replay goes, as the user asked it (--pps, --mbps, --multiplier; absent: top
// speed). A replay setting, carried to the guest worker, whose pacer (src/workers/pacer.ts)
// hands the rate to the core.

export type PaceSpec =
  | { kind: "pps"; rate: number }
  | { kind: "mbps"; rate: number }
  | { kind: "multiplier"; rate: number };
