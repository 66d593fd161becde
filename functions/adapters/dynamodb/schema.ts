/**
 * The single-table design, defined once: the CDK table (lib/constructs/device-table.ts) and the
 * local/test tables (createTableInput) are both built from this module. docs/data-model.md explains it.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** Epoch-seconds attribute that DynamoDB TTL deletes on (published outbox records). */
export const TTL_ATTRIBUTE = 'ttl';

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** Attributes copied into the index (default ALL). */
  projection?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** The non-key attributes of an INCLUDE projection. */
  include?: readonly string[];
}

/** The device status, carried by the device item and every entry so status filters and counts need no device read. */
export const STATUS_ATTRIBUTE = 'st';

/**
 * Entry-point indexes: one partition attribute (`epk`), one index per sort order. Slim: they hold the
 * keys and the status only; a page's devices are read from the table (BatchGetItem).
 */
export const INDEXES = {
  byCreated: {
    name: 'entry-by-created',
    partitionKey: 'epk',
    sortKey: 'esk_created',
    projection: 'INCLUDE',
    include: [STATUS_ATTRIBUTE],
  },
  byId: {
    name: 'entry-by-id',
    partitionKey: 'epk',
    sortKey: 'esk_id',
    projection: 'INCLUDE',
    include: [STATUS_ATTRIBUTE],
  },
  byExpiration: {
    name: 'entry-by-expiration',
    partitionKey: 'epk',
    sortKey: 'esk_exp',
    projection: 'INCLUDE',
    include: [STATUS_ATTRIBUTE],
  },
} as const satisfies Record<string, IndexDefinition>;

/**
 * Sparse, write-sharded index of devices with a future status boundary: `due_pk = DUE#<shard>`,
 * `due_sk = <boundary ISO>#<id>`. Only device items that have a boundary carry these attributes;
 * keys only: the sweeper reads the due devices from the table.
 */
export const DUE_INDEX = {
  name: 'due-by-time',
  partitionKey: 'due_pk',
  sortKey: 'due_sk',
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

/** Certificate serial → slot version (sparse: x509 version items only). */
export const SERIAL_INDEX = {
  name: 'version-by-serial',
  partitionKey: 'serial',
  sortKey: 'pk',
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

/**
 * Public key → the active slot versions holding it (sparse: in-service x509 versions only; docs/data-model.md,
 * Shared fingerprints): `hk = <key sha256, base64url>`, `hs = <certificate sha256, base64url>#<device>#<slot>`.
 * One Query names every holder of a key, a sort prefix those of a certificate: no item shared by devices.
 */
export const HOLDER_INDEX = {
  name: 'version-by-key',
  partitionKey: 'hk',
  sortKey: 'hs',
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

export const ALL_INDEXES: IndexDefinition[] = [...Object.values(INDEXES), DUE_INDEX, SERIAL_INDEX, HOLDER_INDEX];

/** Attributes that are keys of the table or of an index: all strings. */
export function keyAttributes(): string[] {
  return [...new Set([PARTITION_KEY, SORT_KEY, ...ALL_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])])];
}

/** CreateTable input for a local or test table (on-demand, stream NEW_AND_OLD_IMAGES). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes().map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: ALL_INDEXES.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' },
        { AttributeName: i.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: i.projection ?? 'ALL', ...(i.include ? { NonKeyAttributes: [...i.include] } : {}) },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}
