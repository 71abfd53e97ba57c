// Background jobs (GET /api/jobs/{id}).
//
//   const job = await pollJob(id, { signal, onUpdate: (job) => … });   // resolves when finished
//
// Polls quickly at first, then every 2 s; stops after `timeout` ms and resolves with the last
// state seen (still queued/running) so the caller can say "still running".

import { api } from './api.js';

export const FINISHED_STATES = new Set(['done', 'failed', 'uncertain', 'cancelled']);

export function isFinished(job) {
  return job && FINISHED_STATES.has(job.state);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('Aborted', 'AbortError'));
    }, { once: true });
  });
}

export async function pollJob(id, { signal, onUpdate, timeout = 120000 } = {}) {
  const started = Date.now();
  let delay = 300;
  for (;;) {
    const job = await api.get(`/api/jobs/${encodeURIComponent(id)}`, null, { signal });
    onUpdate?.(job);
    if (isFinished(job) || Date.now() - started > timeout) return job;
    await sleep(delay, signal);
    delay = Math.min(delay * 1.6, 2000);
  }
}
