/**
 * The settings profiles the deploy simulation synthesizes: the defaults, everything on, and IAM auth.
 * Each is the `deviceManager` context object `cdk deploy -c deviceManager='...'` would be given.
 */
import { parseConfig } from '../../../lib/config';

/** The concrete environment `cdk deploy` resolves from a profile's credentials. */
export const SIM_ACCOUNT = '123456789012';
export const SIM_REGION = 'eu-west-1';

export type ProfileName = 'defaults' | 'everything-on' | 'iam';

export interface Profile {
  name: ProfileName;
  /** The settings, given to the app as the `deviceManager` context key. */
  settings: Record<string, unknown>;
}

export const ISSUER = `https://cognito-idp.${SIM_REGION}.amazonaws.com/${SIM_REGION}_Simulated`;
export const CLIENT_ID = 'sim-dashboard-client';
/** Cognito issues resource-server scopes as `<identifier>/<name>`. */
export const SCOPE_PREFIX = 'device-manager/';
export const CA_AUTH_SECRET_ARN =
  `arn:aws:secretsmanager:${SIM_REGION}:` + `${SIM_ACCOUNT}:secret:device-manager/ca-auth-AbCdEf`;

/** True when this tree's settings know `auth.scopePrefix` (Cognito-style scopes). */
function scopePrefixSupported(): boolean {
  try {
    parseConfig({ auth: { type: 'jwt', issuer: ISSUER, audience: [CLIENT_ID], scopePrefix: SCOPE_PREFIX } });
    return true;
  } catch {
    return false;
  }
}

/**
 * The three profiles. `caApiUrl` points at the simulation's fake CA on loopback (the settings allow
 * plain http to a loopback host), so its port is chosen before synthesis.
 */
export function profiles(caPort: number): Profile[] {
  const jwt = {
    type: 'jwt',
    issuer: ISSUER,
    audience: [CLIENT_ID],
    ...(scopePrefixSupported() ? { scopePrefix: SCOPE_PREFIX } : {}),
  };
  return [
    { name: 'defaults', settings: {} },
    {
      name: 'everything-on',
      settings: {
        stageName: 'simall',
        auth: jwt,
        dashboard: { enabled: true, clientId: CLIENT_ID },
        iotSync: { enabled: true, metadataKeys: ['model'] },
        lamassuEvents: true,
        caApiUrl: `http://127.0.0.1:${caPort}`,
        caApiAuthHeaderSecretArn: CA_AUTH_SECRET_ARN,
        indexedMetadataKeys: ['model', 'site.region'],
        // Off by default: here the functions load the Tracer and record through it.
        tracing: true,
      },
    },
    { name: 'iam', settings: { stageName: 'simiam', auth: { type: 'iam' } } },
  ];
}
