import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bookmarkCodec, MAX_BOOKMARK_LENGTH } from '../../../functions/adapters/dynamodb/bookmark';
import { InvalidBookmarkError } from '../../../functions/domain/errors';
import { bookmarkSecret, loadBookmarkSecret, resetBookmarkSecret } from '../../../functions/runtime/bookmark-secret';
import { loadConfig } from '../../../functions/runtime/config';
import { localBookmarkSecret } from '../../../local/bookmark-secret';

const secrets = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bookmarks-AbCdEf';
const VALUE = 'k'.repeat(64);

beforeEach(() => {
  secrets.reset();
  resetBookmarkSecret();
});

describe('the bookmark key in AWS', () => {
  it('is read from the stack secret once per cold start (Powertools Parameters)', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
    expect(() => bookmarkSecret()).toThrow('BOOKMARK_SECRET_ARN');
    await loadBookmarkSecret({ BOOKMARK_SECRET_ARN: ARN });
    await loadBookmarkSecret({ BOOKMARK_SECRET_ARN: ARN });
    expect(bookmarkSecret()).toBe(VALUE);
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: ARN }]);
  });

  it('refuses a short secret, and is never derived from the table name', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
    await expect(loadBookmarkSecret({ BOOKMARK_SECRET_ARN: `${ARN}-short` })).rejects.toThrow('at least 32 characters');
    expect(loadConfig({ TABLE_NAME: 'devices' })).toEqual(
      expect.objectContaining({ bookmarkSecret: undefined, bookmarkSecretArn: undefined }),
    );
    expect(() => loadConfig({ TABLE_NAME: 'devices', BOOKMARK_SECRET: 'bookmark:devices' })).toThrow('BOOKMARK_SECRET');
  });
});

describe('the local bookmark key', () => {
  it('is random, kept next to the data folder across restarts, in memory with IN_MEMORY=true', () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'bk-')), 'dynamodb');
    const first = localBookmarkSecret({ DATA_DIR: dataDir });
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(localBookmarkSecret({ DATA_DIR: dataDir })).toBe(first);
    const a = localBookmarkSecret({ IN_MEMORY: 'true' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(localBookmarkSecret({ IN_MEMORY: 'true' })).not.toBe(a);
    expect(localBookmarkSecret({ IN_MEMORY: 'true', BOOKMARK_SECRET: VALUE })).toBe(VALUE);
  });
});

describe('the codec validator hook', () => {
  const codec = bookmarkCodec(() => VALUE);
  it('hands the position to the caller to validate, and refuses oversized bookmarks', () => {
    const digits = (p: string) => /^\d+$/.test(p);
    expect(codec.decode({ q: 1 }, codec.encode({ q: 1 }, '42'), digits)).toBe('42');
    expect(() => codec.decode({ q: 1 }, codec.encode({ q: 1 }, 'x42'), digits)).toThrow(InvalidBookmarkError);
    expect(codec.decode({ q: 1 }, codec.encode({ q: 1 }, 'x42'))).toBe('x42');
    expect(() => codec.decode({ q: 1 }, 'a'.repeat(MAX_BOOKMARK_LENGTH + 1))).toThrow(InvalidBookmarkError);
  });
});
