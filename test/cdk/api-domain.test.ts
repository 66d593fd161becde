/**
 * Setting `dashboard.apiDomain`: the API on a custom domain, its execute-api endpoint disabled, and
 * CloudFront's `/v2/*` origin on that domain (a disabled execute-api endpoint answers 403 to
 * CloudFront too, so the origin cannot stay on it).
 */
import type { CfnResource } from 'aws-cdk-lib';
import { DeploymentConfigError, parseConfig } from '../../lib/config';
import { buildDashboard } from '../../web/build';
import { nagFindings, refOf, resourcesOf, synthesize } from './helpers';

const JWT = { type: 'jwt', issuer: 'https://idp.example.com/realms/ops', audience: ['device-manager'] };
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab';
const DASHBOARD = { enabled: true, clientId: 'dashboard' };

beforeAll(async () => {
  await buildDashboard();
});

const apiOf = (template: ReturnType<typeof synthesize>['template']) =>
  resourcesOf(template, 'AWS::ApiGatewayV2::Api')[0]![1].Properties!;
const apiOrigin = (template: ReturnType<typeof synthesize>['template']) => {
  const config = resourcesOf(template, 'AWS::CloudFront::Distribution')[0]![1].Properties!.DistributionConfig;
  const behavior = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/v2/*');
  return config.Origins.find((o: { Id: string }) => o.Id === behavior.TargetOriginId);
};

describe('dashboard.apiDomain', () => {
  it(
    'disables the execute-api endpoint, maps the stage to the ' + 'custom domain and makes it the CloudFront origin',
    () => {
      const { stack, template } = synthesize({
        auth: JWT,
        dashboard: { ...DASHBOARD, apiDomain: { name: 'api.devices.example.com', certificateArn: CERT } },
      });
      expect(apiOf(template).DisableExecuteApiEndpoint).toBe(true);
      const domains = resourcesOf(template, 'AWS::ApiGatewayV2::DomainName');
      expect(domains).toHaveLength(1);
      const [domainId, domain] = domains[0]!;
      expect(domain.Properties).toMatchObject({
        DomainName: 'api.devices.example.com',
        DomainNameConfigurations: [{ CertificateArn: CERT, EndpointType: 'REGIONAL' }],
      });
      const mappings = resourcesOf(template, 'AWS::ApiGatewayV2::ApiMapping');
      expect(mappings).toHaveLength(1);
      const mapping = mappings[0]![1].Properties!;
      const apiId = stack.resolve((stack.api.httpApi.node.defaultChild as CfnResource).logicalId) as string;
      expect(refOf(mapping.ApiId)).toBe(apiId);
      expect(refOf(mapping.DomainName)).toBe(domainId);
      expect(stack.resolve(apiOrigin(template).DomainName)).toEqual(stack.resolve(stack.api.domainName!.name));
      const outputs = template.toJSON().Outputs;
      expect(outputs.ApiDomainTarget.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
      expect(outputs.ApiDomainTarget.Description).toContain('api.devices.example.com');
      expect(nagFindings(stack)).toEqual([]);
    },
  );

  it('leaves the execute-api endpoint on (the CloudFront origin) without it', () => {
    const { template } = synthesize({ auth: JWT, dashboard: DASHBOARD });
    expect(apiOf(template).DisableExecuteApiEndpoint).toBeUndefined();
    expect(resourcesOf(template, 'AWS::ApiGatewayV2::DomainName')).toHaveLength(0);
    expect(apiOrigin(template).DomainName).toMatchObject({ 'Fn::Select': [2, expect.anything()] });
  });

  it('needs the dashboard, a DNS name and an ACM certificate ARN', () => {
    const domain = { name: 'api.devices.example.com', certificateArn: CERT };
    expect(() => parseConfig({ auth: JWT, dashboard: { enabled: false, apiDomain: domain } })).toThrow(
      /deviceManager.dashboard.apiDomain needs dashboard.enabled/,
    );
    expect(() =>
      parseConfig({
        auth: JWT,
        dashboard: { ...DASHBOARD, apiDomain: { ...domain, name: 'https://api.example.com' } },
      }),
    ).toThrow(/apiDomain.name must be a lower-case DNS name/);
    expect(() =>
      parseConfig({
        auth: JWT,
        dashboard: { ...DASHBOARD, apiDomain: { ...domain, certificateArn: 'arn:aws:iam::123456789012:role/x' } },
      }),
    ).toThrow(DeploymentConfigError);
    expect(() => parseConfig({ auth: JWT, dashboard: { ...DASHBOARD, apiDomain: { ...domain, zone: 'x' } } })).toThrow(
      /apiDomain.zone is not a known setting/,
    );
    expect(parseConfig({ auth: JWT, dashboard: { ...DASHBOARD, apiDomain: domain } }).dashboard.apiDomain).toEqual(
      domain,
    );
  });
});
