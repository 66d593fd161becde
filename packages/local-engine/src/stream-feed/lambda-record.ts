/**
 * A change record as a Lambda event source mapping delivers it from a DynamoDB stream with
 * StreamViewType NEW_AND_OLD_IMAGES.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { ChangeRecord } from '../change-feed';

type LambdaAttributeMap = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['Keys']>;

/** Where the records say they come from. */
export interface RecordSource {
  region: string;
  eventSourceARN: string;
}

/** The source of a feed of `tableName` started now: a stream ARN ends with the stream label, its creation time. */
export function recordSource(tableName: string, now = new Date()): RecordSource {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const label = now.toISOString().replace(/Z$/, '');
  return { region, eventSourceARN: `arn:aws:dynamodb:${region}:000000000000:table/${tableName}/stream/${label}` };
}

/**
 * The record as the mapping delivers it. Filter criteria see it before delivery: `sized: false` leaves
 * out `SizeBytes`, computed only for the records delivered.
 */
export function toLambdaRecord(record: ChangeRecord, source: RecordSource, { sized = true } = {}): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: source.region,
    dynamodb: {
      ApproximateCreationDateTime: record.approximateCreationDateTime,
      Keys: record.keys as LambdaAttributeMap,
      ...(record.newImage ? { NewImage: record.newImage as LambdaAttributeMap } : {}),
      ...(record.oldImage ? { OldImage: record.oldImage as LambdaAttributeMap } : {}),
      SequenceNumber: record.sequenceNumber,
      ...(sized ? { SizeBytes: mapSize(record.keys) + mapSize(record.newImage) + mapSize(record.oldImage) } : {}),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: source.eventSourceARN,
  };
}

/** Approximate size in bytes of an attribute map (attribute names plus values), for SizeBytes. */
function mapSize(map: Record<string, unknown> | undefined): number {
  if (!map) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(map))
    size += Buffer.byteLength(name) + valueSize(value as Record<string, unknown>);
  return size;
}

function valueSize(value: Record<string, unknown>): number {
  const [type] = Object.keys(value);
  const val = type === undefined ? undefined : value[type];
  switch (type) {
    case 'S':
      return Buffer.byteLength(val as string);
    case 'N':
      return Math.ceil((val as string).replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
    case 'B':
      return Buffer.from(val as string, 'base64').length;
    case 'SS':
    case 'NS':
    case 'BS':
      return (val as string[]).reduce((sum, member) => sum + valueSize({ [type.slice(0, 1)]: member }), 0);
    case 'L':
      return 3 + (val as Record<string, unknown>[]).reduce((sum, member) => sum + 1 + valueSize(member), 0);
    case 'M':
      return 3 + mapSize(val as Record<string, unknown>);
    default:
      return 1; // BOOL, NULL
  }
}
