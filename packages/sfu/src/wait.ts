import { SfuError } from './engine.js';

/** Resolves when check() holds (polled every 20 ms); rejects with a typed timeout otherwise. */
export function waitUntil(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (check()) return resolve();
      if (Date.now() - started > ms) return reject(new SfuError('timeout', `timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}
