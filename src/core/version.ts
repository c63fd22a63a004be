/**
 * The package version, read once from the package.json two levels above this
 * module (src/core/version.ts and dist/core/version.js both sit there). A
 * bundle that moved this module elsewhere reports "unknown".
 */
import { readFileSync } from "node:fs";

let cached: string | null = null;

export function packageVersion(): string {
  if (cached !== null) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { name?: string; version?: string };
    cached = pkg.name === "limitdyn" && typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    cached = "unknown";
  }
  return cached;
}
