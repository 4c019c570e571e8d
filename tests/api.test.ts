// The library surface (src/index.ts, package.json "exports"): what `import { replay } from "vnic"`
// gives a program, and what `npm pack` puts in the package so that an installed vnic runs.

import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { replay } from "../src/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("public API", () => {
  it("replay() segments a 64 KiB TCP super-packet capture and its books balance", async () => {
    const r = await replay({ capture: path.join(root, "captures", "tcp-64k-v4.pcap") });
    expect(r.books.balanced).toBe(true);
    expect(r.report.lso.superPackets).toBeGreaterThan(0);
    expect(r.report.lso.segments).toBe(r.report.wire.frames);
    expect(r.text.split("\n")[0]).toMatch(/^Actual: \d+ packets/);
  });

  it("settings reach the datapath: a smaller MTU makes more segments, --no-csum-offload asks for none", async () => {
    const capture = path.join(root, "captures", "tcp-64k-v4.pcap");
    const big = await replay({ capture });
    const small = await replay({ capture, mtu: 1000, checksumOffload: false });
    expect(small.report.wire.frames).toBeGreaterThan(big.report.wire.frames);
    expect(small.books.balanced).toBe(true);
  });

  it("npm pack ships what an installed vnic needs (dist, the core, the CLI, types, the native sources)", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const files = new Set((JSON.parse(out)[0].files as { path: string }[]).map((f) => f.path));
    for (const f of ["bin/vnic.js", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/cli.js", "dist/src/workers/stage.js",
      "build/vnic.wasm", "native/vnic_wire.c", "native/build.cjs", "package.json", "README.md"]) {
      expect(files.has(f), f).toBe(true);
    }
    expect([...files].some((f) => f.startsWith("tests/") || f.startsWith("node_modules/"))).toBe(false);
  });
});
