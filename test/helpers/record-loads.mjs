// `node --import ./record-loads.mjs`: appends the URL of every module resolved through
// the ESM loader to the file named by LIMITDYN_LOADS_FILE (tests of what an entry loads).
import { register } from "node:module";
register("./record-loads-hooks.mjs", import.meta.url, { data: { file: process.env.LIMITDYN_LOADS_FILE } });
