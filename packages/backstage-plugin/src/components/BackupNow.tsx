import { Button, LinearProgress, Typography } from '@material-ui/core';
import { PgBackupApiError } from '../api/types.js';
import type { BackupNowState } from './hooks.js';
import { BackupStatus } from './StatusText.js';

/**
 * The button and, once pressed, the progress of the backup it started (announced to screen readers).
 * `unavailable` disables it and says why (the create permission is denied, or the backend does not answer).
 */
export function BackupNow({ state, onStart, unavailable }: { state: BackupNowState; onStart: () => void; unavailable?: string }) {
  const busy = state.phase === 'starting' || state.phase === 'running';
  const b = 'backup' in state ? state.backup : undefined;
  const ready = b ? b.snapshots.filter((s) => s.readyToUse).length : 0;
  return (
    <div>
      <Button
        variant="contained"
        color="primary"
        onClick={onStart}
        disabled={busy || unavailable !== undefined}
        aria-describedby="pgbackup-backup-now-progress"
      >
        {busy ? 'Backing up…' : 'Back up now'}
      </Button>
      <div id="pgbackup-backup-now-progress" role="status" aria-live="polite" style={{ marginTop: 8 }}>
        {unavailable && !busy ? <Typography variant="body2">{unavailable}</Typography> : null}
        {state.phase === 'starting' ? (
          <>
            <LinearProgress aria-label="Starting the backup" />
            <Typography variant="body2">Starting the backup…</Typography>
          </>
        ) : null}
        {state.phase === 'running' && b ? (
          <>
            <LinearProgress
              variant={ready > 0 ? 'determinate' : 'indeterminate'}
              value={(ready / b.volumes) * 100}
              aria-label={`Backup ${b.id} progress`}
            />
            <Typography variant="body2">
              Backup {b.id} in progress: {ready} of {b.volumes} VolumeSnapshot{b.volumes === 1 ? '' : 's'} ready (phase {b.phase}).
            </Typography>
          </>
        ) : null}
        {state.phase === 'done' ? (
          <Typography variant="body2" component="div">
            Backup {state.backup.id}: <BackupStatus backup={state.backup} />
            {state.backup.error ? (
              <Typography variant="body2" color="error">
                {state.backup.error}
              </Typography>
            ) : null}
          </Typography>
        ) : null}
        {state.phase === 'error' ? (
          <Typography variant="body2" color="error" role="alert">
            Back up now failed: {state.error.message.replace(/\.?$/, '.')}
            {state.error instanceof PgBackupApiError && state.error.hint ? ` Next step: ${state.error.hint}` : ''}
          </Typography>
        ) : null}
      </div>
    </div>
  );
}
