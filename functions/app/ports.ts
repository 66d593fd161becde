/** The interfaces use cases need; adapters implement them, the composition root wires them. */
import type { Device, DeviceEvent, DeviceStatus, JsonValue } from '../domain/device';
import type { StoredConnectivity } from '../domain/connectivity';
import type { Filter } from '../domain/filters';
import type { InventoryDimension } from '../domain/inventory';
import type { DeviceGroup } from '../domain/groups';
import type { OutboxEvent } from '../domain/outbox';
import type { DmsPolicy } from '../domain/policy';
import type { PostureCheck, PosturePolicy } from '../domain/posture';
import type { KeyHolder } from '../domain/shared-holdings';
import type { Job, JobDeviceOutcome } from '../domain/jobs';
import type { DeviceListQuery } from '../domain/query';
import type { SlotVersion } from '../domain/slots';

export interface Clock {
  now(): Date;
}

export type IdGenerator = () => string;

export interface Page<T> {
  next: string;
  list: T[];
}

/** One atomic change of one device: the device, its new events and the outbox records. */
export interface DeviceChange {
  /** The stored device the change was computed from; absent for a registration. */
  before?: Device;
  after: Device;
  events: DeviceEvent[];
  outbox: OutboxEvent[];
  /** Slot versions to store (new ones, or existing ones whose status changed). */
  versions?: SlotVersion[];
  /** Next status boundary in epoch ms; null removes the device from the due index; undefined keeps it. */
  due?: number | null;
  /**
   * The DMS policy the change was computed with (version 0: the deployment defaults, no stored
   * policy). The change commits only if that is still the stored policy, so a change computed with
   * an old policy cannot land after the policy change's re-evaluation has passed the device.
   */
  policy?: { dms: string; version: number };
  /**
   * The posture policy version the change judged its findings with: like `policy`, the change commits
   * only if the device was not judged since with a newer one (the re-evaluation walk passed it).
   */
  posture?: { version: number };
  /**
   * A remediation job's record that it handled this device, written in the same transaction only if
   * the job has none for the device yet (JobOutcomeExistsError otherwise): at most once per device and job.
   */
  jobOutcome?: JobDeviceOutcome;
}

/** What one back-fill step of the indexed keys did. */
export interface BackfillReport {
  /** Devices newly indexed. */
  indexed: number;
  /** False when the deadline stopped it with devices left. */
  complete: boolean;
}

/** One value of an indexed metadata key and the statistics of the devices holding it. */
export interface MetadataValueStats {
  /** The value's JSON text. */
  value: string;
  stats: StatusCounts;
}

/** The most common values of a metadata key. */
export interface TopMetadataValues {
  /** Most devices first, ties by value text. */
  values: MetadataValueStats[];
  /** Devices holding any other value of the key. */
  other: number;
}

/** Where a stored slot version lives. */
export interface SlotVersionRef {
  deviceId: string;
  slot: string;
  version: number;
}

/** A page of the due index: devices whose boundary has passed, and where to continue. */
export interface DuePage {
  devices: Device[];
  /** Position after the last device of the page; undefined on the last page. */
  next?: string;
  /** Boundary (epoch ms) of the first device of the page: the oldest when the page is a shard's first. */
  firstDue?: number;
}

/**
 * What the sweeper reads and records, cut into segments that workers can take in parallel. How a
 * segment maps onto the table (today: one shard of the due index, one shard of a DMS's entries) is
 * the adapter's business: the use case only names segments it was given.
 */
export interface SweepIndex {
  /** Parts of the due index; each is read oldest boundary first. */
  readonly dueSegments: readonly string[];
  /** Devices of one due segment whose boundary is at or before `now`, oldest first, after `after`. */
  dueDevices(segment: string, now: number, limit: number, after?: string): Promise<DuePage>;
  /** The oldest boundary at or before `now` in one due segment (epoch ms), from the index alone. */
  firstDue(segment: string, now: number): Promise<number | undefined>;
  /** Parts of a DMS's device list; a policy job keeps its progress per part. */
  readonly dmsSegments: readonly string[];
  devicesOfDms(
    dms: string,
    segment: string,
    limit: number,
    after?: string,
  ): Promise<{ devices: Device[]; next?: string }>;
  /** Back-fills newly indexed keys (metadata keys, the forecast) until `deadline`; resumable. */
  backfillIndexes(deadline: number, pageSize: number): Promise<BackfillReport>;
  /** Records `run` (an id) as the current sweep run: tasks of every other run stop at their next step. */
  beginRun(run: string): Promise<void>;
  currentRun(): Promise<string | undefined>;
}

/**
 * A unit of background work: a small JSON message (at most 256 KiB) naming its `kind`. Handlers
 * are registered per kind (app/tasks.ts); the rest of the message is the kind's own.
 */
export interface Task {
  kind: string;
  [field: string]: unknown;
}

/** Where tasks wait for a worker: an SQS queue as deployed, an in-process queue locally. */
export interface TaskQueue {
  /** Accepts every task or throws (nothing half-sent is acknowledged). */
  send(tasks: readonly Task[]): Promise<void>;
}

/** Where use cases report what operators count (metrics); a no-op by default. */
export interface Telemetry {
  deviceCreated(): void;
  statusChanged(from: DeviceStatus, to: DeviceStatus): void;
}

export const NO_TELEMETRY: Telemetry = { deviceCreated: () => undefined, statusChanged: () => undefined };

export type StatusDistribution = Record<DeviceStatus, number>;

export interface StatusCounts {
  total: number;
  status_distribution: StatusDistribution;
}

export interface DeviceStats extends StatusCounts {
  /**
   * Every change committed before this instant (ISO) is counted. Counters follow the table's stream
   * (docs/adr/0005-counters-from-the-stream.md); an answer read from the devices themselves is as of
   * its read.
   */
  consistent_as_of: string;
}

/** One device as a whole: read it, write one change of it atomically. */
export interface DeviceStore {
  get(id: string): Promise<Device | undefined>;
  /** The stored devices of these ids (missing ones absent), by id: strongly consistent, 100 ids a round trip. */
  getMany(ids: readonly string[]): Promise<Map<string, Device>>;
  /**
   * Writes the change atomically. Throws DeviceAlreadyExistsError when registering an existing id,
   * VersionConflictError when `before.version` is no longer the stored version, PolicyMovedError when
   * the device was evaluated since with a newer `policy` of its DMS (the fence on the device item).
   */
  save(change: DeviceChange): Promise<void>;
  /**
   * Registers new devices several to a transaction (a bulk import: one round trip for many devices).
   * Each id ends in exactly one list: `created`, or `refused` when its transaction was cancelled (an
   * id that exists, or another device of the same transaction that does): a refused device was not
   * written, and the caller registers it alone to learn why.
   */
  saveNew(changes: readonly DeviceChange[]): Promise<{ created: string[]; refused: string[] }>;
}

/** The stored versions of the devices' slots (a change writes them; these read and amend them). */
export interface SlotVersionStore {
  getSlotVersion(id: string, slot: string, version: number): Promise<SlotVersion | undefined>;
  /** The stored slot versions whose certificate has this serial (lowercase hex), any order. */
  findSlotVersionsBySerial(serial: string): Promise<SlotVersionRef[]>;
  /**
   * Rewrites one stored version alone (a superseded version's status), if it still is `previous`;
   * throws VersionConflictError otherwise.
   */
  saveSlotVersion(version: SlotVersion, previous: SlotVersion): Promise<void>;
}

/** Reads of the fleet: the device list, a device's history, statistics. */
export interface DeviceQueries {
  list(query: DeviceListQuery): Promise<Page<Device>>;
  /** A device's events, newest first. */
  listEvents(id: string, pageSize: number, bookmark?: string): Promise<Page<DeviceEvent>>;
  /** Exact statistics of the devices matching the filters. */
  stats(filters: readonly Filter[]): Promise<DeviceStats>;
  /** The indexed metadata keys (INDEXED_METADATA_KEYS): filters on them may be served by an index. */
  readonly indexedMetadataKeys: readonly string[];
}

/** What the fleet's counters tell (docs/api.md, Fleet insights). */
export interface InsightQueries {
  /** The indexed metadata keys (INDEXED_METADATA_KEYS). */
  readonly indexedMetadataKeys: readonly string[];
  /**
   * The `limit` values of an indexed metadata key held by most devices (ties by value text), with the
   * statistics of their devices, reading about what `limit` needs; throws IndexNotReadyError until
   * the key's back-fill is done.
   */
  metadataValues(key: string, limit: number): Promise<TopMetadataValues>;
  /** The instant up to which the counters include every committed change (DeviceStats `consistent_as_of`). */
  countersConsistentAsOf(): Promise<string>;
  /**
   * Certificates in service of one slot by value of one inventory dimension (values with none left
   * out); throws IndexNotReadyError until the inventory's back-fill is done.
   */
  certificateInventory(slot: string, dimension: InventoryDimension): Promise<Map<string, number>>;
  /**
   * Active certificates (identity) and secrets (slots) by UTC expiration day (`YYYY-MM-DD`), in all
   * or one DMS: every day up to `lastDay`, and possibly later days of `lastDay`'s month.
   */
  expirationsByDay(dms: string | undefined, lastDay: string): Promise<Map<string, { identity: number; slots: number }>>;
  /** Devices whose last AWS IoT presence event was a connect, and a disconnect (from the counters). */
  connectivityCounts(): Promise<{ connected: number; disconnected: number }>;
}

/** Keeps the indexes whole when the indexed keys change. */
export interface IndexMaintenance {
  /** Back-fills newly indexed keys (metadata keys, the forecast) until `deadline`; resumable. */
  backfillIndexes(deadline: number, pageSize: number): Promise<BackfillReport>;
}

/** The due index: each device's next status boundary (a change moves it; the sweeper reads it). */
export interface DueIndex {
  /** Devices of one due shard whose boundary is at or before `now`, oldest first, after `after`. */
  dueDevices(shard: number, now: number, limit: number, after?: string): Promise<DuePage>;
  /** The oldest boundary at or before `now` in one due shard (epoch ms), without reading a device. */
  firstDue(shard: number, now: number): Promise<number | undefined>;
  /**
   * Moves a device in the due index without changing it, if it is still at `version` (and the
   * policy at the version used).
   */
  setDue(id: string, version: number, due: number | null, policy?: DeviceChange['policy']): Promise<void>;
  readonly dueShards: number;
}

/** The devices of one DMS (a policy change re-evaluates them). */
export interface DmsDevices {
  /** Every device of a DMS, page by page. */
  devicesOfDms(
    dms: string,
    shard: number,
    limit: number,
    after?: string,
  ): Promise<{ devices: Device[]; next?: string }>;
  readonly listShards: number;
}

/** Every device capability at once: what one adapter implements and the composition roots hand out. */
export interface DeviceRepository
  extends DeviceStore,
    SlotVersionStore,
    DeviceQueries,
    InsightQueries,
    IndexMaintenance,
    DueIndex,
    DmsDevices {}

/**
 * Hard deletion of a decommissioned device (Lamassu's `DELETE /devices/{id}`). The device and its
 * index entries go, the statistics stop counting it and `outbox` is written, atomically; its history
 * (events, slot versions) is kept for audit until the retention expires.
 */
export interface DevicePurge {
  /** Throws VersionConflictError when the stored device is no longer at `device.version`. */
  purge(device: Device, outbox: OutboxEvent[]): Promise<void>;
}

/** A pending re-evaluation of every device of a DMS after its policy changed. */
export interface PolicyJob {
  dms: string;
  /** Per list shard: the position reached, 'done', or absent (not started). */
  progress: Record<string, string>;
  policyVersion: number;
}

export interface PolicyRepository {
  get(dms: string): Promise<DmsPolicy | undefined>;
  /**
   * The stored policies of several DMSs in one read (absent ones left out): a sweep page's devices
   * belong to many DMSs. Optional: without it each DMS is read with `get`.
   */
  getMany?(dms: readonly string[]): Promise<Map<string, DmsPolicy>>;
  list(pageSize: number, bookmark?: string): Promise<Page<DmsPolicy>>;
  /** Writes the policy (conditioned on `before`'s version, or absence), its outbox record and a re-evaluation job. */
  save(before: DmsPolicy | undefined, after: DmsPolicy, outbox: OutboxEvent[]): Promise<void>;
  jobs(): Promise<PolicyJob[]>;
  /** Records progress, or deletes the job when `done`. Ignored if the job was replaced meanwhile. */
  updateJob(job: PolicyJob, done: boolean): Promise<void>;
  /**
   * Records the position reached in one segment (parallel walkers each own one), and deletes the job
   * once every one of `segments` is 'done'. 'replaced' when a newer policy's job took its place.
   */
  recordJobProgress(
    job: PolicyJob,
    segment: string,
    position: string,
    segments: readonly string[],
  ): Promise<'running' | 'done' | 'replaced'>;
}

/** Remediation jobs (app/jobs.ts): the job items, the unfinished ones, and each job's per-device outcomes. */
export interface JobStore {
  /** Stores a new job (and marks it unfinished) with its outbox records. */
  create(job: Job, outbox: OutboxEvent[]): Promise<void>;
  get(id: string): Promise<Job | undefined>;
  /** Jobs newest first. */
  list(pageSize: number, bookmark?: string): Promise<Page<Job>>;
  /**
   * Replaces the job if it is still at `before.version` (false otherwise: another walker or a cancel
   * moved it), with its outbox records; a finished `after` leaves the unfinished ones.
   */
  save(before: Job, after: Job, outbox: OutboxEvent[]): Promise<boolean>;
  /** Ids of the jobs not finished yet (PENDING, RUNNING). */
  unfinished(): Promise<string[]>;
  /** Records an outcome without a device change, if the job has none for the device (false otherwise). */
  putOutcome(outcome: JobDeviceOutcome): Promise<boolean>;
  getOutcome(jobId: string, deviceId: string): Promise<JobDeviceOutcome | undefined>;
  /** Outcomes by device id. */
  outcomes(jobId: string, pageSize: number, bookmark?: string): Promise<Page<JobDeviceOutcome>>;
}

/** Every stored group, read at one hierarchy version (strongly consistent). */
export interface GroupSnapshot {
  /** Bumped by every structural change (create under a parent, re-parent, delete). */
  hierarchyVersion: number;
  groups: DeviceGroup[];
}

/**
 * One atomic change of groups: puts (a create when `before` is absent, else conditioned on
 * `before.version`), deletes (conditioned on their version), their name reservations and the outbox.
 * With `hierarchyVersion` the change is also conditioned on the hierarchy still being at that
 * version, and bumps it: structural checks made on a snapshot then hold when the change commits.
 */
export interface GroupChange {
  puts: { before?: DeviceGroup; after: DeviceGroup }[];
  deletes: DeviceGroup[];
  hierarchyVersion?: number;
  outbox: OutboxEvent[];
}

export interface GroupRepository {
  get(id: string): Promise<DeviceGroup | undefined>;
  /** The groups that exist among `ids` (any order). */
  getMany(ids: readonly string[]): Promise<DeviceGroup[]>;
  snapshot(): Promise<GroupSnapshot>;
  /** Groups by id, ascending. */
  list(pageSize: number, bookmark?: string): Promise<Page<DeviceGroup>>;
  /**
   * Writes the change atomically. Throws GroupAlreadyExistsError (create of an existing id),
   * GroupNameTakenError (a name another group holds), VersionConflictError (a group's version or the
   * hierarchy version moved).
   */
  save(change: GroupChange): Promise<void>;
}

// Events (docs/api.md, Events on EventBridge): the bus, the dead-letter queue of the publisher, and the AWS IoT
// registry (docs/api.md, AWS IoT Core registry sync).

/** A CloudEvents 1.0 envelope as published on the bus (the `Detail` of one bus entry). */
export interface CloudEvent {
  specversion: '1.0';
  /** The outbox event id: stable across redeliveries. */
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: unknown;
}

/** What became of one event handed to the bus. */
export type PublishOutcome = { ok: true } | { ok: false; code: string; message: string; retryable: boolean };

export interface EventPublisher {
  /**
   * Sends events in the given order; returns one outcome per event, in the same order. Never throws for a failed entry.
   */
  publish(events: readonly CloudEvent[]): Promise<PublishOutcome[]>;
}

/** An event (or an outbox record that could not be read) the publisher gave up on, and why. */
export interface DeadLetter {
  reason: { code: string; message: string; attempts: number };
  event?: CloudEvent;
  /** Where it came from (stream sequence number, the raw record when it could not be parsed). */
  record?: Record<string, unknown>;
}

export interface DeadLetterQueue {
  /** Throws when the letter could not be stored: the caller must then keep the record for a retry. */
  send(letter: DeadLetter): Promise<void>;
}

/** A thing of the AWS IoT registry. */
export interface IotThing {
  name: string;
  version: number;
  attributes: Record<string, string>;
  thingTypeName?: string;
}

export type IotCertificateStatus =
  | 'ACTIVE'
  | 'INACTIVE'
  | 'REVOKED'
  | 'PENDING_TRANSFER'
  | 'REGISTER_INACTIVE'
  | 'PENDING_ACTIVATION';

export interface IotCertificate {
  id: string;
  status: IotCertificateStatus;
}

/**
 * The AWS IoT registry calls the sync needs. Implementations retry throttling themselves and
 * translate "already there" and "not there" into these results.
 */
export interface IotRegistry {
  describeThing(name: string): Promise<IotThing | undefined>;
  /** 'exists' when a thing of that name exists with another configuration. */
  createThing(name: string, attributes: Record<string, string>, thingTypeName?: string): Promise<'created' | 'exists'>;
  /**
   * Merges `attributes` ('' removes one); throws IotVersionConflictError when the thing moved past `expectedVersion`.
   */
  updateThing(
    name: string,
    attributes: Record<string, string>,
    expectedVersion: number,
    thingTypeName?: string,
  ): Promise<void>;
  describeCertificate(id: string): Promise<IotCertificate | undefined>;
  /**
   * Registers a device certificate, ACTIVE: with its CA (registered in AWS IoT, found by the issuer) or
   * without one (multi-account / SNI mode). 'exists' when it is registered already.
   */
  registerCertificate(pem: string, withCa: boolean): Promise<{ id: string } | 'exists'>;
  updateCertificate(id: string, status: 'ACTIVE' | 'INACTIVE' | 'REVOKED'): Promise<void>;
  attachPrincipal(thingName: string, principal: string): Promise<void>;
  /** A principal that is not attached (or no longer exists) counts as detached. */
  detachPrincipal(thingName: string, principal: string): Promise<void>;
}

/** The device shadows of AWS IoT (its data plane): the sync writes part of the desired state. */
export interface IotShadows {
  /**
   * Merges `desired` into the thing's shadow (`shadowName` undefined: the classic shadow); a null value
   * removes that key. Implementations pace and retry throttling themselves.
   */
  updateDesired(thingName: string, shadowName: string | undefined, desired: Record<string, JsonValue>): Promise<void>;
}

/** CA registration in AWS IoT (docs/iot-provisioning.md, CA registration). */
export interface IotCaRegistry {
  /** The account's registration code: the common name a DEFAULT-mode verification certificate carries. */
  registrationCode(): Promise<string>;
  /** Throws IotCaExistsError when registered already, IotRejectedError when AWS IoT refuses the certificates. */
  registerCa(input: {
    caPem: string;
    verificationPem?: string;
    mode: 'DEFAULT' | 'SNI_ONLY';
    active: boolean;
    autoRegistration: boolean;
    templateName?: string;
  }): Promise<{ id: string; arn: string }>;
}

/**
 * The AWS IoT calls of per-DMS provisioning (docs/iot-provisioning.md): IoT policies, thing groups and
 * provisioning templates. Implementations retry throttling themselves; "already there" is success.
 */
export interface IotProvisioningRegistry {
  /** The document of the policy's default version; undefined when there is no such policy. */
  getPolicy(name: string): Promise<{ document: string } | undefined>;
  /** 'exists' when a policy of that name exists already. */
  createPolicy(name: string, document: string): Promise<'created' | 'exists'>;
  /** A new default version with `document` (the oldest other version deleted when AWS IoT's five are reached). */
  setPolicyDocument(name: string, document: string): Promise<void>;
  /** Attaching an attached policy succeeds; detaching one not attached (or gone) counts as detached. */
  attachPolicy(name: string, target: string): Promise<void>;
  detachPolicy(name: string, target: string): Promise<void>;
  thingGroupExists(name: string): Promise<boolean>;
  /** A group that exists already counts as created. */
  createThingGroup(name: string): Promise<void>;
  addThingToGroup(group: string, thingName: string): Promise<void>;
  /** A thing not in the group (or a group gone) counts as removed. */
  removeThingFromGroup(group: string, thingName: string): Promise<void>;
  /** The template's default body and role; undefined when there is no such template. */
  describeTemplate(name: string): Promise<{ body: string; roleArn?: string } | undefined>;
  createTemplate(template: { name: string; body: string; roleArn: string; description?: string }): Promise<void>;
  /** A new default version with `body` (the oldest other version deleted when AWS IoT's five are reached). */
  setTemplateBody(name: string, body: string): Promise<void>;
}

/**
 * What the IoT sync last did for a device (docs/api.md, AWS IoT Core registry sync): what lets it skip
 * the calls whose effect is in place, and what `GET /v2/devices/{id}` shows as `iot`.
 */
export interface IotSyncState {
  /** The device version the sync last brought AWS IoT to (a failed sync keeps the previous one). */
  device_version: number;
  thing_name: string;
  thing_arn: string;
  /** Digest of the thing attributes and type last applied. */
  attributes_digest: string;
  /** The identity certificate AWS IoT holds for the device, its status there, and whether it is attached. */
  certificate_id?: string;
  certificate_arn?: string;
  certificate_status?: IotCertificateStatus;
  attached?: boolean;
  /** What the device shadow's `desired.identity_actions` last received ('' or absent: nothing, or cleared). */
  shadow_actions?: string;
  /** The named shadow `shadow_actions` went to (its DMS's `shadow_name` or the deployment's); absent: classic. */
  shadow_name?: string;
  /**
   * What the DMS's AWS IoT settings made of the device (docs/iot-provisioning.md): the digest of the
   * settings applied, the thing groups its thing was added to, the IoT policies attached to `certificate_id`.
   */
  dms_iot_digest?: string;
  thing_groups?: string[];
  policies?: string[];
  /** ISO time of the last sync attempt that reached AWS IoT. */
  last_sync: string;
  /** The last failure, cleared by the next success. */
  last_error?: string;
}

export interface IotSyncStateStore {
  get(deviceId: string): Promise<IotSyncState | undefined>;
  /** Stores the state unless a newer device version is stored already (a late sync never rolls it back). */
  put(deviceId: string, state: IotSyncState): Promise<void>;
}

/** A revocation asked of the CA (Lamassu's UpdateCertificateStatusBody plus the serial it is for). */
export interface CaRevocationRequest {
  /** The serial as the CA names it (Lamassu: lower-case hex pairs joined by `-`). */
  serialNumber: string;
  /** Lamassu's revocation reason name, e.g. `CessationOfOperation`. */
  revocationReason: string;
  /** The device the certificate belonged to, for the logs. */
  deviceId?: string;
}

/**
 * What the CA made of a revocation: revoked now, already revoked (or otherwise past a status it can
 * leave), or a serial it does not know. Anything else is a {@link CaRequestError}.
 */
export type CaRevocationOutcome = 'revoked' | 'already-revoked' | 'unknown-serial';

/** The CA that issued the devices' certificates, asked to revoke one so its CRL and OCSP stop answering "good". */
export interface CaRevocation {
  revoke(request: CaRevocationRequest): Promise<CaRevocationOutcome>;
}

/** A revocation the CA did not take: `retryable` for throttling, server errors, timeouts and network failures. */
export class CaRequestError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CaRequestError';
  }
}

// Server-side imports (docs/api.md, Server-side import): the uploaded file and the import's own items.

/** Where an import's file is kept: an S3 bucket of the stack as deployed, a folder (or memory) locally. */
export interface ImportFiles {
  /** A URL the client PUTs the file to (an S3 presigned URL as deployed), valid `expiresSeconds`. */
  uploadUrl(key: string, expiresSeconds: number): Promise<string>;
  put(key: string, body: Uint8Array): Promise<void>;
  /** The file's bytes from `start` (inclusive) to `end` (exclusive; undefined: the end); undefined when absent. */
  read(key: string, start?: number, end?: number): Promise<AsyncIterable<Uint8Array> | undefined>;
}

export type ImportStatus = 'AWAITING_UPLOAD' | 'RUNNING' | 'DONE' | 'FAILED';

/** An import as stored: its settings, where it stands, and the counts of the pieces done so far. */
export interface ImportRecord {
  id: string;
  format: 'csv' | 'ndjson';
  /** Patch devices that exist with other content (the command line's `--update`). */
  update: boolean;
  /** Where the file is (ImportFiles key). */
  file: string;
  status: ImportStatus;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  /** Pieces the plan cut the file into; undefined until the plan is done. */
  pieces?: number;
  /** The CSV header (the pieces hold rows only). */
  header?: string[];
  pieces_done: number;
  /** Rows per outcome over the pieces done (created, unchanged, updated, conflict, invalid, failed). */
  counts: Record<string, number>;
  /** Why the import failed as a whole (FAILED): the file is missing or its header unusable. */
  error?: { code: string; err: string };
}

/** One row that did not go in, as the command line's `--report` writes it. */
export interface ImportProblem {
  line: number;
  id?: string;
  outcome: string;
  status?: number;
  code?: string;
  err?: string;
  details?: { field: string; problem: string }[];
  differences?: string[];
}

export interface ImportStore {
  /** Stores a new import (ids are random; a second create of one id is refused by its condition). */
  create(record: ImportRecord): Promise<void>;
  get(id: string): Promise<ImportRecord | undefined>;
  /** AWAITING_UPLOAD → RUNNING at `at`; false when the import was not awaiting its upload. */
  start(id: string, at: string): Promise<boolean>;
  /** The plan is done: the piece count and the CSV header. */
  planned(id: string, pieces: number, header?: string[]): Promise<void>;
  /** The import failed as a whole (RUNNING → FAILED). */
  fail(id: string, error: { code: string; err: string }, at: string): Promise<void>;
  /** Whether piece `piece` is recorded as done (a redelivered piece task then does nothing). */
  pieceDone(id: string, piece: number): Promise<boolean>;
  /**
   * Records piece `piece` done with its counts and problem rows, once: the problems are written first
   * (keyed by line, so writing them twice is harmless), then the piece's marker and the import's
   * counts in one transaction conditioned on the marker being absent. False when it was recorded before.
   */
  completePiece(id: string, piece: number, counts: Record<string, number>, problems: ImportProblem[]): Promise<boolean>;
  /** Marks the import DONE at `at` if every planned piece is done and it is not yet finished. */
  finish(id: string, at: string): Promise<void>;
  /** Problem rows in line order, a page at a time (`after`: the last line of the previous page). */
  problems(id: string, limit: number, after?: number): Promise<{ list: ImportProblem[]; last?: number }>;
}

/** The fleet posture policy as stored; version 0 is the defaults (nothing stored yet). */
export interface StoredPosturePolicy {
  policy: PosturePolicy;
  version: number;
}

/** The re-evaluation of every device under one posture policy version, walked per segment (list shard). */
export interface PostureJob {
  policyVersion: number;
  /** Per segment: the position reached, 'done', or absent (not started). */
  progress: Record<string, string>;
}

/** One open finding of one device slot, as `GET /v2/findings/{check}` lists it. */
export interface FindingRow {
  device_id: string;
  slot: string;
  since: string;
  detail: string;
}

/**
 * The posture policy, its re-evaluation job and the findings' indexes and counters (docs/data-model.md,
 * Posture findings).
 */
export interface PostureRepository {
  get(): Promise<StoredPosturePolicy | undefined>;
  /**
   * Writes the policy, conditioned on the stored version (`beforeVersion` 0: none stored), and its
   * re-evaluation job (replacing an unfinished older one); VersionConflictError when it moved.
   */
  save(beforeVersion: number, after: StoredPosturePolicy): Promise<void>;
  /**
   * The pending re-evaluation job, if any. With none and the findings never ready, the first one is
   * started (the assessment of devices bound before posture existed).
   */
  job(): Promise<PostureJob | undefined>;
  /** Records one segment's position; the last segment done deletes the job and marks the findings ready. */
  recordJobProgress(job: PostureJob, segment: string, position: string): Promise<'running' | 'done' | 'replaced'>;
  /** Whether every device has been assessed at least once (the first job finished). */
  ready(): Promise<boolean>;
  /** The segments a job walks in parallel. */
  readonly segments: readonly string[];
  /** One page of a segment's devices, by id, read strongly consistent. */
  devicesPage(segment: string, pageSize: number, after?: string): Promise<{ devices: Device[]; next?: string }>;
  /**
   * Records that a device's findings are current under `policyVersion` without changing them (no
   * version bump); VersionConflictError when the device moved since it was read.
   */
  stamp(device: Device, policyVersion: number): Promise<void>;
  /**
   * Every in-service slot holding a public key (SHA-256, hex), from the holder index (eventually
   * consistent: the shared-findings reconciler checks it shows the change it judges).
   */
  keyHolders(publicKey: string): Promise<KeyHolder[]>;
  /** Open findings per check, from the counters. */
  openCounts(): Promise<{ counts: Record<PostureCheck, number>; consistent_as_of: string }>;
  /** The open findings of one check, bookmark-paged (one row per device slot). */
  findings(check: PostureCheck, pageSize: number, bookmark?: string): Promise<Page<FindingRow>>;
  /**
   * The devices with one check open, by id, bookmark-paged (a job's finding selection): read from the
   * check's own index, and only those whose stored findings still hold the check.
   */
  findingDevices(check: PostureCheck, pageSize: number, bookmark?: string): Promise<Page<Device>>;
}

/** What the presence function needs of a device to store its connectivity as a list entry. */
export interface PresenceTarget {
  id: string;
  /** The device's creation sort key (`<creation_timestamp>#<id>`). */
  created: string;
  status: string;
}

/** A device's connectivity from AWS IoT's presence events (docs/events.md, Presence: connectivity). */
export interface ConnectivityStore {
  get(deviceId: string): Promise<StoredConnectivity | undefined>;
  /** The device as the connectivity entry needs it; undefined when there is no such device. */
  target(deviceId: string): Promise<PresenceTarget | undefined>;
  /** Writes `next` unless another write came since `previous` was read (then false). */
  put(target: PresenceTarget, next: StoredConnectivity, previous: StoredConnectivity | undefined): Promise<boolean>;
  /** Devices disconnected and last seen before `cutoff` (ISO) whose status was one of `statuses` at that write. */
  countNotSeenSince(cutoff: string, statuses: readonly string[]): Promise<number>;
}
