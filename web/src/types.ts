/** Wire shapes of the API (docs/api.md, Resources and Fleet insights), from the domain types where they exist. */
import type { DeviceStatus, Slot } from '../../functions/domain/device';
import type { Criterion } from '../../functions/domain/filters';

export type { Criterion, DeviceStatus, Slot };

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
