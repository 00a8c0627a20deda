// The load side shared by run.mjs and instructions.mjs: load-worker threads, each with one
// allocation (or forwarder route) and its own UDP sink.
import { Worker } from 'node:worker_threads';

/** Ask a worker and wait for its answer (every command that answers answers once). */
export function ask(worker, message) {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message);
  });
}

/**
 * Start `count` workers against a relay ('turn' | 'raw' forwarder | 'direct' to the sink);
 * with `echo`, the sink sends everything back through the relay (see load-worker.mjs).
 */
export async function startWorkers(turn, secret, count, mode, port, payloadSize, echo = false) {
  const workers = [];
  for (let i = 0; i < count; i++) {
    const c = turn.turnCredentials(secret, `bench${i}`, 3600);
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: { mode, port, username: c.username, password: c.credential, payloadSize, echo },
    });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    workers.push(worker);
  }
  return workers;
}

/** Send `rate` packets/s (split over the workers) for `durationMs`; totals sent and received. */
export async function runTrial(workers, rate, durationMs) {
  const results = await Promise.all(
    workers.map((w) => ask(w, { cmd: 'trial', rate: rate / workers.length, durationMs }).then((m) => m.result)),
  );
  const sent = results.reduce((n, r) => n + r.sent, 0);
  const received = results.reduce((n, r) => n + r.received, 0);
  const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  return { rate, sent, received, loss: sent ? 1 - received / sent : 1, sentRate: sent / seconds, recvRate: received / seconds, seconds };
}
