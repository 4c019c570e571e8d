// A piscina worker that runs one long-lived stage loop over the shared memory: the guest
// driver or the device. The loops are thin: all per-frame work is in the core's step
// functions; this file only spins, sleeps and stops.
//
// Sleeping (docs/design.md §3): after SPIN_TURNS turns without work, the loop reads its doorbell,
// says it is going to sleep (the core sets its sleeping flag and re-checks its input), and
// waits on the doorbell. The other side bumps the doorbell and notifies only when it sees the
// flag, so a wake-up is never lost; the wait still times out now and then to check the stop
// flag, which the host sets to end the run (or when the other stage failed).

import { workerData } from "node:worker_threads";
import { attachCore, Core } from "../core/core.js";
import { STOP_DRAIN, STOP_NOW } from "../core/stop.js";
import { Pacer } from "./pacer.js";
import type { PaceSpec } from "../replay/pace-spec.js";
import { DeviceTimeSampler, DeviceTimeSplit } from "./device-time.js";
import { HandoverHooks } from "../handover/hooks.js";
import { pumpKicker } from "../wire/pump-kick.js";
import { faultFromEnv, faultStep, poisonCompleted, poisonFromEnv, strike, type StageFault } from "./stage-fault.js";

export type StageName = "guest" | "device";

export interface StageTask {
  stage: StageName;
  /** Descriptors per step (a burst). */
  budget: number;
  /** Guest only: replay pacing (absent: top speed). */
  pace?: PaceSpec;
  /** Failure-handling tests only (stage-fault.ts): throw or exit after some steps. */
  fault?: StageFault;
  /** Device only: this device takes over from another (src/handover/): it reconciles first,
   *  and leaves cleanly once it has taken `takeLimit` guest descriptors in all (0: never). */
  handover?: { takeLimit: number; serial: number };
  /** Device only: the native wire pump (--iface) drains the wire; kick it when it sleeps. */
  wirePump?: boolean;
  /** Device only: --wire-gather kernel (assembly/nic/gather.ts): the NIC stage that sends gather
   *  lists and holds completions for the wire tail, and a sleep that refuses while it holds. */
  wireGather?: boolean;
  /** Guest only, test support: overwrite each buffer as soon as its completion is visible
   *  (src/workers/stage-fault.ts; VNIC_GUEST_POISON=1). */
  poison?: boolean;
}

export interface StageResult {
  stage: StageName;
  /** Milliseconds from the first step to the last (performance.now of this thread). */
  elapsedMs: number;
  steps: number;
  sleeps: number;
  /** Whole-run wall clock in µs since the epoch, for the host's rate computation. */
  startUs: number;
  endUs: number;
  /** Device only: its time split between the backend and the NIC model (device-time.ts). */
  timeSplit?: DeviceTimeSplit;
  /** Device with a hand-over: it left because it reached its takeLimit (not a stop). */
  handedOver?: boolean;
}

const SPIN_TURNS = 64;
// A busy stage still looks at the stop flag every STOP_CHECK_STEPS steps.
const STOP_CHECK_STEPS = 256;
const SLEEP_TIMEOUT_MS = 20;
// The device hands the coalescing timer the time every TICK_STEPS steps (and before it sleeps).
const TICK_STEPS = 16;

/** How long a stage may sleep: until the coalescing timer is due, at most SLEEP_TIMEOUT_MS. */
function sleepTimeoutMs(timerDueUs?: () => number): number {
  const due = timerDueUs?.() ?? -1;
  if (due < 0) return SLEEP_TIMEOUT_MS;
  return Math.min(SLEEP_TIMEOUT_MS, Math.max(0, (due - nowUs()) / 1000));
}

let core: Core | undefined;
export function getCore(): Core {
  core ??= attachCore(workerData.module, workerData.memory);
  return core;
}

/** Hand-over (src/handover/device-worker.ts): the next stage run gets the core in the state of
 *  a new instance (every mutable global restored, src/core/core-globals.ts), as a new device would,
 *  attached again to the shared memory. The instance itself is reused: building a new one
 *  on the device thread cost a tenth of the run's rate at a hand-over every 10^5 frames. */
export function freshCore(): Core {
  const c = getCore();
  c.resetToFresh();
  c.exports.attach();
  return c;
}

function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export default function runStage(task: StageTask): StageResult {
  const fault = task.fault ?? faultFromEnv(task.stage);
  const faultAt = faultStep(fault);
  const c = getCore();
  const x = c.exports;
  const i32 = new Int32Array(c.memory.buffer);
  const stopIndex = c.constant("STATE_STOP") >> 2;
  const isGuest = task.stage === "guest";
  const bellIndex = c.constant(isGuest ? "STATE_GUEST_DOORBELL" : "STATE_DEVICE_DOORBELL") >> 2;
  const handover = isGuest ? undefined : task.handover && new HandoverHooks(c, task.handover.takeLimit, task.handover.serial);
  const sampler = isGuest ? undefined : new DeviceTimeSampler(handover?.translate ?? x.translateStage, task.wireGather ? x.nicStageGather : x.nicStage);
  const guestStep: (budget: number) => number = (task.poison ?? poisonFromEnv(task.stage)) ? (budget) => (poisonCompleted(c), x.guestStep(budget)) : x.guestStep;
  const step: (budget: number) => number = sampler ? (budget) => sampler.step(budget) : guestStep;
  const prepareSleep: () => number = isGuest ? x.guestPrepareSleep : task.wireGather ? x.devicePrepareSleepGather : x.devicePrepareSleep;
  const woke: () => void = isGuest ? x.guestWoke : x.deviceWoke;
  // The device passes the time in for timer-based coalescing (count:N,usecs:U); the policy
  // itself never reads a clock (assembly/nic/coalesce.ts).
  const tick: ((nowUs: number) => number) | undefined = isGuest ? undefined : x.coalesceTick;
  const timerDueUs: (() => number) | undefined = isGuest ? undefined : x.coalesceTimerDueUs;
  if (isGuest) x.guestInit();
  const kickPump = task.wirePump ? pumpKicker(c) : undefined;

  const t0 = performance.now();
  const startUs = nowUs();
  const pacer = isGuest && task.pace ? new Pacer(task.pace, c) : undefined;
  let steps = 0;
  let sleeps = 0;
  let idle = 0;
  for (;;) {
    const work = step(task.budget);
    steps++;
    if (steps >= faultAt) strike(fault!, steps);
    if (work < 0) break; // the guest has posted everything and seen every completion
    if (work > 0) kickPump?.();
    if (handover && handover.afterStep(work)) break; // handed over at its takeLimit
    if (tick && steps % TICK_STEPS === 0) tick(nowUs());
    if (work > 0 && steps % STOP_CHECK_STEPS !== 0) {
      idle = 0;
      continue;
    }
    const stop = Atomics.load(i32, stopIndex);
    if (stop === STOP_NOW) break;
    if (stop === STOP_DRAIN && isGuest) x.guestStopPosting();
    if (work > 0) continue;
    if (++idle < SPIN_TURNS) continue;
    idle = 0;
    const bell = Atomics.load(i32, bellIndex);
    if (pacer) {
      // Paced and idle: sleep until the next frame is due (an interrupt wakes it sooner).
      const waitMs = pacer.idleWaitMs();
      if (waitMs > 0) Atomics.wait(i32, bellIndex, bell, Math.min(waitMs, SLEEP_TIMEOUT_MS));
      // Not behind: the next frame is due within a spin. Behind yet idle: the ring or guest
      // RAM is full, so wait for completions as top speed does below; spinning here took the
      // core from the device that frees them (--pps 4000000 reached 2.1 Mpps, ring full in
      // 98 % of steps).
      if (waitMs > 0 || !pacer.behind()) continue;
    }
    if (prepareSleep() !== 0) {
      sleeps++;
      Atomics.wait(i32, bellIndex, bell, sleepTimeoutMs(timerDueUs));
      woke();
    } else {
      // Work is pending but blocked (e.g. the wire is full and the host is draining it):
      // yield the core briefly instead of spinning against the host thread.
      Atomics.wait(i32, bellIndex, bell, 0.05);
    }
  }
  return { stage: task.stage, elapsedMs: performance.now() - t0, steps, sleeps, startUs, endUs: nowUs(), timeSplit: sampler?.split, handedOver: handover?.done };
}
