// `--coalesce POLICY`: the interrupt-coalescing policy of a run, parsed into core parameters.
//
// The numeric policy ids live in the core (POLICY_* exports of assembly/nic/coalesce.ts); this file
// names them and checks the numbers, and `applyCoalesce` reads the ids from the module.

export const COALESCE_HELP = `--coalesce POLICY   when the device interrupts the guest about completions (default adaptive)
    adaptive[:threshold=T,ratio=R]
                    follows the commands in flight (CIF): below T every completion interrupts
                    at once; at or above T one interrupt per CIF/R completions. No timer, never
                    strands a completion. Defaults T=4, R=4 (US 8,478,924; vIC, ATC 2011)
    none            one interrupt per completion
    count:N         one interrupt per N completions, no timer (strands the last < N: baseline)
    count:N,usecs:U one interrupt per N completions or U µs after the oldest held one
                    (ethtool rx-frames / rx-usecs)
    virtio          interrupt after 3/4 of the outstanding buffers
                    (Linux virtqueue_enable_cb_delayed, virtio 1.2 §2.7.10)`;

export type CoalesceSpec =
  | { kind: "adaptive"; threshold: number; ratio: number }
  | { kind: "none" }
  | { kind: "count"; count: number }
  | { kind: "count-usecs"; count: number; usecs: number }
  | { kind: "virtio" };

export const DEFAULT_COALESCE = "adaptive";
export const DEFAULT_THRESHOLD = 4;
export const DEFAULT_RATIO = 4;

export class CoalesceSpecError extends Error {
  constructor(spec: string, what: string) {
    super(`--coalesce ${JSON.stringify(spec)}: ${what} (expected none, count:N, count:N,usecs:U, virtio or adaptive[:threshold=T,ratio=R])`);
    this.name = "CoalesceSpecError";
  }
}

const LIMITS = { count: 65536, usecs: 10_000_000, threshold: 65536, ratio: 65536 } as const;

function positive(spec: string, name: keyof typeof LIMITS, text: string | undefined): number {
  if (text === undefined || !/^[0-9]+$/.test(text)) throw new CoalesceSpecError(spec, `${name} must be a whole number, got ${JSON.stringify(text ?? "")}`);
  const v = Number(text);
  if (v < 1 || v > LIMITS[name]) throw new CoalesceSpecError(spec, `${name} must be 1..${LIMITS[name]}, got ${v}`);
  return v;
}

/** Parses `none | count:N | count:N,usecs:U | virtio | adaptive[:threshold=T,ratio=R]`. */
export function parseCoalesce(spec: string): CoalesceSpec {
  const s = spec.trim().toLowerCase();
  if (s === "none") return { kind: "none" };
  if (s === "virtio") return { kind: "virtio" };
  if (s === "adaptive" || s.startsWith("adaptive:")) {
    let threshold = DEFAULT_THRESHOLD, ratio = DEFAULT_RATIO;
    const rest = s.slice("adaptive".length + 1);
    if (s !== "adaptive") {
      const seen = new Set<string>();
      for (const kv of rest.split(",")) {
        const [k, v, extra] = kv.split("=");
        if (extra !== undefined || (k !== "threshold" && k !== "ratio")) throw new CoalesceSpecError(spec, `unknown adaptive option ${JSON.stringify(kv)} (threshold=T, ratio=R)`);
        if (seen.has(k)) throw new CoalesceSpecError(spec, `${k} given twice`);
        seen.add(k);
        if (k === "threshold") threshold = positive(spec, "threshold", v);
        else ratio = positive(spec, "ratio", v);
      }
    }
    return { kind: "adaptive", threshold, ratio };
  }
  if (s.startsWith("count:")) {
    const [n, timer, ...extra] = s.slice("count:".length).split(",");
    const count = positive(spec, "count", n);
    if (timer === undefined) return { kind: "count", count };
    if (!timer.startsWith("usecs:") || extra.length > 0) throw new CoalesceSpecError(spec, `unknown count option ${JSON.stringify([timer, ...extra].join(","))} (usecs:U)`);
    return { kind: "count-usecs", count, usecs: positive(spec, "usecs", timer.slice("usecs:".length)) };
  }
  throw new CoalesceSpecError(spec, "unknown policy");
}

/** The spec written back in its canonical form (reports, table headings). */
export function formatCoalesce(c: CoalesceSpec): string {
  switch (c.kind) {
    case "adaptive": return c.threshold === DEFAULT_THRESHOLD && c.ratio === DEFAULT_RATIO ? "adaptive" : `adaptive:threshold=${c.threshold},ratio=${c.ratio}`;
    case "none": return "none";
    case "count": return `count:${c.count}`;
    case "count-usecs": return `count:${c.count},usecs:${c.usecs}`;
    case "virtio": return "virtio";
  }
}

const POLICY_EXPORT: Record<CoalesceSpec["kind"], string> = {
  adaptive: "POLICY_ADAPTIVE", none: "POLICY_NONE", count: "POLICY_COUNT",
  "count-usecs": "POLICY_COUNT_USECS", virtio: "POLICY_VIRTIO",
};

/** Core parameter values (P_<name> → value) for `c`; `constant` reads a core export. */
export function coalesceParams(c: CoalesceSpec, constant: (name: string) => number): Record<string, number> {
  return {
    coalescePolicy: constant(POLICY_EXPORT[c.kind]),
    coalesceCount: c.kind === "count" || c.kind === "count-usecs" ? c.count : 0,
    coalesceUsecs: c.kind === "count-usecs" ? c.usecs : 0,
    coalesceThreshold: c.kind === "adaptive" ? c.threshold : 0,
    coalesceRatio: c.kind === "adaptive" ? c.ratio : 0,
  };
}

/** Sets the coalescing parameters on a core (before any worker starts). */
export function applyCoalesce(core: { constant(name: string): number; setParam(name: string, v: number): void }, c: CoalesceSpec): void {
  for (const [name, v] of Object.entries(coalesceParams(c, (n) => core.constant(n)))) core.setParam(name, v);
}
