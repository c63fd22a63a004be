/** Entry of a pooled worker thread of the finite ResNet engine (see parallel.ts; loaded by its bootstrap). */
import { parentPort, workerData } from "node:worker_threads";
import { workerMain } from "./parallel.ts";

workerMain(parentPort!, workerData);
