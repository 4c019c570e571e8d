// Files vnic writes for a user (--out, --report, gen's capture, bench and gate summaries) are
// never lost and never left half-written:
//   - the target is checked before any work starts: its folder exists and is writable, it is
//     not a folder, and it is not one of the run's inputs (same device and inode, so a hard or
//     symbolic link to the input is caught too: `vnic replay big.pcap --out big.pcap` once
//     destroyed the capture);
//   - a regular file is written to a temporary file beside the target and renamed over it only
//     once complete (rename(2) is atomic within a file system), so a failed run leaves the
//     old target, or none, never a truncated one; a device (/dev/null, /dev/full, a FIFO) is
//     written in place, there being nothing to rename;
//   - a write error becomes an OutputError: one line naming the file and the error.

import { accessSync, constants, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A file vnic was asked to write that it cannot write: one line, exit 1 (exit 2 before the run). */
export class OutputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    /** True when found before any work started (a usage problem: exit 2). */
    readonly beforeRun = false,
  ) {
    super(`${file}: ${detail}`);
    this.name = "OutputError";
  }
}

/** "no space left on device (ENOSPC)" from a Node file-system error. */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!err?.code) return String((e as Error)?.message ?? e);
  const text = err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "").replace(/, \w+$/, "");
  return `${text} (${err.code})`;
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/**
 * Throws OutputError (beforeRun) unless `target` can be written without touching `inputs`.
 * `what` names the option in the message ("--out").
 */
export function checkOutputTarget(target: string, what: string, inputs: string[] = []): void {
  const st = statOrNull(target);
  if (st?.isDirectory()) throw new OutputError(target, `${what} names a folder, not a file`, true);
  if (st) {
    for (const input of inputs) {
      const ist = statOrNull(input);
      if (ist && ist.dev === st.dev && ist.ino === st.ino) {
        throw new OutputError(target, `${what} is the input ${input} itself (same file); writing it would destroy the input — choose another name`, true);
      }
    }
  }
  if (st && !st.isFile()) return; // a device or FIFO: written in place
  const dir = dirname(resolve(target));
  const dst = statOrNull(dir);
  if (!dst || !dst.isDirectory()) throw new OutputError(target, `${what}: folder ${dir} does not exist`, true);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new OutputError(target, `${what}: cannot write in folder ${dir}: ${describeFsError(e)}`, true);
  }
}

/** Where to write `target` until it is complete, and how to finish or give up. */
export interface OutputPlan {
  /** Path to open and write. */
  path: string;
  /** Renames the finished file into place (no-op for a device). */
  commit(): void;
  /** Removes the temporary file (the target is left as it was). */
  abandon(): void;
}

export function planOutput(target: string): OutputPlan {
  const st = statOrNull(target);
  if (st && !st.isFile()) return { path: target, commit: () => undefined, abandon: () => undefined };
  // Through a symbolic link the file it points at is replaced, not the link.
  const real = st ? realpathSync(target) : resolve(target);
  const temp = join(dirname(real), `.${basename(real)}.vnic-${process.pid}.tmp`);
  return {
    path: temp,
    commit: () => {
      try {
        renameSync(temp, real);
      } catch (e) {
        throw new OutputError(target, `could not move the finished file into place: ${describeFsError(e)}`);
      }
    },
    abandon: () => {
      try {
        unlinkSync(temp);
      } catch {
        // never created, or already gone
      }
    },
  };
}

/** Writes `data` to `target` through a temporary file; throws OutputError. */
export function writeFileSafely(target: string, data: string | Uint8Array, what = "output"): void {
  checkOutputTarget(target, what);
  const plan = planOutput(target);
  try {
    writeFileSync(plan.path, data);
  } catch (e) {
    plan.abandon();
    throw new OutputError(target, `write failed: ${describeFsError(e)}`);
  }
  plan.commit();
}
