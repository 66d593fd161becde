/**
 * Resource schemas: what the API answers, for the OpenAPI document only (functions/openapi/openapi.ts).
 * Apart from the request schemas (schemas.ts), so that a route validating a body does not build
 * them at its cold start.
 */
import { DEVICE_EVENT_TYPES, DEVICE_STATUSES, SLOT_STATUSES, SLOT_TYPES } from './index';
import { groupCriterionSchema } from './group-schemas';
import { idSchema, metadataSchema, renewalSettingsSchema } from './schemas';
import { dmsIotSchema } from './dms-iot';
import {
  array,
  boolean,
  enum as enumOf,
  int,
  iso,
  meta,
  nullable,
  number,
  object,
  optional,
  record,
  string,
  type ZodMiniType,
} from './zod-mini';

/** An integer (the OpenAPI `integer`, safe range). */
const integer = () => number().check(int());

const inlineEventSchema = object({ type: enumOf(DEVICE_EVENT_TYPES), description: string() });

export const slotSchema = object({
  status: enumOf(SLOT_STATUSES),
  active_version: integer(),
  type: enumOf(SLOT_TYPES),
  secrets: record(string(), string()),
  expiration_date: optional(iso.datetime()),
  events: record(string(), inlineEventSchema),
  crypto: optional(
    object({
      key: string().check(meta({ description: '`RSA-<bits>`, `EC-P256`, `EC-P384`, `EC-P521`, `Ed25519`, `Ed448`.' })),
      signature: string().check(meta({ description: 'As OpenSSL prints it, e.g. `ecdsa-with-SHA256`.' })),
      signature_hash: optional(string()),
      issuer_dn: string(),
      authority_key_id: optional(string()),
      issuer: string().check(meta({ description: 'The issuer DN, then `keyid:<hex>` when the certificate names it.' })),
      validity_days: integer(),
      validity: string().check(
        meta({ description: 'Lifetime bucket: up-to-90d, up-to-397d, up-to-2y, ... over-10y.' }),
      ),
      not_after: iso.datetime(),
      sha256_fingerprint: string(),
      public_key_sha256: string(),
    }),
  ).check(
    meta({
      description:
        "The active certificate's crypto profile, computed at the bind (x509 bound with its PEM only); " +
        'the inventory counts it (GET /v2/stats/certificates).',
    }),
  ),
}).check(meta({ id: 'Slot' }));

export const deviceSchema = object({
  id: idSchema,
  tags: array(string()),
  status: enumOf(DEVICE_STATUSES),
  icon: string(),
  icon_color: string(),
  creation_timestamp: iso.datetime(),
  metadata: metadataSchema,
  dms_owner: string(),
  identity: optional(slotSchema),
  slots: record(string(), slotSchema),
  events: record(string(), inlineEventSchema).check(
    meta({ description: 'The 20 most recent events, keyed by timestamp.' }),
  ),
  version: integer().check(meta({ description: 'Optimistic-concurrency version; also sent as ETag.' })),
  iot: optional(
    object({
      thing_name: string(),
      thing_arn: string(),
      certificate_id: optional(string()),
      certificate_arn: optional(string()),
      certificate_status: optional(string()).check(
        meta({ description: 'In AWS IoT, as the sync last set or read it.' }),
      ),
      attached: optional(boolean()).check(meta({ description: "Whether the certificate is the thing's principal." })),
      shadow_actions: optional(string()).check(
        meta({ description: "What the shadow's desired.identity_actions last received (UPDATE_CERTIFICATE@<t>)." }),
      ),
      shadow_name: optional(string()).check(
        meta({ description: 'The named shadow shadow_actions went to; absent: the classic shadow.' }),
      ),
      thing_groups: optional(array(string())).check(
        meta({ description: "The thing groups the thing is in, from its DMS's AWS IoT settings." }),
      ),
      policies: optional(array(string())).check(
        meta({ description: "The IoT policies attached to the certificate, from its DMS's AWS IoT settings." }),
      ),
      synced_version: integer().check(meta({ description: 'The device version AWS IoT was last brought to.' })),
      last_sync: iso.datetime(),
      last_error: optional(string()).check(meta({ description: 'The last failure; cleared by the next success.' })),
    }),
  ).check(
    meta({
      description:
        'Read-only, GET /v2/devices/{id} only, with the AWS IoT sync (setting iotSync): what the sync last did ' +
        'for the device.',
    }),
  ),
  connectivity: optional(
    object({
      connected: boolean().check(meta({ description: 'Whether the newest AWS IoT presence event was a connect.' })),
      since: iso.datetime().check(meta({ description: 'When the current state began.' })),
      last_seen: iso.datetime().check(meta({ description: 'The time of the newest presence event.' })),
    }),
  ).check(
    meta({
      description:
        'Read-only, GET /v2/devices/{id} only, with AWS IoT presence events (setting iotSync.presence); ' +
        'stored beside the device (no version bump), at most once a minute.',
    }),
  ),
}).check(meta({ id: 'Device' }));

export const deviceEventSchema = object({
  timestamp: iso.datetime(),
  type: enumOf(DEVICE_EVENT_TYPES),
  description: string(),
  slot: optional(string()),
}).check(meta({ id: 'DeviceEvent' }));

export const errorSchema = object({
  err: string(),
  code: string(),
  details: optional(array(object({ field: string(), problem: string() }))),
}).check(meta({ id: 'Error' }));

export const statsSchema = object({
  total: integer(),
  status_distribution: object(Object.fromEntries(DEVICE_STATUSES.map((s) => [s, integer()]))),
  // Counters follow the table's stream: every change committed before this instant is counted.
  consistent_as_of: iso.datetime(),
}).check(meta({ id: 'DeviceStats' }));

export const listOf = <T extends ZodMiniType>(item: T, id: string) =>
  object({
    next: string().check(meta({ description: 'Bookmark of the next page; empty on the last page.' })),
    list: array(item),
  }).check(meta({ id }));

export const deviceGroupSchema = object({
  id: idSchema,
  name: string(),
  description: string(),
  parent_id: nullable(string()).check(meta({ description: 'null for a root group (never omitted).' })),
  criteria: array(groupCriterionSchema).check(meta({ description: "The group's own criteria." })),
  inherited_criteria: array(groupCriterionSchema).check(
    meta({
      description:
        "Every ancestor's criteria, root first (the root's, then its " +
        "child's, … then the parent's). Members match these AND criteria.",
    }),
  ),
  created_at: iso.datetime(),
  updated_at: iso.datetime(),
  version: integer().check(meta({ description: 'Optimistic-concurrency version; also sent as ETag.' })),
}).check(meta({ id: 'DeviceGroup' }));

export const policySchema = object({
  id: string(),
  name: string(),
  settings: renewalSettingsSchema,
  iot: optional(dmsIotSchema),
  version: integer().check(meta({ description: '0: the deployment defaults (no stored policy).' })),
}).check(meta({ id: 'DmsPolicy' }));

export const slotVersionSchema = object({
  slot: string(),
  version: integer(),
  type: enumOf(SLOT_TYPES),
  status: enumOf(['ACTIVE', 'SUPERSEDED', 'REVOKED']),
  created_at: iso.datetime(),
  expiration_date: optional(iso.datetime()),
  certificate: optional(string()).check(meta({ description: 'PEM (x509)' })),
  serial_number: optional(string()),
  issuer: optional(string()),
  subject: optional(string()),
  not_before: optional(iso.datetime()),
  not_after: optional(iso.datetime()),
  sha256_fingerprint: optional(string()),
  public_key_sha256: optional(string()),
  secret: optional(string()),
  revocation_reason: optional(string()),
  revoked_at: optional(iso.datetime()),
}).check(meta({ id: 'SlotVersion' }));
