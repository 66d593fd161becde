import fc from 'fast-check';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import {
  companionEntries,
  deviceKey,
  entryPartition,
  entryPrefix,
  indexFor,
  shardOf,
  sortAttributes,
  statsKey,
} from '../../../functions/adapters/dynamodb/keys';
import { createTableInput, INDEXES } from '../../../functions/adapters/dynamodb/schema';
import { InvalidBookmarkError } from '../../../functions/domain/errors';
import { newDevice } from '../../../functions/domain/device';

describe('keys', () => {
  const { device } = newDevice(
    { id: 'dev-1', dms_id: 'dms-a', tags: ['eu', 'x'] },
    new Date('2026-03-15T10:00:00.000Z'),
  );

  it('builds the device key and its companion entries', () => {
    expect(deviceKey('dev-1')).toEqual({ pk: 'DEVICE#dev-1', sk: 'DEVICE' });
    expect(companionEntries(device)).toEqual([
      { key: { pk: 'DEVICE#dev-1', sk: 'ENTRY#STATUS' }, prefix: 'STATUS#NO_IDENTITY' },
      { key: { pk: 'DEVICE#dev-1', sk: 'ENTRY#DMS' }, prefix: 'DMS#dms-a' },
      { key: { pk: 'DEVICE#dev-1', sk: 'ENTRY#TAG#00' }, prefix: 'TAG#eu' },
      { key: { pk: 'DEVICE#dev-1', sk: 'ENTRY#TAG#01' }, prefix: 'TAG#x' },
    ]);
    expect(entryPrefix({ kind: 'ALL' })).toBe('ALL');
    expect(entryPartition('TAG#eu', 3)).toBe('TAG#eu#3');
    expect(statsKey('DMS#dms-a', 2)).toEqual({ pk: 'STATS#DMS#dms-a#2', sk: 'STATS' });
  });

  it('sorts devices without identity after every expiration date, ids break ties', () => {
    const attrs = sortAttributes(device);
    expect(attrs).toEqual({ esk_created: '2026-03-15T10:00:00.000Z#dev-1', esk_id: 'dev-1', esk_exp: '~#dev-1' });
    const withIdentity = sortAttributes({
      ...device,
      identity: {
        status: 'ACTIVE',
        active_version: 0,
        type: 'x509',
        secrets: {},
        expiration_date: '9999-12-31T23:59:59.999Z',
        events: {},
      },
    });
    expect(withIdentity.esk_exp! < attrs.esk_exp!).toBe(true);
    expect(indexFor('identity.expiration_date')).toBe(INDEXES.byExpiration);
  });

  it('spreads ids over every shard, deterministically and within range', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128 }), fc.integer({ min: 1, max: 64 }), (id, n) => {
        const s = shardOf(id, n);
        return s >= 0 && s < n && Number.isInteger(s) && s === shardOf(id, n);
      }),
    );
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`device-${i}`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('declares every index key attribute once, as a string, with the stream on', () => {
    const input = createTableInput('t');
    expect(input.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual([
      'due_pk',
      'due_sk',
      'epk',
      'esk_created',
      'esk_exp',
      'esk_id',
      'hk',
      'hs',
      'pk',
      'serial',
      'sk',
    ]);
    expect(input.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual([
      'entry-by-created',
      'entry-by-id',
      'entry-by-expiration',
      'due-by-time',
      'version-by-serial',
      'version-by-key',
    ]);
    expect(input.GlobalSecondaryIndexes?.find((g) => g.IndexName === 'version-by-serial')?.Projection).toEqual({
      ProjectionType: 'KEYS_ONLY',
    });
    expect(input.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });
});

describe('bookmarks', () => {
  const codec = bookmarkCodec('secret');
  const query = { f: ['tags[ct]eu'], s: 'id' };

  it('round-trips the position for the same query', () => {
    fc.assert(fc.property(fc.string(), (position) => codec.decode(query, codec.encode(query, position)) === position));
  });

  it('rejects a bookmark of another query, another key, a tampered payload or garbage', () => {
    const bookmark = codec.encode(query, '2026-03-15T10:00:00.000Z#dev-1');
    expect(() => codec.decode({ ...query, s: 'creation_timestamp' }, bookmark)).toThrow(InvalidBookmarkError);
    expect(() => bookmarkCodec('other').decode(query, bookmark)).toThrow(InvalidBookmarkError);
    const [payload, mac] = bookmark.split('.');
    const forged = Buffer.from(JSON.stringify({ q: 'x', p: 'DEVICE#zzz' })).toString('base64url');
    expect(() => codec.decode(query, `${forged}.${mac}`)).toThrow(InvalidBookmarkError);
    expect(() => codec.decode(query, `${payload}`)).toThrow(InvalidBookmarkError);
    expect(() => codec.decode(query, 'not-a-bookmark')).toThrow(InvalidBookmarkError);
    expect(() => codec.decode(query, '..')).toThrow(InvalidBookmarkError);
  });
});
