// A device thread for hand-overs: a raw worker_threads Worker, not a piscina task, because the
// supervisor must be able to terminate this very thread at an arbitrary instruction
// (worker.terminate(), the chaos test) and start a standby that is already warm.
//
// Life: attach to the shared memory (instantiate the core), then for each task the supervisor
// sends: wait as a standby until the shared word IF_ACTIVE_SERIAL names the task's serial,
// reconcile and run the ordinary device loop (src/workers/stage.ts). At a cooperative
// hand-over the device, as the last thing it does after leaving its loop, names its successor
// itself (serial + 1): the holding queue is handed from owner to owner without a round trip
// through the host. A thread that handed over cooperatively is healthy, so the supervisor may
// send it another task: it then runs a new device — a fresh instance of the core, every
// per-instance global zeroed — on the same OS thread (a killed thread is never reused).

import { parentPort } from "node:worker_threads";
import runStage, { freshCore, getCore } from "../workers/stage.js";
import { STOP_NOW } from "../stop.js";

export interface DeviceWorkerTask {
  serial: number;
  budget: number;
  /** Guest descriptors per device (0: no cooperative hand-over). */
  every: number;
  /** At its hand-over, activate serial + 1 itself (false when the host must change the
   *  configuration in between). */
  chainNext: boolean;
}

// Test support (the guard): VNIC_HANDOVER_FAULT="die-from:N" makes every device from the N-th
// on (1 = the first) exit as soon as it is activated, before it does anything.
const fault = /^die-from:(\d+)$/.exec(process.env.VNIC_HANDOVER_FAULT ?? "");

let core = getCore();
let runs = 0;
const i32 = new Int32Array(core.memory.buffer);
const activeIndex = core.constant("IF_ACTIVE_SERIAL") >> 2;
const stopIndex = core.constant("STATE_STOP") >> 2;

/** Waits until `serial` may run; false when the run stopped first. */
function waitForTurn(serial: number): boolean {
  for (;;) {
    const active = Atomics.load(i32, activeIndex);
    if (active === serial) return true;
    if (Atomics.load(i32, stopIndex) === STOP_NOW) return false;
    Atomics.wait(i32, activeIndex, active, 20);
  }
}

parentPort!.on("message", (task: DeviceWorkerTask) => {
  if (runs++ > 0) core = freshCore();
  if (!waitForTurn(task.serial)) {
    parentPort!.postMessage({ kind: "unused" });
    return;
  }
  if (fault !== null && task.serial >= Number(fault[1])) process.exit(70);
  try {
    const takeLimit = task.every > 0 ? Number(core.counter("deviceDescriptors")) + task.every : 0;
    const result = runStage({ stage: "device", budget: task.budget, handover: { takeLimit, serial: task.serial } });
    if (result.handedOver && task.chainNext) {
      Atomics.store(i32, activeIndex, task.serial + 1);
      Atomics.notify(i32, activeIndex);
    }
    parentPort!.postMessage({ kind: "result", result });
  } catch (e) {
    parentPort!.postMessage({ kind: "error", message: e instanceof Error ? e.message : String(e) });
  }
});
parentPort!.postMessage({ kind: "ready" });
