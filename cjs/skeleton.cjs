"use strict";
module.exports = require("./load.cjs")("../dist/skeleton/index.js", "limitdyn/skeleton");
