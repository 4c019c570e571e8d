// The layout README's "Map of the repository" promises: the map names every folder of src/ and assembly/,
// no module of src/ or assembly/ imports itself in a circle (type-only imports excepted: they
// vanish at compile time), and no file of src/ or assembly/ grows past 400 lines without
// saying why in its header.

import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync, existsSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Value imports (and re-exports) of relative modules, as absolute .ts paths. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/gms)].map((m) => m[1]);
  return specs.map((s) => {
    const p = path.resolve(path.dirname(file), s).replace(/\.js$/, "");
    return p.endsWith(".ts") ? p : p + ".ts";
  });
}

/** Every cycle found by a depth-first walk, as "a -> b -> a" with paths relative to root. */
function importCycles(files: string[]): string[] {
  const known = new Set(files);
  const graph = new Map(files.map((f) => [f, valueImports(f).filter((d) => known.has(d))]));
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (node: string, stack: string[]) => {
    state.set(node, "open");
    stack.push(node);
    for (const dep of graph.get(node)!) {
      if (state.get(dep) === "open") cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => path.relative(root, f)).join(" -> "));
      else if (!state.has(dep)) visit(dep, stack);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const f of files) if (!state.has(f)) visit(f, []);
  return cycles;
}

describe("the repository's layout", () => {
  for (const top of ["src", "assembly"]) {
    it(`README's map names every folder of ${top}/, and each folder it names exists`, () => {
      const readme = readFileSync(path.join(root, "README.md"), "utf8");
      const section = readme.slice(readme.indexOf("## Map of the repository"), readme.indexOf("## How we know it is right"));
      expect(section.length).toBeGreaterThan(100);
      const named = new Set([...section.matchAll(new RegExp(`^\\| \`${top}/([a-z-]+)/\` \\|`, "gm"))].map((m) => m[1]));
      const folders = readdirSync(path.join(root, top)).filter((e) => statSync(path.join(root, top, e)).isDirectory());
      expect([...named].sort()).toEqual(folders.sort());
    });
  }

  it("every file of src/ and assembly/ is named in kebab-case, as the folders are", () => {
    const files = [...tsFiles(path.join(root, "src")), ...tsFiles(path.join(root, "assembly"))].map((f) => path.relative(root, f));
    const badlyNamed = files.filter((f) => !f.split(path.sep).slice(1).every((part) => /^[a-z0-9]+(-[a-z0-9]+)*(\.generated)?(\.ts)?$/.test(part)));
    expect(badlyNamed).toEqual([]);
  });

  it("a replay (replay/, report/, the replay command) loads no benchmark or gate code (src/perf/)", () => {
    const entries = [...tsFiles(path.join(root, "src", "replay")), ...tsFiles(path.join(root, "src", "report")), path.join(root, "src", "cli", "cli-replay.ts")];
    const reached = new Set<string>();
    const walk = (f: string) => {
      if (reached.has(f) || !existsSync(f)) return;
      reached.add(f);
      for (const dep of valueImports(f)) walk(dep);
    };
    entries.forEach(walk);
    const perf = path.join(root, "src", "perf") + path.sep;
    expect([...reached].filter((f) => f.startsWith(perf)).map((f) => path.relative(root, f))).toEqual([]);
  });

  it("no import cycles in src/ or assembly/", () => {
    expect(importCycles(tsFiles(path.join(root, "src")))).toEqual([]);
    expect(importCycles(tsFiles(path.join(root, "assembly")))).toEqual([]);
  });

  it("the cycle finder finds a cycle when there is one", () => {
    // Two real files that import each other would be the failure above; here a pair made up
    // in a temporary folder proves the walk reports it.
    const dir = path.join(root, "tmp", "structure-cycle");
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(path.join(dir, "a.ts"), 'import { b } from "./b.js";\nexport const a = () => b;\n');
      writeFileSync(path.join(dir, "b.ts"), 'import {\n  a,\n} from "./a.js";\nexport const b = () => a;\n');
      writeFileSync(path.join(dir, "c.ts"), 'import type { a } from "./a.js";\nexport type C = typeof a;\n');
      const cycles = importCycles(tsFiles(dir));
      expect(cycles).toHaveLength(1);
      expect(cycles[0]).toMatch(/a\.ts -> .*b\.ts -> .*a\.ts$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("no file of src/ or assembly/ over 400 lines without a reason in its header", () => {
    const long = [...tsFiles(path.join(root, "src")), ...tsFiles(path.join(root, "assembly"))]
      .filter((f) => !f.endsWith(".generated.ts"))
      .filter((f) => readFileSync(f, "utf8").split("\n").length > 400)
      .filter((f) => !/over 400 lines/i.test(readFileSync(f, "utf8").split("\n").slice(0, 20).join("\n")));
    expect(long.map((f) => path.relative(root, f))).toEqual([]);
  });
});
