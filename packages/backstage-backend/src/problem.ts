import { type ErrorCode, isPgBackupError, type PgBackupError, type Problem } from '@pgbackup/core';
import type { ErrorRequestHandler, Response } from 'express';
import type { z } from 'zod';

/** One problem detail of a request that failed validation. */
export interface InvalidParam {
  /** Where: `body.databaseName`, `query.limit`, `path.id`. */
  path: string;
  message: string;
}

export type ProblemBody = Problem & { instance?: string; errors?: InvalidParam[] };

/** An error that already knows its HTTP answer (validation, body parsing, 401/403/501). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly extra: { code?: string; hint?: string; errors?: InvalidParam[] } = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

const STATUS_OF: Record<ErrorCode, number> = {
  NotFound: 404,
  Forbidden: 403,
  Conflict: 409,
  Invalid: 422,
  Inconsistent: 422,
  Timeout: 504,
  Unavailable: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const slug = (s: string) =>
  s
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .replace(/\s+/g, '-')
    .toLowerCase();
export const problemType = (code: string) => `https://pgbackup.io/problems/${slug(code)}`;

/** Backstage's @backstage/errors classes, matched by name so the standalone server needs none of them. */
const BACKSTAGE_ERRORS: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  NotModifiedError: 304,
  ServiceUnavailableError: 503,
  NotImplementedError: 501,
};

/**
 * The single mapping from any error to an HTTP problem. Unknown errors become a generic 500 whose
 * detail names no internals; `isServerError` tells the caller to log it.
 */
export function toProblem(e: unknown): ProblemBody & { isServerError: boolean } {
  if (e instanceof HttpProblem)
    return {
      type: problemType(e.extra.code ?? TITLES[e.status] ?? 'error'),
      title: e.title,
      status: e.status,
      detail: e.message,
      ...pick(e.extra),
      isServerError: e.status >= 500 && e.status !== 501,
    };
  if (isPgBackupError(e)) {
    const status = STATUS_OF[e.code];
    return {
      type: problemType(e.code),
      title: TITLES[status]!,
      status,
      detail: e.message,
      code: e.code,
      ...hintFields(e),
      isServerError: false,
    };
  }
  const err = e as {
    name?: string;
    message?: string;
    type?: string;
    status?: number;
    statusCode?: number;
    expose?: boolean;
    limit?: number;
  };
  // body-parser (express.json): too large, malformed JSON, bad charset.
  if (err?.type === 'entity.too.large')
    return {
      type: problemType('body-too-large'),
      title: TITLES[413]!,
      status: 413,
      detail: `the request body exceeds the limit of ${err.limit ?? 'the server'} bytes`,
      code: 'BodyTooLarge',
      isServerError: false,
    };
  if (err?.type === 'entity.parse.failed')
    return {
      type: problemType('malformed-json'),
      title: TITLES[400]!,
      status: 400,
      detail: `the request body is not valid JSON: ${err.message}`,
      code: 'MalformedJson',
      isServerError: false,
    };
  if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported')
    return {
      type: problemType('unsupported-media-type'),
      title: TITLES[415]!,
      status: 415,
      detail: err.message ?? 'unsupported encoding',
      code: 'UnsupportedMediaType',
      isServerError: false,
    };
  const status = err?.name ? BACKSTAGE_ERRORS[err.name] : undefined;
  if (status)
    return {
      type: problemType(err.name!.replace(/Error$/, '')),
      title: TITLES[status] ?? err.name!,
      status,
      detail: err.message ?? err.name!,
      code: err.name!.replace(/Error$/, ''),
      isServerError: status >= 500 && status !== 501,
    };
  const httpStatus = err?.status ?? err?.statusCode;
  if (err?.expose && httpStatus && httpStatus >= 400 && httpStatus < 500)
    return {
      type: problemType(TITLES[httpStatus] ?? 'error'),
      title: TITLES[httpStatus] ?? 'Error',
      status: httpStatus,
      detail: err.message ?? 'bad request',
      isServerError: false,
    };
  return {
    type: problemType('internal'),
    title: TITLES[500]!,
    status: 500,
    detail: 'an unexpected error occurred; the server log has the details',
    code: 'Internal',
    isServerError: true,
  };
}

/** Core's structured hint as problem fields: the words, the request fields that would help, the next operation, the object. */
function hintFields(e: PgBackupError): Pick<ProblemBody, 'hint' | 'options' | 'step' | 'object'> {
  const { text, options, step } = e.hint ?? {};
  return {
    ...(text ? { hint: text } : {}),
    ...(options?.length ? { options } : {}),
    ...(step ? { step } : {}),
    ...(e.object ? { object: e.object } : {}),
  };
}

function pick(extra: HttpProblem['extra']) {
  return {
    ...(extra.code ? { code: extra.code } : {}),
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}

export function sendProblem(res: Response, problem: ProblemBody, instance?: string): void {
  const { isServerError: _ignored, ...body } = problem as ProblemBody & { isServerError?: boolean };
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify({ ...body, ...(instance ? { instance } : {}) }));
}

export interface ErrorLogger {
  error(message: string, meta?: Error | Record<string, unknown>): void;
  warn(message: string, meta?: Error | Record<string, unknown>): void;
}

/** The last middleware: every error becomes a problem; server errors are logged with their stack. */
export function problemHandler(logger: ErrorLogger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const problem = toProblem(err);
    if (problem.isServerError) logger.error(`${req.method} ${req.originalUrl} failed`, err instanceof Error ? err : { error: String(err) });
    sendProblem(res, problem, req.originalUrl);
  };
}

/** zod issues as `where.path: message`, the most precise first. */
export function validationProblem(error: z.ZodError, where: 'body' | 'query' | 'path' | 'header'): HttpProblem {
  const errors: InvalidParam[] = error.issues.map((issue) => {
    const path = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') return { path, message: `unknown field(s): ${issue.keys.join(', ')}` };
    return { path, message: issue.message };
  });
  const status = where === 'body' ? 422 : 400;
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return new HttpProblem(status, TITLES[status]!, detail, { code: 'ValidationFailed', errors });
}
