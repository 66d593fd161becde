/** DMS renewal policies (docs/api.md, Resources): preventive and critical deltas before a certificate expires. */
import { ValidationError, type FieldProblem } from './errors';
import { parseDuration } from './duration';
import { DEFAULT_RENEWAL, type RenewalSettings, type RenewalWindows, windowsOf } from './status';
import type { DmsIotSettings } from './dms-iot';

export interface DmsPolicy {
  id: string;
  name: string;
  settings: RenewalSettings;
  /** AWS IoT settings of the DMS (docs/iot-provisioning.md); absent: none (the deployment's sync settings). */
  iot?: DmsIotSettings;
  /** 0 for the deployment defaults of a DMS that has no stored policy. */
  version: number;
}

/** Validates deltas: durations, critical < preventive. Returns problems naming each field. */
export function settingsProblems(settings: RenewalSettings, prefix = 'settings'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const p = parseDuration(settings.preventive_delta);
  const c = parseDuration(settings.critical_delta);
  if (p === undefined)
    problems.push({
      field: `${prefix}.preventive_delta`,
      problem: `'${settings.preventive_delta}' is not a duration like 90d, 36h or 30m`,
    });
  if (c === undefined)
    problems.push({
      field: `${prefix}.critical_delta`,
      problem: `'${settings.critical_delta}' is not a duration like 14d, 36h or 30m`,
    });
  if (p !== undefined && c !== undefined && c >= p)
    problems.push({ field: `${prefix}.critical_delta`, problem: 'must be shorter than preventive_delta' });
  return problems;
}

export function assertSettings(settings: RenewalSettings, prefix = 'settings'): void {
  const problems = settingsProblems(settings, prefix);
  if (problems.length > 0) throw new ValidationError('invalid renewal settings', problems);
}

/** The policy a DMS without a stored one follows. */
export function defaultPolicy(dms: string, defaults: RenewalSettings = DEFAULT_RENEWAL): DmsPolicy {
  return { id: dms, name: dms, settings: { ...defaults }, version: 0 };
}

export const policyWindows = (policy: DmsPolicy): RenewalWindows => windowsOf(policy.settings);
