// The command line's one error type for bad input. Every command (replay, gen, bench, gate)
// and every option parser below them throws UsageError, or a subclass naming where it came
// from, for a problem with what the user typed; reportError (src/cli.ts) prints it as one
// line and exits 2. Errors of the run itself (a failed stage, a write error) have types of
// their own and exit 1.

export class UsageError extends Error {
  override name = "UsageError";
}
