// `--copy MODE`: how much of each frame the device copies into its pre-translated buffers.

export const COPY_MODES_HELP = `headers (default: small frames whole, else through the L4 header), l3:10 (Ethernet + tags + 10 bytes of IPv4), fixed:N, full, none`;

const MODE_IDS = { headers: 0, "l3:10": 1, fixed: 2, full: 3, none: 4 } as const;

export interface CopyParams {
  copyMode: number;
  copyBytes: number;
}

/** Parses a --copy value into core params, or throws an Error whose message names the problem. */
export function parseCopyMode(spec: string): CopyParams {
  if (spec === "headers" || spec === "l3:10" || spec === "full" || spec === "none") {
    return { copyMode: MODE_IDS[spec], copyBytes: 0 };
  }
  const m = /^fixed:(\d+)$/.exec(spec);
  if (m) {
    const n = Number(m[1]);
    if (n < 1 || n > 240) throw new Error(`--copy fixed:N takes 1..240 (a pool buffer's data area), not ${n}`);
    return { copyMode: MODE_IDS.fixed, copyBytes: n };
  }
  throw new Error(`--copy: unknown mode "${spec}"; expected ${COPY_MODES_HELP}`);
}
