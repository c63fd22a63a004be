#!/usr/bin/env node
// Entry point of the `limitdyn` command: runs the TypeScript sources through tsx.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = main(process.argv.slice(2), { lastResort: true });
