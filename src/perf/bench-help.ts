// --help (or -h) for the benchmarks in bench/: prints the file's own header comment — what it
// measures, how, and its usage line — so the help cannot drift from the documentation at the
// top of the file. tsc keeps comments, so the compiled file carries the same header.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Call first thing in a benchmark (before it parses its arguments): exits 0 after the help. */
export function helpIfAsked(moduleUrl: string): void {
  if (!process.argv.slice(2).some((a) => a === "--help" || a === "-h")) return;
  const header: string[] = [];
  for (const line of readFileSync(fileURLToPath(moduleUrl), "utf8").split("\n")) {
    if (!line.startsWith("//")) break;
    header.push(line.replace(/^\/\/ ?/, ""));
  }
  process.stdout.write(header.join("\n") + "\n");
  process.exit(0);
}
