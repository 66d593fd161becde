/**
 * Deployment as `cdk deploy` does it (a concrete account and region) and the operations settings:
 * alarm actions, dashboard name, thing type retention, the CA secret's KMS key, the archive pattern,
 * CORS, the scope prefix, and the per-route table grants.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/config';
import { IOT_CERTIFICATE_BLAST_RADIUS } from '../../lib/constructs/iot-sync';
import { LAMASSU_EVENT_SOURCE } from '../../functions/lamassu/events';
import { HTTP_ROUTES } from '../../functions/http/routes';
import { EVERYTHING_ON, KEY, SECRET } from './profiles';
import { acknowledgements, asArray, nagFindings, resourcesOf, statementsOfRole, synthesize } from './helpers';

const ENV = { account: '123456789012', region: 'eu-west-1' };

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops';
// Five syntheses serve every test below (each takes seconds).
const everythingOn = synthesize(EVERYTHING_ON, { env: ENV });
const defaults = synthesize(undefined, { env: ENV });
/** IAM auth (the default) with the IoT sync, an existing alarm topic, destroyable resources. */
const iamVariant = synthesize(
  { iotSync: { enabled: true }, alarms: { topicArn: TOPIC }, removalPolicy: 'destroy' },
  { env: ENV },
);
const agnostic = synthesize(EVERYTHING_ON);
const agnosticDefaults = synthesize();

describe('a concrete account and region (as cdk deploy synthesizes)', () => {
  it.each([
    ['defaults', defaults],
    ['everything on', everythingOn],
    ['IAM auth with IoT sync', iamVariant],
  ])('%s: no unacknowledged cdk-nag finding', (_name, { stack }) => {
    expect(stack.region).toBe('eu-west-1');
    expect(nagFindings(stack)).toEqual([]);
  });

  it('acknowledges the IoT and asset bucket resources by their concrete ARNs, each with a reason', () => {
    const acks = acknowledgements(everythingOn.stack);
    for (const id of [
      'AwsSolutions-IAM5[Resource::arn:aws:iot:eu-west-1:123456789012:thing/*]',
      'AwsSolutions-IAM5[Resource::arn:aws:iot:eu-west-1:123456789012:cert/*]',
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*]',
    ]) {
      expect([...(acks.get(id) ?? [])].join('').length).toBeGreaterThan(40);
    }
    // Env-agnostic, the same findings carry CloudFormation's pseudo parameters.
    expect(
      acknowledgements(agnostic.stack).has(
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:cert/*]',
      ),
    ).toBe(true);
  });
});

describe('alarms', () => {
  const alarmsOf = (template: typeof everythingOn.template) => resourcesOf(template, 'AWS::CloudWatch::Alarm');

  it('every alarm of the stack notifies the e-mail topic', () => {
    const topics = resourcesOf(everythingOn.template, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    const topicId = topics[0]![0];
    everythingOn.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
    const alarms = alarmsOf(everythingOn.template);
    expect(alarms.length).toBeGreaterThan(10);
    for (const [, alarm] of alarms) expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('with topicArn, every alarm notifies that topic and no topic is created', () => {
    const { template } = iamVariant;
    expect(resourcesOf(template, 'AWS::SNS::Topic')).toEqual([]);
    expect(alarmsOf(template).length).toBeGreaterThan(10);
    for (const [, alarm] of alarmsOf(template)) expect(alarm.Properties?.AlarmActions).toEqual([TOPIC]);
  });

  it('without the setting, alarms have no action', () => {
    for (const [, alarm] of alarmsOf(agnosticDefaults.template)) expect(alarm.Properties?.AlarmActions).toBeUndefined();
  });

  it('refuses an invalid setting with a clear message', () => {
    expect(() => parseConfig({ alarms: {} })).toThrow(
      'deviceManager.alarms must have exactly one of topicArn and email',
    );
    expect(() =>
      parseConfig({ alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops', email: 'a@b.co' } }),
    ).toThrow(/exactly one of topicArn and email/);
    expect(() => parseConfig({ alarms: { topicArn: 'ops' } })).toThrow(
      /^deviceManager\.alarms\.topicArn must be an SNS topic ARN/,
    );
    expect(() => parseConfig({ alarms: { email: 'not an address' } })).toThrow(
      /^deviceManager\.alarms\.email must be an e-mail address/,
    );
  });
});

describe('operations', () => {
  it('names the CloudWatch dashboard after stage and region, and outputs the name', () => {
    everythingOn.template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'DeviceManager-prod-eu-west-1',
    });
    const dashboardId = resourcesOf(everythingOn.template, 'AWS::CloudWatch::Dashboard')[0]![0];
    everythingOn.template.hasOutput('DashboardName', { Value: { Ref: dashboardId } });
    // Env-agnostic: the deployment region, resolved by CloudFormation.
    agnosticDefaults.template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: { 'Fn::Join': ['', ['DeviceManager-dev-', { Ref: 'AWS::Region' }]] },
    });
  });

  it('retains the IoT thing type, even with removalPolicy destroy', () => {
    for (const { template } of [everythingOn, iamVariant]) {
      const thingType = resourcesOf(template, 'AWS::IoT::ThingType')[0]![1];
      expect([thingType.DeletionPolicy, thingType.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });

  it('states the blast radius of UpdateCertificate on cert/* in its acknowledgement', () => {
    const reasons = [
      ...(acknowledgements(everythingOn.stack).get(
        'AwsSolutions-IAM5[Resource::arn:aws:iot:eu-west-1:123456789012:cert/*]',
      ) ?? []),
    ];
    // The JITP provisioning role acknowledges cert/* too, with its own reason.
    expect(reasons).toContain(IOT_CERTIFICATE_BLAST_RADIUS);
    expect(IOT_CERTIFICATE_BLAST_RADIUS).toMatch(/ANY certificate of the account and region/);
    expect(IOT_CERTIFICATE_BLAST_RADIUS).toMatch(/Narrow it by/);
  });

  it('gives the CA caller kms:Decrypt on the configured key only, through Secrets Manager only', () => {
    const roleId = everythingOn.stack.getLogicalId(
      everythingOn.stack.caRevocation!.function.role.node.defaultChild as never,
    );
    const kms = statementsOfRole(everythingOn.template, roleId).filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('kms:')),
    );
    expect(kms).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      },
    ]);
    // No other role may use a KMS key.
    for (const [id] of resourcesOf(everythingOn.template, 'AWS::IAM::Role').filter(([id]) => id !== roleId)) {
      expect(
        statementsOfRole(everythingOn.template, id)
          .flatMap((s) => asArray(s.Action))
          .filter((a) => a.startsWith('kms:')),
      ).toEqual([]);
    }
    expect(() =>
      parseConfig({ lamassuEvents: true, caApiUrl: 'https://ca.example.com', caApiAuthHeaderSecretKmsKeyArn: KEY }),
    ).toThrow('deviceManager.caApiAuthHeaderSecretKmsKeyArn needs caApiAuthHeaderSecretArn');
    expect(() =>
      parseConfig({
        lamassuEvents: true,
        caApiUrl: 'https://ca.example.com',
        caApiAuthHeaderSecretArn: SECRET,
        caApiAuthHeaderSecretKmsKeyArn: 'alias/mine',
      }),
    ).toThrow(/must be a KMS key ARN/);
  });

  it('archives the Lamassu-typed events and revocation requests too when lamassuEvents is on', () => {
    everythingOn.template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['device-manager', LAMASSU_EVENT_SOURCE] },
    });
    agnosticDefaults.template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['device-manager'] },
    });
  });
});

describe('cors', () => {
  it('configures the HTTP API preflight for the allowed origins', () => {
    everythingOn.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://lamassu.example.com'],
        AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        AllowHeaders: ['authorization', 'content-type', 'if-match'],
        ExposeHeaders: ['etag'],
        MaxAge: 3600,
      },
    });
    agnosticDefaults.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
  });

  it('refuses origins with a path, plain http to a public host, or an empty list', () => {
    expect(() => parseConfig({ cors: { allowedOrigins: [] } })).toThrow(
      /^deviceManager\.cors\.allowedOrigins must be an array of 1 to 20 distinct origins/,
    );
    expect(() => parseConfig({ cors: { allowedOrigins: ['https://a.example.com/app'] } })).toThrow(
      /^deviceManager\.cors\.allowedOrigins\[0\] must be an origin/,
    );
    expect(() => parseConfig({ cors: { allowedOrigins: ['http://a.example.com'] } })).toThrow(
      /^deviceManager\.cors\.allowedOrigins\[0\]/,
    );
    expect(parseConfig({ cors: { allowedOrigins: ['http://localhost:3000'] } }).cors).toEqual({
      allowedOrigins: ['http://localhost:3000'],
    });
  });
});

describe('auth.scopePrefix', () => {
  it('requires the prefixed scope on every route, and the dashboard asks for the prefixed scopes', () => {
    const routes = resourcesOf(everythingOn.template, 'AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(HTTP_ROUTES.length);
    for (const [, route] of routes) {
      const key = route.Properties!.RouteKey as string;
      const expected = HTTP_ROUTES.find((r) => `${r.method} ${r.path}` === key)!;
      // The one route without a scope (Lamassu's health check) has no authorizer and no scopes.
      expect(route.Properties!.AuthorizationScopes).toEqual(
        expected.scope === null ? undefined : [`device-manager/${expected.scope}`],
      );
    }
    expect(everythingOn.config.dashboard.scope).toBe(
      'openid device-manager/devices:read device-manager/devices:write ' +
        'device-manager/groups:write device-manager/dms:write',
    );
    expect(() =>
      parseConfig({
        auth: { type: 'jwt', issuer: 'https://idp.example.com', audience: ['a'], scopePrefix: 'two words/' },
      }),
    ).toThrow(/^deviceManager\.auth\.scopePrefix must be 1-200 printable characters/);
  });
});

describe('API function grants', () => {
  const { template, stack } = everythingOn;
  const tableActions = (handler: string) => {
    const role = stack.api.functions.get(handler)!.role;
    return statementsOfRole(template, stack.getLogicalId(role.node.defaultChild as never))
      .flatMap((s) => asArray(s.Action))
      .filter((a) => a.startsWith('dynamodb:'));
  };

  it('gives each write route exactly the table actions of its route entry', () => {
    for (const route of HTTP_ROUTES.filter((r) => r.table === 'write')) {
      expect(route.actions).toBeDefined();
      expect(new Set(tableActions(route.handler))).toEqual(new Set(route.actions));
    }
    // Registration reads nothing, deletes nothing and checks no policy.
    expect(tableActions('create-device').sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(tableActions('patch-device')).not.toContain('dynamodb:ConditionCheckItem');
    expect(tableActions('put-dms').sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('lets API functions read the bookmark secret with GetSecretValue only (no DescribeSecret)', () => {
    const actions = resourcesOf(template, 'AWS::IAM::Role')
      .flatMap(([id]) => statementsOfRole(template, id))
      .flatMap((s) => asArray(s.Action));
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(actions).not.toContain('secretsmanager:DescribeSecret');
  });
});
