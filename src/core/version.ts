/**
 * The package version, read once from limitdyn's package.json: the first one
 * named "limitdyn" in the folders above this module (src/core/, dist/core/ and
 * the CLI bundle in dist/cli/bundle/ all find the package root). "unknown"
 * when there is none (e.g. a bundle copied elsewhere).
 */
import { readFileSync } from "node:fs";

let cached: string | null = null;

export function packageVersion(): string {
  if (cached !== null) return cached;
  cached = "unknown";
  for (let up = 1; up <= 4; up++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../".repeat(up) + "package.json", import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "limitdyn" && typeof pkg.version === "string") {
        cached = pkg.version;
        break;
      }
    } catch {
      // no package.json at this level: go up
    }
  }
  return cached;
}
