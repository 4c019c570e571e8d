// A device thread for hand-overs: a raw worker_threads Worker, not a piscina task, because the
// supervisor must be able to terminate this very thread at an arbitrary instruction
// (worker.terminate(), the chaos test) and start a standby that is already warm.
//
// Life: attach to the shared memory (instantiate the core), then for each task the supervisor
// sends: wait as a standby until the shared word IF_ACTIVE_SERIAL names the task's serial,
// reconcile and run the ordinary device loop (src/workers/stage.ts). At a cooperative
// hand-over the device, as the last thing it does after leaving its loop, names its successor
// itself (serial + 1): the holding queue is handed from owner to owner without a round trip
// through the host. A thread that handed over cooperatively is healthy, so it may run another
// device — the core in the state of a fresh instance (every mutable global restored to its
// value right after instantiation, src/core/core-globals.ts) — on the same OS thread (a killed thread is never reused): either at once, itself (`inThread`: the successor
// is the next device on this very thread), or when the supervisor sends it another task.
//
// Why the successor runs on the same thread when it can (measured, README "Hand-over"): waking
// another thread for each device cost far more than the gap shows — the new thread is placed
// anew by the scheduler next to the guest, two more threads boot at the start of the run and
// wake every 20 ms, and the supervisor's round trip per hand-over runs on the cores the guest
// and the device need. The restored core state is what makes it a new device; the thread and
// the instance are only where it runs (a new WebAssembly.Instance per device cost 0.2–5 ms on
// the device thread, measured in README "Hand-over").

import { parentPort } from "node:worker_threads";
import runStage, { freshCore, getCore } from "../workers/stage.js";
import { STOP_NOW } from "../core/stop.js";
import type { DeviceReport } from "./supervisor.js";

export interface DeviceWorkerTask {
  serial: number;
  budget: number;
  /** Guest descriptors per device (0: no cooperative hand-over). */
  every: number;
  /** At its hand-over, activate serial + 1 itself (false when the host must change the
   *  configuration in between). */
  chainNext: boolean;
  /** After a cooperative hand-over, run the successor (serial + 1) on this thread, with a fresh
   *  core state, instead of leaving it to a standby thread. */
  inThread: boolean;
}

// Test support (the guard): VNIC_HANDOVER_FAULT="die-from:N" makes every device from the N-th
// on (1 = the first) exit as soon as it is activated, before it does anything.
const fault = /^die-from:(\d+)$/.exec(process.env.VNIC_HANDOVER_FAULT ?? "");

let core = getCore();
let runs = 0;
const i32 = new Int32Array(core.memory.buffer);
const activeIndex = core.constant("IF_ACTIVE_SERIAL") >> 2;
const stopIndex = core.constant("STATE_STOP") >> 2;
const f64 = new Float64Array(core.memory.buffer);
const firstWorkBase = core.constant("IF_FIRST_WORK_BY_SERIAL") >> 3;
const u32 = new Uint32Array(core.memory.buffer);
const heldBase = core.constant("IF_HELD_BY_SERIAL") >> 2;
const phaseIndex = core.constant("IF_PHASE") >> 2;

// Reports of devices that handed over to a successor on this thread wait here and go to the
// host in one message at most every REPORT_EVERY_MS (and when the chain ends, fails or dies
// by the fault below): a message per hand-over woke the host's thread every 20 ms on the two
// vCPUs the guest and the device spin on, and cost 8 % of the rate (README "Hand-over"). The
// reports are only the log; the datapath's state is in the shared memory, whatever happens to
// a report that waits here.
const REPORT_EVERY_MS = 250;
let pending: DeviceReport[] = [];
let lastReportMs = performance.now();

function report(r: DeviceReport | undefined, now: boolean): void {
  if (r) pending.push(r);
  if (pending.length === 0 || (!now && performance.now() - lastReportMs < REPORT_EVERY_MS)) return;
  parentPort!.postMessage({ kind: "results", reports: pending });
  pending = [];
  lastReportMs = performance.now();
}

/** Waits until `serial` may run; false when the run stopped first. */
function waitForTurn(serial: number): boolean {
  for (;;) {
    const active = Atomics.load(i32, activeIndex);
    if (active === serial) return true;
    if (Atomics.load(i32, stopIndex) === STOP_NOW) return false;
    Atomics.wait(i32, activeIndex, active, 20);
  }
}

/** Runs one device (serial) to its end; true when the next device runs on this thread. */
function runDevice(task: DeviceWorkerTask, serial: number): boolean {
  if (fault !== null && serial >= Number(fault[1])) {
    report(undefined, true);
    process.exit(70);
  }
  const takeLimit = task.every > 0 ? Number(core.counter("deviceDescriptors")) + task.every : 0;
  const result = runStage({ stage: "device", budget: task.budget, handover: { takeLimit, serial } });
  const continues = task.inThread && result.handedOver === true;
  const facts = { descriptorsAt: Number(core.counter("deviceDescriptors")), phase: u32[phaseIndex],
    firstWorkUs: f64[firstWorkBase + (serial & 63)], held: u32[heldBase + (serial & 63)] };
  // The successor's first-work word is zeroed before it may run (the guard reads it as "did no
  // work"); a spawned device's word is zeroed by the supervisor.
  if (continues) f64[firstWorkBase + ((serial + 1) & 63)] = 0;
  // Only the first device of a task may wait for the host (a configuration change).
  const namedSuccessor = result.handedOver === true && (task.chainNext || serial !== task.serial);
  if (namedSuccessor) {
    Atomics.store(i32, activeIndex, serial + 1);
    Atomics.notify(i32, activeIndex);
  }
  // The report waits in the batch only while this thread carries on by itself; when the host
  // must act (name the successor after a configuration change, or the chain ended) it goes now.
  report({ serial, result, continues, ...facts }, !(continues && namedSuccessor));
  return continues;
}

parentPort!.on("message", (task: DeviceWorkerTask) => {
  if (runs++ > 0) core = freshCore();
  let serial = task.serial;
  try {
    for (;;) {
      if (!waitForTurn(serial)) {
        report(undefined, true);
        parentPort!.postMessage({ kind: "unused" });
        return;
      }
      if (!runDevice(task, serial)) return;
      core = freshCore(); // a new device: the core's globals as a fresh instance has them
      serial++;
    }
  } catch (e) {
    report(undefined, true);
    parentPort!.postMessage({ kind: "error", message: e instanceof Error ? e.message : String(e) });
  }
});
parentPort!.postMessage({ kind: "ready" });
