/**
 * The dashboard construct (setting `dashboard`): a private bucket only CloudFront reads through origin
 * access control, a distribution with CSP/HSTS response headers, the API behind `/v2/*` on the same
 * origin, the sign-in settings the page reads, and cdk-nag with reasoned acknowledgements.
 */
import type { CfnResource } from 'aws-cdk-lib';
import { DeploymentConfigError, parseConfig } from '../../lib/config';
import { dashboardRuntimeConfig } from '../../lib/constructs/dashboard';
import { buildDashboard } from '../../web/build';
import { acknowledgements, nagFindings, refOf, resourcesOf, synthesize } from './helpers';

const JWT = { type: 'jwt', issuer: 'https://idp.example.com/realms/ops', audience: ['device-manager'] };
const SETTINGS = {
  auth: JWT,
  dashboard: { enabled: true, clientId: 'dashboard', connectSources: ['https://auth.example.com'] },
};

beforeAll(async () => {
  // Source.asset needs the built folder (npm test builds it first; a targeted jest run may not have).
  await buildDashboard();
});

describe('dashboard setting', () => {
  it('is off by default: no bucket, no distribution', () => {
    const { template } = synthesize({ auth: JWT });
    expect(resourcesOf(template, 'AWS::CloudFront::Distribution')).toHaveLength(0);
    expect(resourcesOf(template, 'AWS::S3::Bucket').filter(([id]) => !id.startsWith('ImportsFiles'))).toHaveLength(0);
  });

  it('needs JWT (or no) auth, and an OIDC client id with JWT', () => {
    expect(() => parseConfig({ dashboard: { enabled: true } })).toThrow(DeploymentConfigError);
    expect(() => parseConfig({ dashboard: { enabled: true } })).toThrow(
      /deviceManager.dashboard.enabled needs auth.type 'jwt'/,
    );
    expect(() => parseConfig({ auth: JWT, dashboard: { enabled: true } })).toThrow(
      /deviceManager.dashboard.clientId is required with JWT auth/,
    );
    expect(() =>
      parseConfig({
        auth: JWT,
        dashboard: { enabled: true, clientId: 'c', connectSources: ['http://plain.example.com'] },
      }),
    ).toThrow(/deviceManager.dashboard.connectSources must be up to 10 https origins/);
    expect(() => parseConfig({ auth: JWT, dashboard: { enabled: true, clientId: 'c', colour: 'blue' } })).toThrow(
      /deviceManager.dashboard.colour is not a known setting/,
    );
    expect(
      parseConfig({ auth: { type: 'none', iUnderstandThisIsInsecure: true }, dashboard: { enabled: true } }).dashboard
        .enabled,
    ).toBe(true);
  });

  it('tells the page to sign in at the API issuer with authorization code + PKCE', () => {
    expect(dashboardRuntimeConfig(parseConfig(SETTINGS))).toEqual({
      auth: 'oidc',
      authority: JWT.issuer,
      client_id: 'dashboard',
      scope: 'openid devices:read devices:write groups:write dms:write',
    });
    expect(
      dashboardRuntimeConfig(
        parseConfig({ auth: { type: 'none', iUnderstandThisIsInsecure: true }, dashboard: { enabled: true } }),
      ),
    ).toEqual({ auth: 'none' });
  });
});

describe('Dashboard construct', () => {
  const { stack, template } = synthesize(SETTINGS);
  const only = (type: string, idPrefix = '') => {
    const found = resourcesOf(template, type).filter(([id]) => id.startsWith(idPrefix));
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  // The stack's other bucket holds server-side import files (lib/constructs/imports.ts).
  const [bucketId, bucket] = only('AWS::S3::Bucket', 'DashboardAssets');
  const [distributionId, distribution] = only('AWS::CloudFront::Distribution');
  const config = distribution.Properties!.DistributionConfig;

  it('keeps the bucket private and encrypted', () => {
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(bucket.Properties!.WebsiteConfiguration).toBeUndefined();
  });

  it('lets only this distribution read the bucket (OAC, SourceArn condition), and denies plain HTTP', () => {
    const [, policy] = only('AWS::S3::BucketPolicy', 'DashboardAssets');
    expect(refOf(policy.Properties!.Bucket)).toBe(bucketId);
    const statements = policy.Properties!.PolicyDocument.Statement as Record<string, any>[];
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' });
    expect(JSON.stringify(allows[0]!.Condition.StringEquals['AWS:SourceArn'])).toContain(distributionId);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );

    const [oacId, oac] = only('AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties!.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const s3Origin = config.Origins.find((o: Record<string, any>) => o.S3OriginConfig);
    expect(refOf(s3Origin.OriginAccessControlId)).toBe(oacId);
    expect(s3Origin.S3OriginConfig.OriginAccessIdentity).toBe('');
    expect(resourcesOf(template, 'AWS::CloudFront::CloudFrontOriginAccessIdentity')).toHaveLength(0);
  });

  it('serves index.html over HTTPS with the security headers', () => {
    expect(config).toMatchObject({ Enabled: true, DefaultRootObject: 'index.html', HttpVersion: 'http2and3' });
    expect(config.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', Compress: true });
    const [headersId, headers] = only('AWS::CloudFront::ResponseHeadersPolicy');
    expect(refOf(config.DefaultCacheBehavior.ResponseHeadersPolicyId)).toBe(headersId);
    const security = headers.Properties!.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(security.StrictTransportSecurity).toEqual({
      AccessControlMaxAgeSec: 730 * 86400,
      IncludeSubdomains: true,
      Preload: true,
      Override: true,
    });
    const csp = security.ContentSecurityPolicy.ContentSecurityPolicy as string;
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "connect-src 'self' https://idp.example.com https://auth.example.com",
      ]),
    );
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(security).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
  });

  it('routes /v2/* to the HTTP API on the same origin, uncached, with every viewer header but Host', () => {
    expect(config.CacheBehaviors).toHaveLength(1);
    const api = config.CacheBehaviors[0];
    expect(api).toMatchObject({
      PathPattern: '/v2/*',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader
    });
    const origin = config.Origins.find((o: Record<string, any>) => o.Id === api.TargetOriginId);
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    const apiId = stack.resolve((stack.api.httpApi.node.defaultChild as CfnResource).logicalId) as string;
    expect(origin.DomainName).toEqual({
      'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] }] }],
    });
  });

  it('deploys the built files and the sign-in settings, invalidating the distribution', () => {
    const [, deploy] = only('Custom::CDKBucketDeployment');
    expect(refOf(deploy.Properties!.DestinationBucketName)).toBe(bucketId);
    expect(refOf(deploy.Properties!.DistributionId)).toBe(distributionId);
    expect(deploy.Properties!.SourceObjectKeys).toHaveLength(2);
    expect(deploy.Properties!.Prune).toBe(true);
    expect(template.toJSON().Outputs.DashboardUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]],
    });
  });

  it('passes cdk-nag, acknowledging only the reasoned dashboard findings', () => {
    expect(nagFindings(stack)).toEqual([]);
    const acks = acknowledgements(stack);
    const dashboardRules = [...acks.keys()].filter((rule) =>
      /CFR|S1|IAM4|s3:|Resource::\*|cdk-hnb659fds|DashboardAssets/.test(rule),
    );
    expect(dashboardRules.sort()).toEqual(
      [
        'AwsSolutions-CFR1',
        'AwsSolutions-CFR2',
        'AwsSolutions-CFR3',
        'AwsSolutions-CFR4',
        'AwsSolutions-S1',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        ...['GetBucket*', 'GetObject*', 'List*', 'Abort*', 'DeleteObject*'].map(
          (a) => `AwsSolutions-IAM5[Action::s3:${a}]`,
        ),
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
        'AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
    for (const reasons of acks.values()) for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
  });
});
