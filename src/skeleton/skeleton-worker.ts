/** Entry of the skeleton coefficient worker thread (see parallel.ts; loaded by its bootstrap). */
import { parentPort, workerData } from "node:worker_threads";
import { groupJobRunner } from "./coefficients.ts";
import { skeletonWorkerMain } from "./parallel.ts";

skeletonWorkerMain(parentPort!, workerData, groupJobRunner as never);
