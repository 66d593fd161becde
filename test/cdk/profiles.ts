/** Settings profiles the CDK tests synthesize. */
export const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-auth-AbCdEf';
export const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * Every feature on: Cognito-style scopes, dashboard, IoT sync, Lamassu events and CA calls, indexed keys, alarms, CORS.
 */
export const EVERYTHING_ON = {
  stageName: 'prod',
  auth: {
    type: 'jwt',
    issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example',
    audience: ['client-id'],
    scopePrefix: 'device-manager/',
  },
  dashboard: { enabled: true, clientId: 'client-id' },
  iotSync: { enabled: true, metadataKeys: ['model'] },
  lamassuEvents: true,
  caApiUrl: 'https://ca.example.com',
  caApiAuthHeaderSecretArn: SECRET,
  caApiAuthHeaderSecretKmsKeyArn: KEY,
  indexedMetadataKeys: ['model'],
  alarms: { email: 'ops@example.com' },
  cors: { allowedOrigins: ['https://lamassu.example.com'] },
};
