import { App } from 'aws-cdk-lib';
import { configFromContext, DEFAULT_CONFIG, DeploymentConfigError, parseConfig } from '../../lib/config';
import { INT_SETTINGS, loadConfig, unknownSerialRetrySecondsOf } from '../../functions/runtime/config';

describe('parseConfig', () => {
  it('fills every default when nothing is configured', () => {
    expect(parseConfig(undefined)).toEqual(DEFAULT_CONFIG);
    expect(parseConfig({})).toEqual({
      stageName: 'dev',
      removalPolicy: 'retain',
      listShards: 4,
      statsShards: 4,
      dueShards: 4,
      groupMaxDepth: 10,
      eventRetentionDays: 400,
      jobRetentionDays: 90,
      certificateIntakeConcurrency: 5,
      indexedMetadataKeys: [],
      logRetentionDays: 30,
      sweepRateMinutes: 5,
      sweepWorkers: 32,
      jobWorkers: 4,
      renewalDefaults: { preventiveDelta: '60d', criticalDelta: '14d' },
      eventSource: 'device-manager',
      certificateSources: ['lamassu.ca'],
      unknownSerialRetrySeconds: 600,
      tracing: false,
      sourceMaps: false,
      iotSync: { enabled: false, metadataKeys: [] },
      auth: { type: 'iam' },
      throttle: { rateLimit: 1000, burstLimit: 2000 },
      dashboard: {
        enabled: false,
        scope: 'openid devices:read devices:write groups:write dms:write',
        connectSources: [],
      },
    });
  });

  it('keeps every valid setting', () => {
    const raw = {
      stageName: 'prod-eu',
      removalPolicy: 'destroy',
      listShards: 16,
      statsShards: 100,
      dueShards: 64,
      groupMaxDepth: 50,
      eventRetentionDays: 3650,
      jobRetentionDays: 30,
      certificateIntakeConcurrency: 20,
      indexedMetadataKeys: ['firmware_version', 'site.building'],
      logRetentionDays: 365,
      sweepRateMinutes: 1,
      sweepWorkers: 100,
      jobWorkers: 2,
      renewalDefaults: { preventiveDelta: '90d', criticalDelta: '36h' },
      eventSource: 'acme.device-manager',
      certificateSources: ['acme.pki'],
      unknownSerialRetrySeconds: 900,
      tracing: true,
      sourceMaps: true,
      iotSync: { enabled: true, metadataKeys: ['firmware_version', 'location'] },
      auth: {
        type: 'jwt',
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
        audience: ['client-1'],
      },
      throttle: { rateLimit: 500, burstLimit: 1000 },
      dashboard: {
        enabled: true,
        clientId: 'dashboard-client',
        scope: 'openid api/devices:read',
        connectSources: ['https://auth.example.com'],
      },
    };
    expect(parseConfig(raw)).toEqual(raw);
  });

  it('fills the missing half of a partly given nested setting', () => {
    const config = parseConfig({
      renewalDefaults: { criticalDelta: '7d' },
      throttle: { burstLimit: 50 },
      iotSync: { enabled: true },
    });
    expect(config.renewalDefaults).toEqual({ preventiveDelta: '60d', criticalDelta: '7d' });
    expect(config.throttle).toEqual({ rateLimit: 1000, burstLimit: 50 });
    expect(config.iotSync).toEqual({ enabled: true, metadataKeys: [] });
  });

  it('accepts the development-only unauthenticated mode only with its explicit flag', () => {
    expect(parseConfig({ auth: { type: 'none', iUnderstandThisIsInsecure: true } }).auth).toEqual({
      type: 'none',
      iUnderstandThisIsInsecure: true,
    });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['listShards 0', { listShards: 0 }, /^deviceManager\.listShards must be an integer from 1 to 64/],
    ['listShards 65', { listShards: 65 }, /^deviceManager\.listShards must be an integer from 1 to 64/],
    ['listShards 2.5', { listShards: 2.5 }, /^deviceManager\.listShards must be an integer/],
    ['listShards as a string', { listShards: '4' }, /^deviceManager\.listShards must be an integer/],
    ['statsShards 101', { statsShards: 101 }, /^deviceManager\.statsShards must be an integer from 1 to 100/],
    ['dueShards 0', { dueShards: 0 }, /^deviceManager\.dueShards must be an integer from 1 to 64 \(got 0\)/],
    ['dueShards 65', { dueShards: 65 }, /^deviceManager\.dueShards must be an integer from 1 to 64 \(got 65\)/],
    ['dueShards 1.5', { dueShards: 1.5 }, /^deviceManager\.dueShards must be an integer/],
    ['dueShards as a string', { dueShards: '8' }, /^deviceManager\.dueShards must be an integer/],
    [
      'groupMaxDepth 0',
      { groupMaxDepth: 0 },
      /^deviceManager\.groupMaxDepth must be an integer from 1 to 50 \(got 0\)/,
    ],
    [
      'groupMaxDepth 51',
      { groupMaxDepth: 51 },
      /^deviceManager\.groupMaxDepth must be an integer from 1 to 50 \(got 51\)/,
    ],
    ['groupMaxDepth null', { groupMaxDepth: null }, /^deviceManager\.groupMaxDepth must be an integer/],
    [
      'an unknown removalPolicy',
      { removalPolicy: 'delete' },
      /^deviceManager\.removalPolicy must be 'retain' or 'destroy'/,
    ],
    [
      'a retention CloudWatch does not offer',
      { logRetentionDays: 31 },
      /^deviceManager\.logRetentionDays must be one of 1, 3, 5/,
    ],
    [
      'sweepRateMinutes 0',
      { sweepRateMinutes: 0 },
      /^deviceManager\.sweepRateMinutes must be an integer from 1 to 1440/,
    ],
    [
      'sweepWorkers 1 (SQS maximum concurrency starts at 2)',
      { sweepWorkers: 1 },
      /^deviceManager\.sweepWorkers must be an integer from 2 to 1000/,
    ],
    ['jobWorkers 1001', { jobWorkers: 1001 }, /^deviceManager\.jobWorkers must be an integer from 2 to 1000/],
    [
      'a stage name CloudFormation rejects',
      { stageName: 'dev_1' },
      /^deviceManager\.stageName must be a letter followed by/,
    ],
    ['an empty stage name', { stageName: '' }, /^deviceManager\.stageName/],
    ['an event source in the aws. namespace', { eventSource: 'aws.iot' }, /^deviceManager\.eventSource must be/],
    [
      'a malformed delta',
      { renewalDefaults: { preventiveDelta: '60 days' } },
      /^deviceManager\.renewalDefaults\.preventiveDelta must be a duration/,
    ],
    [
      'a critical delta not shorter than the preventive one',
      { renewalDefaults: { preventiveDelta: '14d', criticalDelta: '336h' } },
      /^deviceManager\.renewalDefaults\.criticalDelta must be shorter than preventiveDelta/,
    ],
    [
      'JWT auth without an issuer',
      { auth: { type: 'jwt', audience: ['a'] } },
      /^deviceManager\.auth\.issuer is required for JWT auth/,
    ],
    [
      'JWT auth with an http issuer',
      { auth: { type: 'jwt', issuer: 'http://idp.example.com', audience: ['a'] } },
      /^deviceManager\.auth\.issuer .*https:\/\//,
    ],
    [
      'JWT auth without an audience',
      { auth: { type: 'jwt', issuer: 'https://idp.example.com' } },
      /^deviceManager\.auth\.audience is required for JWT auth/,
    ],
    [
      'JWT auth with an empty audience',
      { auth: { type: 'jwt', issuer: 'https://idp.example.com', audience: [] } },
      /^deviceManager\.auth\.audience/,
    ],
    [
      'auth none without the flag',
      { auth: { type: 'none' } },
      /^deviceManager\.auth\.iUnderstandThisIsInsecure must be true/,
    ],
    [
      'auth none with a truthy non-true flag',
      { auth: { type: 'none', iUnderstandThisIsInsecure: 'yes' } },
      /^deviceManager\.auth\.iUnderstandThisIsInsecure must be true/,
    ],
    [
      'an unknown auth type',
      { auth: { type: 'cognito' } },
      /^deviceManager\.auth\.type must be 'iam', 'jwt' or 'none'/,
    ],
    ['auth without a type', { auth: {} }, /^deviceManager\.auth\.type/],
    [
      'an extra key on IAM auth',
      { auth: { type: 'iam', issuer: 'https://x' } },
      /^deviceManager\.auth\.issuer is not a known setting/,
    ],
    ['a misspelt setting', { listShard: 4 }, /^deviceManager\.listShard is not a known setting/],
    [
      'duplicate IoT metadata keys',
      { iotSync: { metadataKeys: ['a', 'a'] } },
      /^deviceManager\.iotSync\.metadataKeys must be an array/,
    ],
    [
      'an IoT metadata key AWS IoT rejects',
      { iotSync: { metadataKeys: ['ok', 'not ok'] } },
      /^deviceManager\.iotSync\.metadataKeys\[1\] must match/,
    ],
    [
      'a non-boolean iotSync.enabled',
      { iotSync: { enabled: 'yes' } },
      /^deviceManager\.iotSync\.enabled must be true or false/,
    ],
    [
      'throttle rate 0',
      { throttle: { rateLimit: 0 } },
      /^deviceManager\.throttle\.rateLimit must be an integer from 1 to 10000/,
    ],
    ['settings that are not an object', ['dev'], /^deviceManager must be an object/],
    [
      'more than 10 indexed metadata keys',
      { indexedMetadataKeys: Array.from({ length: 11 }, (_, i) => `k${i}`) },
      /^deviceManager\.indexedMetadataKeys at most 10 keys/,
    ],
    [
      'an indexed metadata key that is not a dotted path',
      { indexedMetadataKeys: ['a..b'] },
      /^deviceManager\.indexedMetadataKeys 'a\.\.b' is not a dotted path/,
    ],
    [
      'indexed metadata keys that are not strings',
      { indexedMetadataKeys: 'fw' },
      /^deviceManager\.indexedMetadataKeys must be an array of strings/,
    ],
  ];

  it.each(invalid)('rejects %s, naming the setting', (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(DeploymentConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });
});

describe('one rule for the stack and the functions', () => {
  const runtimeValue = (name: keyof typeof INT_SETTINGS, env: Record<string, string>) =>
    name === 'unknownSerialRetrySeconds'
      ? unknownSerialRetrySecondsOf(env)
      : loadConfig({ TABLE_NAME: 't', ...env })[name];

  it.each(Object.entries(INT_SETTINGS))(
    '%s: the deployment accepts exactly the range the functions load',
    (name, { variable, min, max }) => {
      const setting = name as keyof typeof INT_SETTINGS;
      for (const value of [min, max]) {
        expect(parseConfig({ [setting]: value })[setting]).toBe(value);
        expect(runtimeValue(setting, { [variable]: String(value) })).toBe(value);
      }
      for (const value of [min - 1, max + 1]) {
        expect(() => parseConfig({ [setting]: value })).toThrow(
          `deviceManager.${setting} must be an integer from ${min} to ${max} (got ${value})`,
        );
        expect(() => runtimeValue(setting, { [variable]: String(value) })).toThrow(variable);
      }
    },
  );
});

describe('configFromContext', () => {
  it('reads the deviceManager object and lets deviceManager:<setting> keys override it', () => {
    const app = new App({
      context: {
        deviceManager: { stageName: 'qa', listShards: 2, removalPolicy: 'destroy' },
        // The CLI hands -c values over as strings.
        'deviceManager:listShards': '8',
        'deviceManager:stageName': 'prod',
        'deviceManager:auth': '{"type":"jwt","issuer":"https://idp.example.com","audience":["api"]}',
      },
    });
    expect(configFromContext(app.node)).toMatchObject({
      stageName: 'prod',
      listShards: 8,
      removalPolicy: 'destroy',
      auth: { type: 'jwt', issuer: 'https://idp.example.com', audience: ['api'] },
    });
  });

  it('accepts the deviceManager object as a JSON string (-c deviceManager=...)', () => {
    const app = new App({ context: { deviceManager: '{"stageName":"ci","statsShards":16}' } });
    expect(configFromContext(app.node)).toMatchObject({ stageName: 'ci', statsShards: 16 });
  });

  it('names the context key whose JSON does not parse', () => {
    const app = new App({ context: { 'deviceManager:auth': '{type: jwt}' } });
    expect(() => configFromContext(app.node)).toThrow(/^deviceManager:auth must be JSON/);
  });

  it('reads the integer overrides of the due shards and the group depth', () => {
    const app = new App({ context: { 'deviceManager:dueShards': '16', 'deviceManager:groupMaxDepth': '5' } });
    expect(configFromContext(app.node)).toMatchObject({ dueShards: 16, groupMaxDepth: 5 });
  });

  it.each([
    ['deviceManager:dueShards', '0', 'deviceManager.dueShards must be an integer from 1 to 64 (got 0)'],
    ['deviceManager:groupMaxDepth', 'deep', 'deviceManager.groupMaxDepth must be an integer from 1 to 50 (got "deep")'],
  ])('names the setting when the override %s=%s is invalid', (key, value, message) => {
    const app = new App({ context: { [key]: value } });
    expect(() => configFromContext(app.node)).toThrow(message);
  });

  it('names the setting when an override is invalid', () => {
    const app = new App({ context: { 'deviceManager:listShards': '0' } });
    expect(() => configFromContext(app.node)).toThrow(
      'deviceManager.listShards must be an integer from 1 to 64 (got 0)',
    );
  });
});
