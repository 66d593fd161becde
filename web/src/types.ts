/** Wire shapes of the API (docs/api.md, Resources and Fleet insights), from the domain types where they exist. */
import type { DeviceStatus, Slot } from '../../functions/domain/device';
import type { Criterion } from '../../functions/domain/filters';
import type { InventoryDimension } from '../../functions/domain/inventory';
import type { JobAction, JobDeviceOutcome, JobStatus, JobView } from '../../functions/domain/jobs';

export type { Criterion, DeviceStatus, InventoryDimension, JobAction, JobStatus, Slot };

export interface Device {
  id: string;
  tags: string[];
  status: DeviceStatus;
  icon?: string;
  icon_color?: string;
  creation_timestamp: string;
  metadata: Record<string, unknown>;
  dms_owner: string;
  identity?: Slot;
  slots: Record<string, Slot>;
  events: Record<string, { type: string; description: string }>;
  version: number;
  /** Open posture findings (docs/api.md, Fleet posture): only `GET /v2/devices/{id}` carries them. */
  findings?: Finding[];
}

export interface ListPage<T> {
  next: string;
  list: T[];
}

export interface DeviceEvent {
  timestamp: string;
  type: string;
  description: string;
  slot?: string;
}

export interface SlotVersion {
  slot: string;
  version: number;
  type: string;
  status: 'ACTIVE' | 'SUPERSEDED' | 'REVOKED';
  created_at: string;
  expiration_date?: string;
  certificate?: string;
  serial_number?: string;
  issuer?: string;
  subject?: string;
  not_before?: string;
  not_after?: string;
  sha256_fingerprint?: string;
  public_key_sha256?: string;
  secret?: string;
  revocation_reason?: string;
  revoked_at?: string;
}

export interface DeviceStats {
  total: number;
  status_distribution: Record<DeviceStatus, number>;
}

export interface DmsPolicy {
  id: string;
  name: string;
  settings: { preventive_delta: string; critical_delta: string };
  version: number;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  parent_id?: string | null;
  criteria: Criterion[];
  inherited_criteria: Criterion[];
  created_at: string;
  updated_at: string;
  version: number;
}

export interface ExpirationForecast {
  generated_at: string;
  bucket: 'day' | 'week' | 'month';
  already_expired: number;
  buckets: { start: string; end: string; identity: number; slots: number }[];
}

export interface MetadataDistribution {
  key: string;
  values: { value: string; total: number; status_distribution: Record<DeviceStatus, number> }[];
  other: number;
}

/** `GET /v2/stats/certificates?by=…`: certificates in service counted by one dimension. */
export interface CertificateInventory {
  by: InventoryDimension;
  slot: string;
  counts: Record<string, number>;
  total: number;
  consistent_as_of: string;
}

export interface Finding {
  check: string;
  slot: string;
  since: string;
  detail: string;
}

/** `GET /v2/findings`: open findings per check. */
export interface FindingCounts {
  checks: { check: string; open: number }[];
  consistent_as_of: string;
}

/** A row of `GET /v2/findings/{check}`. */
export interface FindingRow extends Omit<Finding, 'check'> {
  device_id: string;
}

/** A remediation job as the API shows it; `finding` when it selects a check's devices instead of filters. */
export type Job = Omit<JobView, 'filter'> & { filter?: string[]; finding?: string };

export type JobOutcome = Omit<JobDeviceOutcome, 'step'>;
