// Builds vnic_wire.node with the system C compiler against the node-api-headers package
// (node-gyp would download Node's headers; machines here reach only the package registries).
// Never fails the install: vnic works without it, and `--iface` then says what is missing.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const here = __dirname;
// VNIC_WIRE_OUT: another output path (tests of this script must not touch the real build).
const out = process.env.VNIC_WIRE_OUT || path.join(here, "build", "vnic_wire.node");

function skip(why) {
  process.stderr.write(`vnic-wire: not built (${why}); vnic works without it, but --iface needs it: ${HOW}\n`);
  process.exit(0);
}
const HOW = "install a C compiler (Debian: apt-get install gcc libc6-dev) and run `npm rebuild vnic-wire`";

if (process.platform !== "linux") skip("AF_PACKET is Linux only");
let include;
try {
  include = require("node-api-headers").include_dir;
} catch {
  skip("the node-api-headers package is missing");
}
const cc = process.env.CC || "cc";
fs.mkdirSync(path.dirname(out), { recursive: true });
const args = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fPIC", "-shared",
  "-DNAPI_VERSION=8", "-I", include, "-o", out, ...["vnic_wire.c", "pump_xdp.c", "af_xdp.c"].map((f) => path.join(here, f)), "-lpthread"];
const r = spawnSync(cc, args, { stdio: ["ignore", "inherit", "inherit"] });
if (r.error) skip(`no C compiler: ${cc}: ${r.error.code ?? r.error.message}`);
if (r.status !== 0) skip(`${cc} failed with status ${r.status}`);
