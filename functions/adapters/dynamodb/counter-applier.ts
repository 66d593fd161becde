/**
 * The counter applier (docs/adr/0005-counters-from-the-stream.md): statistics, metadata value and
 * forecast counters follow the device items through the table's stream, outside every device
 * transaction. Each stream record of a device item yields the difference between the counter cells
 * of its new image and of its old image (counters.ts `deviceCells`, under the index marker each image
 * carries), and so does a device's connectivity item (connected or not, `connectivityCell`); a batch
 * of records becomes a few transactions of one `ADD` per counter item, each with a processed marker
 * per record (`COUNTED#<device id>` / `<sequence number>`, conditioned on not existing), so a
 * redelivered record is never counted twice whatever the batch it arrives in.
 * The ranked metadata values (metadata-ranks.ts) of each applied batch are refreshed after it, and
 * the public keys whose holders the batch moved go to the shared-findings reconciler (`reconcile`).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Device } from '../../domain/device';
import {
  addCellDeltas,
  connectivityCell,
  type CounterDeltas,
  counterUpdates,
  deviceCells,
  findingCells,
  HOLDERS_KEY,
} from './counters';
import { heldKeysOf, holdersIn } from '../../domain/shared-holdings';
import { CONNECTIVITY_KIND } from './connectivity-store';
import { FINDINGS_ATTRIBUTE, MARKER_ATTRIBUTE, markerKeys } from './device-writes';
import { counterStateKey, countedMarkerKey, metadataKeyOfStatsPartition } from './keys';
import { metadataRanks, type RankedValue } from './metadata-ranks';
import { TTL_ATTRIBUTE } from './schema';
import type { RetryPolicy } from '../../domain/backoff';
import { cancellationCodes, transactWrite } from './transact';

/** One stream record of the table, as a stream delivers it (images in the wire format). */
export interface TableChange {
  /** The record's sequence number: with the device id, the processed marker's key. */
  sequenceNumber: string;
  /** Epoch seconds of the commit (the stream's ApproximateCreationDateTime). */
  committedAt: number;
  oldImage?: Record<string, AttributeValue>;
  newImage?: Record<string, AttributeValue>;
}

export interface ApplyReport {
  /** Device records whose counter deltas were applied by this call. */
  applied: number;
  /** Device records already applied before (a redelivery): skipped. */
  duplicates: number;
  /** Records that change no counter, or are not device items. */
  ignored: number;
  transactions: number;
  /** Sequence number of the first record not applied (the call failed there); undefined when all were. */
  failedFrom?: string;
  error?: unknown;
}

/** A transaction holds at most 100 actions. */
const MAX_ACTIONS = 100;
/** Processed markers outlive the stream's 24-hour retention, then TTL removes them. */
export const MARKER_TTL_SECONDS = 2 * 24 * 3600;

interface DeviceDelta {
  sequenceNumber: string;
  deviceId: string;
  deltas: CounterDeltas;
  committedAt: number;
}

type Image = Record<string, unknown>;

const isDevice = (image: Image | undefined) => image?.kind === 'device' && image.sk === 'DEVICE';
/** A device's connectivity item (presence events): counted connected or disconnected. */
const isConnectivity = (image: Image | undefined) => image?.kind === CONNECTIVITY_KIND && image.sk === 'CONNECTIVITY';

const isDeviceChange = (change: TableChange) => {
  const image = change.newImage ?? change.oldImage;
  return (
    (image?.kind?.S === 'device' && image?.sk?.S === 'DEVICE') ||
    (image?.kind?.S === CONNECTIVITY_KIND && image?.sk?.S === 'CONNECTIVITY')
  );
};

/**
 * A record's images as plain objects, and a device image's document, each decoded once: the counter
 * deltas and the holder moves of a record read the same images.
 */
const decodedImages = new WeakMap<TableChange, { before?: Image; after?: Image }>();
const decodedDocs = new WeakMap<Image, Device>();

function imagesOf(change: TableChange): { before?: Image; after?: Image } {
  let images = decodedImages.get(change);
  if (!images) {
    images = {
      ...(change.oldImage ? { before: unmarshall(change.oldImage) as Image } : {}),
      ...(change.newImage ? { after: unmarshall(change.newImage) as Image } : {}),
    };
    decodedImages.set(change, images);
  }
  return images;
}

function documentOf(image: Image & { doc: string }): Device {
  let device = decodedDocs.get(image);
  if (!device) {
    device = JSON.parse(image.doc) as Device;
    decodedDocs.set(image, device);
  }
  return device;
}

/** The counter cells of one image of a device item, under the indexed keys its marker names. */
function cellsOf(image: Image | undefined, statsShards: number) {
  if (isConnectivity(image))
    return [connectivityCell(String(image!.pk).slice('DEVICE#'.length), image!.connected === true, statsShards)];
  if (!isDevice(image) || typeof image?.doc !== 'string') return [];
  const device = documentOf(image as Image & { doc: string });
  const marker = image[MARKER_ATTRIBUTE];
  const cells = deviceCells(device, typeof marker === 'string' ? markerKeys(marker) : new Set<string>(), statsShards);
  const findings = image[FINDINGS_ATTRIBUTE];
  if (typeof findings === 'string') cells.push(...findingCells(device.id, JSON.parse(findings), statsShards));
  return cells;
}

/** The counter deltas of one record (empty when it is not a device item or changes no cell). */
export function deltaOf(change: TableChange, statsShards: number): DeviceDelta | undefined {
  const { before, after } = imagesOf(change);
  if (!isDevice(before) && !isDevice(after) && !isConnectivity(before) && !isConnectivity(after)) return undefined;
  const deltas = addCellDeltas(new Map(), cellsOf(before, statsShards), cellsOf(after, statsShards));
  if (deltas.size === 0) return undefined;
  const pk = String((after ?? before)?.pk);
  return {
    sequenceNumber: change.sequenceNumber,
    deviceId: pk.slice('DEVICE#'.length),
    deltas,
    committedAt: change.committedAt,
  };
}

/** A device's slots in the holder index, as `<key>#<certificate>#<slot>` (none when its marker has not the key). */
function registeredHolders(image: Image | undefined): Set<string> {
  const marker = image?.[MARKER_ATTRIBUTE];
  if (!isDevice(image) || typeof image?.doc !== 'string' || typeof marker !== 'string') return new Set();
  if (!markerKeys(marker).has(HOLDERS_KEY)) return new Set();
  const device = documentOf(image as Image & { doc: string });
  return new Set(
    [...heldKeysOf(device)].flatMap((key) => holdersIn(device, key).map((h) => `${key}#${h.certificate}#${h.slot}`)),
  );
}

/** The public keys (SHA-256, hex) a record moved a slot of its device into or out of, in the holder index. */
export function keyMoveOf(change: TableChange): { device: string; keys: string[] } | undefined {
  const { before, after } = imagesOf(change);
  const was = registeredHolders(before);
  const is = registeredHolders(after);
  const moved = [...[...was].filter((h) => !is.has(h)), ...[...is].filter((h) => !was.has(h))];
  if (moved.length === 0) return undefined;
  const pk = String((after ?? before)?.pk);
  return { device: pk.slice('DEVICE#'.length), keys: [...new Set(moved.map((h) => h.slice(0, h.indexOf('#'))))] };
}

/** Consecutive deltas whose markers and distinct counter items fit one transaction. */
function chunksOf(deltas: readonly DeviceDelta[]): DeviceDelta[][] {
  const chunks: DeviceDelta[][] = [];
  let chunk: DeviceDelta[] = [];
  let items = new Set<string>();
  for (const delta of deltas) {
    const merged = new Set([...items, ...delta.deltas.keys()]);
    if (chunk.length > 0 && chunk.length + 1 + merged.size > MAX_ACTIONS) {
      chunks.push(chunk);
      chunk = [];
      items = new Set(delta.deltas.keys());
    } else items = merged;
    chunk.push(delta);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The metadata values whose counters a chunk changes (their ranked items follow: metadata-ranks.ts). */
function rankedValuesOf(chunk: readonly DeviceDelta[]): RankedValue[] {
  const values: RankedValue[] = [];
  for (const delta of chunk)
    for (const item of delta.deltas.values()) {
      const key = metadataKeyOfStatsPartition(item.key.pk);
      if (key !== undefined && typeof item.set?.v === 'string') values.push({ key, text: item.set.v });
    }
  return values;
}

export interface CounterApplierOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  statsShards: number;
  retry?: RetryPolicy;
  now?: () => number;
  /** Judges the shared findings of the public keys a batch moved (app/shared-findings.ts); none: not judged. */
  reconcile?: (moves: { device: string; keys: string[] }[]) => Promise<unknown>;
}

export function counterApplier({
  client,
  tableName: TableName,
  statsShards,
  retry,
  now = Date.now,
  reconcile,
}: CounterApplierOptions) {
  const ranks = metadataRanks(client, TableName, statsShards, () => undefined);
  const markerPut = (delta: DeviceDelta) => ({
    Put: {
      TableName,
      Item: {
        ...countedMarkerKey(delta.deviceId, delta.sequenceNumber),
        kind: 'counted',
        [TTL_ATTRIBUTE]: Math.floor(now() / 1000) + MARKER_TTL_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });

  /** Applies one chunk; returns how many of its records were applied and how many were duplicates. */
  async function applyChunk(chunk: DeviceDelta[], report: ApplyReport): Promise<void> {
    let pending = chunk;
    while (pending.length > 0) {
      const merged: CounterDeltas = new Map();
      for (const delta of pending)
        for (const [id, item] of delta.deltas) {
          const into = merged.get(id) ?? { key: item.key, adds: new Map<string, number>(), set: item.set };
          for (const [attr, n] of item.adds) into.adds.set(attr, (into.adds.get(attr) ?? 0) + n);
          merged.set(id, into);
        }
      for (const [id, item] of merged) {
        for (const [attr, n] of item.adds) if (n === 0) item.adds.delete(attr);
        if (item.adds.size === 0) merged.delete(id);
      }
      try {
        report.transactions++;
        await transactWrite(
          client,
          { TransactItems: [...pending.map(markerPut), ...counterUpdates(TableName, merged)] },
          retry,
        );
        report.applied += pending.length;
        return;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (!codes?.some((code) => code === 'ConditionalCheckFailed')) throw error;
        // Markers come first: the records whose marker exists were applied before. Drop them, send the rest.
        const seen = new Set(codes.flatMap((code, i) => (code === 'ConditionalCheckFailed' ? [i] : [])));
        report.duplicates += seen.size;
        pending = pending.filter((_, i) => !seen.has(i));
      }
    }
  }

  /** The newest `through` this applier wrote: a batch within the same second writes nothing more. */
  let advanced = 0;

  /** Records that the counters include every change committed up to `committedAt` (epoch seconds); never moves back. */
  async function advance(committedAt: number): Promise<void> {
    if (committedAt <= advanced) return;
    const through = new Date(committedAt * 1000).toISOString();
    try {
      await client.send(
        new UpdateCommand({
          TableName,
          Key: counterStateKey(),
          UpdateExpression: 'SET #through = :t',
          ConditionExpression: 'attribute_not_exists(#through) OR #through < :t',
          ExpressionAttributeNames: { '#through': 'through' },
          ExpressionAttributeValues: { ':t': through },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
    advanced = committedAt;
  }

  return {
    /**
     * Applies the counter deltas of a batch of stream records, in order. Stops at the first chunk
     * that fails and reports where: everything before it is applied and marked, so the stream may
     * deliver from there (or the whole batch) again.
     */
    async apply(changes: readonly TableChange[]): Promise<ApplyReport> {
      const report: ApplyReport = { applied: 0, duplicates: 0, ignored: 0, transactions: 0 };
      const deltas: DeviceDelta[] = [];
      let devices = 0;
      for (const change of changes) {
        const delta = deltaOf(change, statsShards);
        if (delta) deltas.push(delta);
        else report.ignored++;
        if (delta || isDeviceChange(change)) devices++;
      }
      for (const chunk of chunksOf(deltas)) {
        try {
          await applyChunk(chunk, report);
          // Also after a redelivery: the refresh that followed the first delivery may not have run.
          await ranks.refresh(rankedValuesOf(chunk));
        } catch (error) {
          report.failedFrom = chunk[0]!.sequenceNumber;
          report.error = error;
          return report;
        }
      }
      // After the counters: a failure here delivers the batch again, which the markers make count once.
      const moves = reconcile ? changes.map(keyMoveOf).filter((m) => m !== undefined) : [];
      if (moves.length > 0)
        try {
          await reconcile!(moves);
        } catch (error) {
          report.failedFrom = changes[0]!.sequenceNumber;
          report.error = error;
          return report;
        }
      // A batch of no device record (locally: the applier's own writes, which the local feed passes on) moves nothing.
      if (devices > 0) await advance(changes.reduce((t, c) => Math.max(t, c.committedAt), 0));
      return report;
    },
  };
}

export type CounterApplier = ReturnType<typeof counterApplier>;
