// The coalescing simulator: the real wasm policy driven by a seeded discrete-event model.
export { simulate, type Workload, type SimOptions, type SimResult, type StepTrace } from "./engine.js";
export { WasmCoalescer } from "./wasm-policy.js";
export { standardScenarios, type Scenario } from "./scenarios.js";
export { runSimulation, formatTables, summarize, SIM_POLICIES, type Row } from "./table.js";
export { Rng } from "../util/rng.js";
