// vnic's command line: pick the command, map outcomes to exit codes. Nothing else; the replay
// command's options live in src/cli/cli-replay.ts.
//
// Exit codes: 0 success; 1 the run failed or its books did not balance; 2 bad input (usage,
// an unreadable or corrupt capture).

import { CaptureError } from "../capture/index.js";
import { DatapathError } from "../datapath/datapath.js";
import { OutputError } from "../util/output-file.js";
import { IfaceError } from "../wire/iface-pump.js";
import { WireNativeMissing } from "../wire/native.js";
import { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError } from "./cli-errors.js";
import { replayCommand } from "./cli-replay.js";

export { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK };



const MAIN_HELP = `vnic — a virtual-NIC transmit datapath in WebAssembly over shared memory

Usage: vnic <command> [options]

Commands:
  replay CAPTURE   replay a capture through the datapath (vnic replay --help)
  gen              generate a capture (vnic gen --help)
  bench            the end-to-end benchmark matrix (vnic bench --help)
  gate             packets-per-second regression gate against a baseline (vnic gate --help)

Options:
  -h, --help       this text
`;


async function genCommand(argv: string[]): Promise<number> {
  // src/cli/gen.ts (the capture generator) is loaded only when asked for.
  const genModule: string = "./gen.js";
  const { runGen } = (await import(genModule)) as { runGen: (argv: string[]) => Promise<number> };
  return runGen(argv);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "replay":
        return await replayCommand(rest);
      case "gen":
        return await genCommand(rest);
      case "bench":
        return await (await import("../perf/bench.js")).runBench(rest);
      case "gate":
        return await (await import("../perf/gate.js")).runGate(rest);
      case undefined:
      case "-h":
      case "--help":
      case "help":
        process.stdout.write(MAIN_HELP);
        return EXIT_OK; // `vnic` alone is someone asking what it does
      default:
        throw new UsageError(`unknown command "${command}"; see vnic --help`);
    }
  } catch (e) {
    return reportError(e);
  }
}

/** node:util parseArgs's errors in our words (its own mention quoting rules and '--'). */
function parseArgsMessage(e: Error & { code: string }): string {
  const option = /'(-[^']*)'/.exec(e.message)?.[1] ?? "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option}; see --help`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /argument missing/.test(e.message)
        ? `${option.split(" ")[0]} needs a value; see --help`
        : `${option.split(" ")[0]} takes no value; see --help`;
    default:
      return e.message;
  }
}

function reportError(e: unknown): number {
  if (e instanceof CaptureError) {
    process.stderr.write(`vnic: ${e.message}\n`);
    return EXIT_BAD_INPUT;
  }
  if (e instanceof IfaceError || e instanceof WireNativeMissing) {
    process.stderr.write(`vnic: ${e.message}\n`);
    return e instanceof IfaceError ? EXIT_BAD_INPUT : EXIT_FAILED;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`vnic: ${(e as Error).message}\n`);
    return EXIT_BAD_INPUT;
  }
  if ((e as { code?: string }).code?.startsWith?.("ERR_PARSE_ARGS")) {
    process.stderr.write(`vnic: ${parseArgsMessage(e as Error & { code: string })}\n`);
    return EXIT_BAD_INPUT;
  }
  if (e instanceof OutputError) {
    process.stderr.write(`vnic: ${e.message}\n`);
    return e.beforeRun ? EXIT_BAD_INPUT : EXIT_FAILED;
  }
  if ((e as { code?: string }).code === "ENOENT" || (e as { code?: string }).code === "EISDIR" || (e as { code?: string }).code === "EACCES") {
    process.stderr.write(`vnic: ${(e as Error).message}\n`);
    return EXIT_BAD_INPUT;
  }
  if (e instanceof DatapathError) {
    process.stderr.write(`vnic: ${e.message}\n`);
    const c = e.counters.counters;
    process.stderr.write(`vnic: counters so far: posted ${c.guestPosted}, completed ${c.guestCompleted}, wire frames ${c.wireFrames}\n`);
    return EXIT_FAILED;
  }
  process.stderr.write(`vnic: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT_FAILED;
}
