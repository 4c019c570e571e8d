// Every benchmark answers --help with its usage and exits 0 before it measures anything
// (src/perf/bench-help.ts prints the file's header comment). ring-producer.ts is a worker of
// stages.ts, not a command.

import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/core/core.js";

const root = projectRoot();
const benches = readdirSync(path.join(root, "bench")).filter((f) => f.endsWith(".ts") && f !== "ring-producer.ts").map((f) => f.replace(/\.ts$/, ""));

describe("the benchmarks' help", () => {
  it.each(benches)("node dist/bench/%s.js --help prints its usage and exits 0", (name) => {
    const r = spawnSync(process.execPath, [path.join(root, "dist", "bench", `${name}.js`), "--help"], { encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`node dist/bench/${name}.js`);
  });
});
