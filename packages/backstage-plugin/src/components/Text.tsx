import { CopyTextButton, Link } from '@backstage/core-components';
import { Typography } from '@material-ui/core';
import type { CSSProperties, ReactNode } from 'react';
import { formatRelative, formatTime } from './format.js';

/** Text in the theme's typography: plain text in a table cell or a card would inherit the page's (serif) font. */
export function Body({ children }: { children: ReactNode }) {
  return (
    <Typography variant="body2" component="span">
      {children}
    </Typography>
  );
}

/** When something happened or will: "3 min ago" / "in 21 h", the absolute time on hover. */
export function When({ iso, now }: { iso: string | undefined; now?: number }) {
  if (!iso) return <Body>—</Body>;
  return (
    <Typography variant="body2" component="time" dateTime={iso} title={formatTime(iso)}>
      {formatRelative(iso, now)}
    </Typography>
  );
}

// An id stays on one line: monospace, cut with an ellipsis when the column is narrow.
const idStyle: CSSProperties = {
  fontFamily: 'monospace',
  whiteSpace: 'nowrap',
  overflow: 'hidden',
  textOverflow: 'ellipsis',
  display: 'inline-block',
  maxWidth: '28ch',
  verticalAlign: 'middle',
};

/** A backup id: monospace on one line, the full id on hover, a copy button; a link to its details when `to` is given. */
export function BackupId({ id, to }: { id: string; to?: string }) {
  return (
    <span style={{ display: 'inline-flex', alignItems: 'center', whiteSpace: 'nowrap' }}>
      {to ? (
        <Link to={to} aria-label={`Details of backup ${id}`} title={id} style={idStyle}>
          {id}
        </Link>
      ) : (
        <Typography variant="body2" component="span" title={id} style={idStyle}>
          {id}
        </Typography>
      )}
      <CopyTextButton text={id} aria-label={`Copy backup id ${id}`} tooltipText="Backup id copied" />
    </span>
  );
}
