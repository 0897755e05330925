import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { invalid } from '../errors.js';

/** As libpq's pg_fe_scram_build_secret: 4096 iterations of PBKDF2-HMAC-SHA-256 over a 16-byte random salt. */
export const SCRAM_ITERATIONS = 4096;
export const SCRAM_SALT_BYTES = 16;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a role (RFC 5802 / RFC 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. `CREATE ROLE … PASSWORD '<verifier>'`
 * stores it as is, so the plaintext password never reaches the server, its logs or an exec argument.
 * Only printable ASCII passwords are accepted: SASLprep is then the identity, as libpq computes it.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(SCRAM_SALT_BYTES), iterations = SCRAM_ITERATIONS): string {
  if (!/^[\x20-\x7e]+$/.test(password)) throw invalid('a SCRAM password must be non-empty printable ASCII');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}
