// The wire pump's native binding, or why it is not there (src/wire/native.ts words the line).
"use strict";
const path = require("node:path");
try {
  module.exports = require(path.join(__dirname, "build", "vnic_wire.node"));
} catch (e) {
  module.exports = { loadError: e && e.code === "MODULE_NOT_FOUND" ? "not built" : String(e && e.message) };
}
