/** A signing key for JWT-auth tests: an RS256 pair whose public half is written as a JWKS file (kid `k1`). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';

export async function signingKey(dir = mkdtempSync(path.join(tmpdir(), 'jwks-'))) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwks = path.join(dir, 'jwks.json');
  writeFileSync(
    jwks,
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }),
  );
  return { jwks, privateKey };
}
