"use strict";
module.exports = require("./load.cjs")("../dist/chaos/index.js", "limitdyn/chaos");
