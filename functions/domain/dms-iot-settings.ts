/**
 * Per-DMS AWS IoT settings as stored (docs/iot-provisioning.md): their types and defaults, apart from
 * their request schema (dms-iot.ts), so that reading a DMS does not evaluate zod at a cold start.
 */

/**
 * `none`: the sync never registers certificates of the DMS; `on-bind`: it registers the identity
 * certificate when it is bound (as the deployment's `certificateRegistration` says: with or without its
 * CA); `jitp`: the device registers itself at its first connection (just-in-time provisioning, through
 * the DMS's provisioning template named on its CA), so the sync does not register it.
 */
export const IOT_REGISTRATION_MODES = ['none', 'on-bind', 'jitp'] as const;
export type IotRegistrationMode = (typeof IOT_REGISTRATION_MODES)[number];

export interface DmsIotPolicy {
  name: string;
  /** The IoT policy document (JSON): the policy's default version is kept equal to it. */
  document: Record<string, unknown>;
}

export interface DmsProvisioningTemplate {
  name: string;
  /** The JITP template body (JSON, with `Resources`); its default version is kept equal to it. */
  body: Record<string, unknown>;
  description?: string;
}

export interface DmsIotSettings {
  policies: DmsIotPolicy[];
  thing_groups: string[];
  registration: IotRegistrationMode;
  provisioning_template?: DmsProvisioningTemplate;
  /**
   * The device shadow the sync writes identity actions to: a named shadow, null for the classic one,
   * absent for the deployment's `iotSync.shadowName` (itself the classic shadow by default).
   */
  shadow_name?: string | null;
}

/** The settings as stored: the defaults filled in (no policy, no group, register on bind). */
export function dmsIotSettingsOf(input: {
  policies?: DmsIotPolicy[];
  thing_groups?: string[];
  registration?: IotRegistrationMode;
  provisioning_template?: DmsProvisioningTemplate;
  shadow_name?: string | null;
}): DmsIotSettings {
  return {
    policies: input.policies ?? [],
    thing_groups: input.thing_groups ?? [],
    registration: input.registration ?? 'on-bind',
    ...(input.provisioning_template ? { provisioning_template: input.provisioning_template } : {}),
    ...(input.shadow_name !== undefined ? { shadow_name: input.shadow_name } : {}),
  };
}
