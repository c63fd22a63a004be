// limitdyn is an ES module package. The files in cjs/ answer `require("limitdyn")` and
// `require("limitdyn/<subpath>")`: on a Node that can require ES modules (22.12+) they
// return the package; otherwise they throw an error that says how to load it.
"use strict";
module.exports = function load(entry, name) {
  try {
    return require(entry);
  } catch (e) {
    if (e && (e.code === "ERR_REQUIRE_ESM" || e.code === "ERR_REQUIRE_ASYNC_MODULE")) {
      const err = new Error(
        `${name} is an ES module (ESM-only) package and cannot be loaded with require() on Node ${process.version}. ` +
        `Use \`import { ... } from "${name}"\` in an ES module (.mjs, or "type": "module" in package.json), ` +
        `or \`const m = await import("${name}")\` from CommonJS.`,
      );
      err.code = "ERR_REQUIRE_ESM";
      throw err;
    }
    throw e;
  }
};
