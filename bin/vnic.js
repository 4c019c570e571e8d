#!/usr/bin/env node
// vnic's entry point: the compiled CLI lives in dist/ (npm install builds it).
import { main } from "../dist/src/cli/cli.js";

// A reader that stops early (`vnic replay … --json | head -1`) closes the pipe: that is the
// reader's choice, not an error of ours, so end quietly instead of printing a stack trace.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
