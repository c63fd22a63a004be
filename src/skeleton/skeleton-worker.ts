/** Entry of the skeleton coefficient worker thread (see parallel.ts; loaded by its bootstrap). */
import { parentPort, workerData } from "node:worker_threads";
import { groupJobRunner } from "./coefficients.ts";
import { factorJobRunner, isFactorJob } from "./factor-parallel.ts";
import { skeletonWorkerMain } from "./parallel.ts";

// factor-form randomizations (factor-parallel.ts) or G-space coefficient groups (coefficients.ts)
skeletonWorkerMain(parentPort!, workerData, ((job: unknown, beat: () => void) =>
  isFactorJob(job) ? factorJobRunner(job, beat) : groupJobRunner(job as never, beat)) as never);
