import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { acknowledgements, freshSynthesize, nagFindings, synthesize } from './helpers';

const configs: [string, unknown][] = [
  ['the default (IAM) deployment', undefined],
  ['a JWT deployment', { auth: { type: 'jwt', issuer: 'https://idp.example.com', audience: ['api'] } }],
  ['a destroyable deployment', { removalPolicy: 'destroy' }],
  // With tracing (off by default), whose X-Ray statement allows only '*'.
  [
    "a traced deployment calling Lamassu's CA",
    { lamassuEvents: true, caApiUrl: 'https://ca.example.com', tracing: true },
  ],
  ['an unauthenticated development deployment', { auth: { type: 'none', iUnderstandThisIsInsecure: true } }],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(configs)('finds no unacknowledged error or warning in %s', (name, raw) => {
    // Synth prints warnings through console.error: only the deliberate no-auth warning may appear.
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { stack } = synthesize(raw);
      expect(nagFindings(stack)).toEqual([]);
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
      const warnings = annotations.findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
      const noAuth = name.includes('unauthenticated');
      expect(warnings).toEqual(noAuth ? [expect.stringContaining("auth.type is 'none'")] : []);
      for (const [message] of printed.mock.calls)
        expect(noAuth && String(message).includes("auth.type is 'none'")).toBe(true);
    } finally {
      printed.mockRestore();
    }
  });

  it('acknowledges only the expected findings, each with a reason', () => {
    const { stack } = synthesize();
    const acks = acknowledgements(stack);
    const tableId = stack.resolve((stack.table.table.node.defaultChild as CfnTable).logicalId) as string;
    const importBucketId = stack.resolve((stack.imports.bucket.node.defaultChild as CfnTable).logicalId) as string;
    expect([...acks.keys()].sort()).toEqual(
      [
        `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        'AwsSolutions-L1',
        // Events (lib/constructs/events.ts): the publisher's stream read, the dead-letter queues.
        `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/stream/*]`,
        'AwsSolutions-SQS3',
        // The bookmarks' HMAC key (lib/constructs/api.ts): no rotation function.
        'AwsSolutions-SMG4',
        // Lamassu's health check (lib/constructs/api.ts): the one route without authorizer, as Lamassu serves it.
        'AwsSolutions-APIG4',
        // The import bucket (lib/constructs/imports.ts): its transient files, each under imports/<id>.
        'AwsSolutions-S1',
        `AwsSolutions-IAM5[Resource::<${importBucketId}.Arn>/imports/*]`,
        // CA registration (lib/constructs/api.ts): GetRegistrationCode and RegisterCACertificate take no resource.
        'AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
    for (const reasons of acks.values()) for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
  });

  it('still catches a real problem (the check is live)', () => {
    const { stack } = freshSynthesize();
    const role = new Role(stack, 'Careless', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    const rules = nagFindings(stack).map((f) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['AwsSolutions-IAM5[Action::dynamodb:*]', 'AwsSolutions-IAM5[Resource::*]']),
    );
  });
});
