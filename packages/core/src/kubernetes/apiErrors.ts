import { ApiException } from '@kubernetes/client-node';
import { PgBackupError, conflict, forbidden, invalid, notFound, timeout, unavailable } from '../errors.js';

interface StatusBody {
  message?: string;
  reason?: string;
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return (body as StatusBody) ?? {};
}

/**
 * Maps a Kubernetes API or connection error into the error family, keeping the API server's own
 * message (as kubectl prints it) and adding what to do next.
 */
export function mapApiError(e: unknown, doing: string): PgBackupError {
  if (e instanceof PgBackupError) return e;
  if (e instanceof ApiException) {
    const status = statusBody(e.body);
    const message = `${doing}: ${status.message ?? e.message}`;
    switch (e.code) {
      case 401:
        return forbidden(message, 'your credentials were rejected: check the kubeconfig user or token', { cause: e });
      case 403:
        return forbidden(message, 'ask a cluster admin for this permission (see the RBAC section of the README)', { cause: e });
      case 404:
        return notFound(message, undefined, { cause: e });
      case 409:
        return conflict(message, undefined, { cause: e });
      case 400:
      case 422:
        return invalid(message, undefined, { cause: e });
      case 504:
        return timeout(message, { text: 'retry, or allow each request more time', options: [{ option: 'requestTimeout' }] }, { cause: e });
      default:
        return unavailable(message, e.code >= 500 ? 'the API server had a problem; retry' : undefined, { cause: e });
    }
  }
  const err = e as { code?: string; cause?: { code?: string }; name?: string; message?: string };
  const code = err?.cause?.code ?? err?.code;
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT')
    return timeout(
      `${doing}: the API server did not answer in time`,
      { text: 'retry, or allow each request more time', options: [{ option: 'requestTimeout' }] },
      { cause: e },
    );
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'ECONNRESET' ||
    code === 'EHOSTUNREACH' ||
    /fetch failed/.test(err?.message ?? '')
  )
    return unavailable(
      `${doing}: cannot reach the Kubernetes API server (${code ?? err?.message})`,
      'check the cluster is running and the kubeconfig server address',
      { cause: e },
    );
  return unavailable(`${doing}: ${err?.message ?? String(e)}`, undefined, { cause: e });
}

/** Runs an API call, mapping its failure. */
export async function call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw mapApiError(e, doing);
  }
}
