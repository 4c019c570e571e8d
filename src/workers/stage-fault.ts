// Fault injection, for the failure-handling tests only (tests/faults.test.ts): a stage that
// throws, or ends its worker thread, after a given number of steps, so the host's handling of
// a dying stage (one line naming the stage, the counters so far, no thread left) is exercised
// on the real stage loop. In-process tests pass it as a stage option; whole-CLI tests set
// VNIC_STAGE_FAULT="<guest|device>:<throw|exit>:<steps>". Unset, it costs one compare per step.

import type { StageName } from "./stage.js";

export interface StageFault {
  /** throw: the step function's caller throws (a bug in a stage); exit: process.exit(70) in the worker. */
  kind: "throw" | "exit";
  afterSteps: number;
}

/** The fault VNIC_STAGE_FAULT asks of `stage`, if any. */
export function faultFromEnv(stage: StageName, value = process.env.VNIC_STAGE_FAULT ?? ""): StageFault | undefined {
  const m = /^(guest|device):(throw|exit):(\d+)$/.exec(value);
  if (!m || m[1] !== stage) return undefined;
  return { kind: m[2] as StageFault["kind"], afterSteps: Number(m[3]) };
}

/** The step count at which `fault` strikes (Infinity: never), for the loop's one compare. */
export function faultStep(fault: StageFault | undefined): number {
  return fault ? fault.afterSteps : Infinity;
}

export function strike(fault: StageFault, steps: number): never {
  if (fault.kind === "exit") process.exit(70);
  throw new Error(`injected failure after ${steps} steps`);
}
