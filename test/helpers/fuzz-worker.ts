/**
 * Child-process side of the fuzz campaign (fuzz.ts, fuzz-driver.ts):
 * generates the cases from the seed (fast-check), runs cases
 * from..from+count−1 in order and reports "start" before and "done" after
 * each one, so that the watchdog knows which case hung or blew up the memory.
 */
import fc from "fast-check";
import { caseArb, runCase } from "./fuzz.ts";

const { seed, from, count, slowMs } = JSON.parse(process.argv[2]) as { seed: number; from: number; count: number; slowMs: number };
const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
async function main(): Promise<void> {
  const cases = fc.sample(caseArb, { seed, numRuns: from + count }).slice(from);
  await send({ type: "ready" });
  for (let j = 0; j < cases.length; j++) {
    const i = from + j;
    await send({ type: "start", i });
    const r = await runCase(cases[j], slowMs);
    await send({ type: "done", i, result: r });
  }
  await send({ type: "end" });
  process.disconnect();
}
void main();
