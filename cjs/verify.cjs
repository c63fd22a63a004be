"use strict";
module.exports = require("./load.cjs")("../dist/verify/index.js", "limitdyn/verify");
