/**
 * A temporary project with the packed tarball installed, as `npm install
 * limitdyn-x.y.z.tgz` lays it out: the tarball unpacked into
 * node_modules/limitdyn, the package's production dependency tree beside it
 * (symlinks to this checkout's installed copies, so no network is needed), and
 * node_modules/.bin/limitdyn. With LIMITDYN_TEST_NPM_INSTALL=1 the project runs
 * a real `npm install <tarball>` instead (needs the registry or a warm cache).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { ensureBuilt, ROOT } from "./built.ts";

export interface TarballProject {
  /** The project folder (has package.json with "type": "module"). */
  dir: string;
  /** The packed .tgz. */
  tarball: string;
  /** Paths inside the tarball (without the leading "package/"). */
  files: string[];
  cleanup(): void;
}

const NPM_CLI = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
export function npm(args: string[], cwd: string): string {
  return existsSync(NPM_CLI)
    ? execFileSync(process.execPath, [NPM_CLI, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    : execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Top-level folders of this checkout's production dependency tree (node_modules/<name>, node_modules/@scope/<name>). */
function productionPackages(): string[] {
  const out = npm(["ls", "--omit=dev", "--all", "--parseable"], ROOT);
  const nm = join(ROOT, "node_modules");
  const tops = new Set<string>();
  for (const line of out.split("\n")) {
    if (!line.startsWith(nm + "/")) continue;
    const parts = relative(nm, line).split("/");
    const top = parts[0].startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
    if (!top.includes("node_modules")) tops.add(top);
  }
  return [...tops];
}

export function packAndInstall(): TarballProject {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "limitdyn-consumer-"));
  const packDir = join(dir, ".pack");
  mkdirSync(packDir);
  // dist/ is fresh (ensureBuilt): skip the prepack build
  const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], ROOT)) as { filename: string; files: { path: string }[] }[];
  const tarball = join(packDir, basename(packed[0].filename));
  const files = packed[0].files.map((f) => f.path);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  if (process.env.LIMITDYN_TEST_NPM_INSTALL === "1") {
    npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  } else {
    const nm = join(dir, "node_modules");
    const pkg = join(nm, "limitdyn");
    mkdirSync(pkg, { recursive: true });
    execFileSync("tar", ["xzf", tarball, "-C", pkg, "--strip-components=1"]);
    for (const name of productionPackages()) {
      const target = join(nm, name);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", name), target, "dir");
    }
    mkdirSync(join(nm, ".bin"));
    symlinkSync("../limitdyn/bin/limitdyn.mjs", join(nm, ".bin", "limitdyn"));
    chmodSync(join(pkg, "bin", "limitdyn.mjs"), 0o755);
  }
  return { dir, tarball, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Names in a folder (for messages). */
export const ls = (d: string) => (existsSync(d) ? readdirSync(d).join(", ") : "(missing)");
