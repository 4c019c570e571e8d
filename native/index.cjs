// The wire pump's native binding, or why it is not there (src/wire/native.ts words the line).
"use strict";
const path = require("node:path");
// VNIC_WIRE_NODE: another binary to load (test support: the message when it is missing).
try {
  module.exports = require(process.env.VNIC_WIRE_NODE || path.join(__dirname, "build", "vnic_wire.node"));
} catch (e) {
  module.exports = { loadError: e && e.code === "MODULE_NOT_FOUND" ? "not built" : String(e && e.message) };
}
