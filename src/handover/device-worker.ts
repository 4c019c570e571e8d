// A device thread for hand-overs: a raw worker_threads Worker, not a piscina task, because the
// supervisor must be able to terminate this very thread at an arbitrary instruction
// (worker.terminate(), the chaos test) and start a standby that is already warm. It attaches
// to the shared memory at once (instantiates the core), then waits as a standby until the
// supervisor activates it with a StageTask, then runs the ordinary device loop.

import { parentPort } from "node:worker_threads";
import runStage, { getCore, StageTask } from "../workers/stage.js";

getCore();
parentPort!.postMessage({ kind: "ready" });
parentPort!.once("message", (task: StageTask) => {
  try {
    parentPort!.postMessage({ kind: "result", result: runStage(task) });
  } catch (e) {
    parentPort!.postMessage({ kind: "error", message: e instanceof Error ? e.message : String(e) });
  }
});
