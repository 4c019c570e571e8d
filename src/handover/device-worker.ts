// A device thread for hand-overs: a raw worker_threads Worker, not a piscina task, because the
// supervisor must be able to terminate this very thread at an arbitrary instruction
// (worker.terminate(), the chaos test) and start a standby that is already warm. It attaches
// to the shared memory at once (instantiates the core), then waits as a standby until the
// supervisor activates it with a StageTask, then runs the ordinary device loop.

import { parentPort, workerData } from "node:worker_threads";
import runStage, { getCore, StageTask } from "../workers/stage.js";

// Test support (the guard): VNIC_HANDOVER_FAULT="die-from:N" makes every device from the N-th
// on (1 = the first) exit as soon as it is activated, before it does anything.
const fault = /^die-from:(\d+)$/.exec(process.env.VNIC_HANDOVER_FAULT ?? "");
const dieAtOnce = fault !== null && workerData.serial >= Number(fault[1]);

getCore();
parentPort!.postMessage({ kind: "ready" });
parentPort!.once("message", (task: StageTask) => {
  if (dieAtOnce) process.exit(70);
  try {
    parentPort!.postMessage({ kind: "result", result: runStage(task) });
  } catch (e) {
    parentPort!.postMessage({ kind: "error", message: e instanceof Error ? e.message : String(e) });
  }
});
