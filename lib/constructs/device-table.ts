/**
 * The one DynamoDB table, built from the single-table schema (functions/adapters/dynamodb/schema.ts)
 * so that the deployed table, the local engine and the test tables cannot disagree on key or index names.
 */
import { acknowledgeGuard } from '../validation';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  ALL_INDEXES,
  type IndexDefinition,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../functions/adapters/dynamodb/schema';
import { type RemovalPolicyName, toRemovalPolicy } from '../config';

/** The schema's projections (ALL unless an index says otherwise); a new one must be mapped here. */
const PROJECTIONS: Record<NonNullable<IndexDefinition['projection']>, ProjectionType> = {
  ALL: ProjectionType.ALL,
  KEYS_ONLY: ProjectionType.KEYS_ONLY,
  INCLUDE: ProjectionType.INCLUDE,
};

export interface DeviceTableProps {
  /** `retain` (default) keeps the table, with deletion protection, when the stack is deleted. */
  readonly removalPolicy?: RemovalPolicyName;
}

export class DeviceTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: DeviceTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? 'retain';
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The outbox publisher reads changes from the stream; both images let it diff status changes.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: toRemovalPolicy(removalPolicy),
      // A retained table must also survive a stray `cdk destroy` or a replacement in the console.
      deletionProtection: removalPolicy === 'retain',
    });
    acknowledgeGuard(this.table, {
      dynamodb_table_encrypted_kms_check:
        'Encrypted at rest with the DynamoDB-owned key (the default); ' +
        'the items hold device records and certificate public data, ' +
        'no secrets, and a customer-managed key would add a KMS request ' +
        'to reads and writes (cost, throttling) without protecting ' +
        'more.',
    });
    for (const index of ALL_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: PROJECTIONS[index.projection ?? 'ALL'],
        ...(index.include ? { nonKeyAttributes: [...index.include] } : {}),
      });
    }
  }
}
