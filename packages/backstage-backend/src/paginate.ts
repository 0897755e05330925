import { HttpProblem } from './problem.js';

interface Cursor {
  id: string;
  startedAt: string;
}

/** Newest-first pages; the cursor names the last item, so new backups do not shift later pages. */
export function paginate<T extends { id: string; startedAt: string }>(
  items: T[],
  limit: number,
  token?: string,
): { items: T[]; continue?: string; total: number } {
  let start = 0;
  if (token) {
    const cursor = decodeCursor(token);
    const at = items.findIndex((b) => b.id === cursor.id);
    start = at >= 0 ? at + 1 : items.findIndex((b) => Date.parse(b.startedAt) < Date.parse(cursor.startedAt));
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < items.length && last;
  return { items: page, total: items.length, ...(more ? { continue: encodeCursor({ id: last.id, startedAt: last.startedAt }) } : {}) };
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString()) as Cursor;
    if (typeof c.id === 'string' && typeof c.startedAt === 'string') return c;
  } catch {
    // fall through
  }
  throw new HttpProblem(400, 'Bad Request', 'query.continue: not a cursor this API returned', {
    code: 'ValidationFailed',
    errors: [{ path: 'query.continue', message: 'not a cursor this API returned' }],
  });
}
