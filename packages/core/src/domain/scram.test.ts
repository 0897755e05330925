import { createHash, createHmac } from 'node:crypto';
import { SCRAM_ITERATIONS, SCRAM_SALT_BYTES, scramSha256Verifier } from './scram.js';

/** The exchange of RFC 7677 section 3 (user "user", password "pencil"). */
const clientFirstBare = 'n=user,r=rOprNGfwEbeRWgbNEkqO';
const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const clientFinalWithoutProof = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const clientProof = 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const serverSignature = '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;

const parse = (verifier: string) => {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) throw new Error(`not a verifier: ${verifier}`);
  const [, iterations, salt, storedKey, serverKey] = m;
  return {
    iterations: Number(iterations),
    salt: Buffer.from(salt, 'base64'),
    storedKey: Buffer.from(storedKey, 'base64'),
    serverKey: Buffer.from(serverKey, 'base64'),
  };
};

describe('scramSha256Verifier', () => {
  it('lets a server holding only the verifier accept the RFC 7677 client proof and answer its server signature', () => {
    const v = parse(scramSha256Verifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')));
    // What PostgreSQL's verify_client_proof does with the stored verifier.
    const clientSignature = createHmac('sha256', v.storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientProof, 'base64');
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]));
    expect(createHash('sha256').update(clientKey).digest().equals(v.storedKey)).toBe(true);
    expect(createHmac('sha256', v.serverKey).update(authMessage).digest('base64')).toBe(serverSignature);
  });

  it('uses libpq defaults: 4096 iterations and a fresh 16-byte salt each time', () => {
    const a = parse(scramSha256Verifier('pencil'));
    const b = parse(scramSha256Verifier('pencil'));
    expect(a.iterations).toBe(SCRAM_ITERATIONS);
    expect(SCRAM_ITERATIONS).toBe(4096);
    expect(a.salt).toHaveLength(SCRAM_SALT_BYTES);
    expect(SCRAM_SALT_BYTES).toBe(16);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.storedKey.equals(b.storedKey)).toBe(false);
  });

  it('refuses a password SASLprep would change, with a message', () => {
    expect(() => scramSha256Verifier('pässword')).toThrow('a SCRAM password must be non-empty printable ASCII');
    expect(() => scramSha256Verifier('')).toThrow('printable ASCII');
  });
});
