// The command line's one error type for bad input. Every command (replay, gen, bench, gate)
// and every option parser below them throws UsageError, or a subclass naming where it came
// from, for a problem with what the user typed; reportError (src/cli/cli.ts) prints it as one
// line and exits 2. Errors of the run itself (a failed stage, a write error) have types of
// their own and exit 1.

/** Exit codes of every command: 0 success; 1 the run failed or its books did not balance; 2 bad
 *  input (usage, an unreadable or corrupt capture). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export class UsageError extends Error {
  override name = "UsageError";
}
