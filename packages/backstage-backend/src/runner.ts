import { type Backup, type CreateBackupOptions, type Deps, createBackup, getBackup } from '@pgbackup/core';
import type { Logger } from './logger.js';

/**
 * Runs backups in the background: `start` answers as soon as the VolumeSnapshots exist (so the
 * backup is visible to GET), while the cut and readiness continue. `drain` on shutdown waits for
 * running backups, then interrupts them (core records them as failed; the lock and the database
 * session are released on every path), and likewise restores and verifications.
 */
export class BackupRunner {
  private readonly running = new Set<Promise<unknown>>();
  private readonly controller = new AbortController();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.running.size;
  }

  start(deps: Deps, options: CreateBackupOptions): Promise<Backup> {
    if (this.controller.signal.aborted) return Promise.reject(new Error('the server is shutting down'));
    return new Promise<Backup>((resolve, reject) => {
      let answered = false;
      let planned: { namespace: string; id: string } | undefined;
      const answer = (fn: () => void) => {
        if (answered) return;
        answered = true;
        fn();
      };
      const run = createBackup(deps, {
        ...options,
        signal: options.signal ? AbortSignal.any([options.signal, this.controller.signal]) : this.controller.signal,
        onProgress: (event) => {
          options.onProgress?.(event);
          if (event.stage === 'planned') planned = { namespace: event.plan.namespace, id: event.plan.id };
          if (event.stage === 'snapshots-created' && planned) {
            const { namespace, id } = planned;
            answer(() => getBackup(deps, namespace, id).then(resolve, reject));
          }
        },
      });
      const tracked = run.then(
        (backup) => {
          answer(() => resolve(backup));
          this.logger.info(`backup ${backup.namespace}/${backup.id} cut`, {
            backup: backup.id,
            namespace: backup.namespace,
            status: backup.status,
          });
        },
        (error: unknown) => {
          if (!answered) return answer(() => reject(error));
          this.logger.warn(
            `backup ${planned?.namespace}/${planned?.id} failed after it was accepted: ${(error as Error)?.message ?? error}`,
            { backup: planned?.id ?? '' },
          );
        },
      );
      this.running.add(tracked);
      void tracked.finally(() => this.running.delete(tracked));
    });
  }

  /**
   * Runs other long work (a verification) in the background, interrupted and awaited by `drain`
   * like a backup. Its failure is logged.
   */
  track(what: string, work: (signal: AbortSignal) => Promise<unknown>): void {
    if (this.controller.signal.aborted) throw new Error('the server is shutting down');
    void this.run(work).catch((error: unknown) => this.logger.warn(`${what} failed: ${(error as Error)?.message ?? error}`, { what }));
  }

  /**
   * Runs long work a request waits for (an in-place restore), awaited by `drain` and interrupted by it
   * like a backup: the work then rolls back or records where it stopped.
   */
  run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.controller.signal.aborted) return Promise.reject(new Error('the server is shutting down'));
    const running = work(this.controller.signal);
    const tracked = running.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    return running;
  }

  /** Waits up to `graceMs` for running backups, then interrupts the rest and waits for them to record it. */
  async drain(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    this.logger.info(`waiting up to ${graceMs} ms for ${this.running.size} running backup(s)`);
    const all = Promise.allSettled([...this.running]);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([all, timer])) === 'timeout') {
      this.controller.abort(new Error('the server is shutting down'));
      await Promise.race([all, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
  }
}
