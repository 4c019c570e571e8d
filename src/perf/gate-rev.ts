// `vnic gate --against REV`: the core of another git revision, built in a temporary worktree.
//
// REV is anything git resolves to a commit (a branch, HEAD~1, origin/main, a hash). The worktree
// borrows this checkout's node_modules when REV's package-lock.json is byte-identical (the same
// compiler, so the A/B compares code, not toolchains); otherwise it runs `npm ci` there. Only the
// release core is built (asc --target release, with REV's own asconfig.json): the A/B runs both
// cores under this checkout's host (README "The gate" says what that does not cover).
//
// The built core is kept in node_modules/.cache/vnic-gate/ under the commit and the lock file's
// hash (a commit's sources never change), so a second gate against the same REV skips the build.
// The worktree itself is always removed — on success, on failure, and on Ctrl-C / SIGTERM.

import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../cli/cli-errors.js";

/** REV cannot be resolved or built: one line for the user, exit 2. */
export class RevError extends UsageError {}

export interface RevBuild {
  rev: string;
  commit: string;
  /** The release core of REV. */
  wasm: string;
  /** True when it came from the cache. */
  cached: boolean;
}

function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" }).trim();
}

/** The commit REV names, or null when this clone does not have it. */
export function resolveCommit(root: string, rev: string): string | null {
  try {
    return git(root, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]) || null;
  } catch {
    return null;
  }
}

function lockOf(root: string, commit: string): string {
  try {
    return execFileSync("git", ["show", `${commit}:package-lock.json`], { cwd: root, stdio: ["ignore", "pipe", "ignore"], encoding: "utf8", maxBuffer: 1 << 26 });
  } catch {
    return "";
  }
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/** Builds REV's release core (or takes it from the cache). Throws RevError with one line. */
export async function buildRev(root: string, rev: string, progress: (line: string) => void): Promise<RevBuild> {
  const commit = resolveCommit(root, rev);
  if (!commit) throw new RevError(`--against ${rev}: no such revision in this clone (a shallow clone needs \`git fetch --unshallow\` or fetch-depth: 0)`);
  const lock = lockOf(root, commit);
  const cacheDir = path.join(root, "node_modules", ".cache", "vnic-gate");
  const cached = path.join(cacheDir, `${commit}-${sha(lock)}.wasm`);
  if (existsSync(cached)) return { rev, commit, wasm: cached, cached: true };

  const dir = mkdtempSync(path.join(os.tmpdir(), "vnic-gate-rev-"));
  const tree = path.join(dir, "tree");
  const remove = () => {
    try {
      execFileSync("git", ["worktree", "remove", "--force", tree], { cwd: root, stdio: "ignore" });
    } catch {
      /* not added yet, or already gone */
    }
    rmSync(dir, { recursive: true, force: true }); // (no `git worktree prune`: the repository's
    // other worktrees are not this gate's business; `remove` dropped this one's entry)
  };
  // The builds run as asynchronous children, so that a Ctrl-C reaches this handler at once.
  const children = new Set<ChildProcess>();
  const onSignal = (sig: NodeJS.Signals) => {
    for (const c of children) c.kill("SIGTERM");
    remove();
    process.kill(process.pid, sig); // the default action, now that the handler is gone
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    progress(`building ${rev} (${commit.slice(0, 10)}) in a temporary worktree`);
    git(root, ["worktree", "add", "--detach", "--quiet", tree, commit]);
    const here = existsSync(path.join(root, "package-lock.json")) ? readFileSync(path.join(root, "package-lock.json"), "utf8") : "";
    if (lock && lock === here && existsSync(path.join(root, "node_modules"))) {
      symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"), "dir");
    } else {
      progress(`${rev}'s package-lock.json differs from this checkout's: npm ci in the worktree`);
      await run(tree, "npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], rev, children);
    }
    const out = path.join(tree, "build", "vnic.gate-ref.wasm");
    await run(tree, process.execPath, [path.join(tree, "node_modules", "assemblyscript", "bin", "asc.js"), "assembly/index.ts", "--target", "release", "-o", out, "-t", out.replace(/wasm$/, "wat")], rev, children);
    mkdirSync(cacheDir, { recursive: true });
    copyFileSync(out, cached);
    return { rev, commit, wasm: cached, cached: false };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    remove();
  }
}

function run(cwd: string, cmd: string, args: string[], rev: string, children: Set<ChildProcess>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => (output += String(e)));
    child.on("close", (code) => {
      children.delete(child);
      if (code === 0) return resolve();
      const why = output.trim().split("\n").filter(Boolean).pop() ?? `exit ${code}`;
      reject(new RevError(`--against ${rev}: cannot build it (${path.basename(cmd)}: ${why})`));
    });
  });
}
