// Fault injection, for the failure-handling tests only (tests/faults.test.ts, and the kernel
// gather tests' poisoning guest below): a stage that
// throws, or ends its worker thread, after a given number of steps, so the host's handling of
// a dying stage (one line naming the stage, the counters so far, no thread left) is exercised
// on the real stage loop. In-process tests pass it as a stage option; whole-CLI tests set
// VNIC_STAGE_FAULT="<guest|device>:<throw|exit>:<steps>". Unset, it costs one compare per step.

import type { StageName } from "./stage.js";
import type { Core } from "../core/core.js";

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

/** VNIC_GUEST_POISON=1 (whole-CLI tests of kernel gather): the guest overwrites each buffer the
 *  moment its completion is visible (poisonCompleted below), so a completion delivered while
 *  the kernel may still read the buffer changes what reaches the wire. */
export function poisonFromEnv(stage: StageName, value = process.env.VNIC_GUEST_POISON ?? ""): boolean {
  return stage === "guest" && value === "1";
}

export const GUEST_POISON_BYTE = 0xa5;

/**
 * The poisoning guest's step, run on the guest thread before each guestStep: overwrites the
 * buffer of every completion now visible and not yet reclaimed — what a real driver may do as
 * soon as it frees a buffer. A completion's cookie names its guest TX slot (the guest numbers
 * cookies as it fills the ring, and a slot is not rewritten before its completion is reclaimed),
 * so the slot's gpa and length are still the buffer's. Resident buffers (--guest-resident) are
 * sent again, so they are left alone. Returns the completions poisoned.
 */
export function poisonCompleted(core: Core): number {
  const x = core.exports;
  if (x.getParam(core.constant("P_guestResident")) !== 0) return 0;
  const used = core.constant("RING_USED");
  const guestTx = core.constant("RING_GUEST_TX");
  const page = core.constant("PAGE_SIZE");
  const [ueCookie, gdCookie, gdGpa, gdLen] = (["UE_COOKIE", "GD_COOKIE", "GD_GPA", "GD_LEN"] as const).map((k) => core.constant(k));
  const view = core.view;
  const n = x.ringAvailable(used, 0xffffffff) >>> 0;
  const tail = x.ringTail(used) >>> 0;
  for (let i = 0; i < n; i++) {
    const cookie = view.getUint32((x.ringSlot(used, tail + i) >>> 0) + ueCookie, true);
    const gd = x.ringSlot(guestTx, cookie) >>> 0;
    if (view.getUint32(gd + gdCookie, true) !== cookie) continue;
    let gpa = view.getUint32(gd + gdGpa, true);
    let len = view.getUint32(gd + gdLen, true);
    while (len > 0) {
      const k = Math.min(len, page - (gpa & (page - 1)));
      const at = x.machineAddress(gpa) >>> 0;
      core.u8.fill(GUEST_POISON_BYTE, at, at + k);
      gpa += k;
      len -= k;
    }
  }
  return n;
}
