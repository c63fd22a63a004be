"use strict";
module.exports = require("./load.cjs")("../dist/index.js", "limitdyn");
