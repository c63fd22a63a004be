"use strict";
module.exports = require("./load.cjs")("../dist/experiments/index.js", "limitdyn/experiments");
