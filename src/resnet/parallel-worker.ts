/** Entry of a pooled worker thread of the finite ResNet engine (see parallel.ts). */
import { parentPort } from "node:worker_threads";
import { workerSession } from "./parallel.ts";

parentPort!.on("message", (m: { session: Parameters<typeof workerSession>[0]; tid: number }) => workerSession(m.session, m.tid));
