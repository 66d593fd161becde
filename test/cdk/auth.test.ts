import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { HTTP_ROUTES } from '../../functions/http/routes';
import { nagFindings, resourcesOf, synthesize } from './helpers';

const routeKeys = HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort();

describe('JWT auth', () => {
  const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example';
  const { stack, template } = synthesize({ auth: { type: 'jwt', issuer, audience: ['client-a', 'client-b'] } });

  it('creates one JWT authorizer with the configured issuer and audience', () => {
    const authorizers = resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]![1].Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: issuer, Audience: ['client-a', 'client-b'] },
    });
  });

  it("puts every route behind it, requiring the route's scope", () => {
    const authorizerId = resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer')[0]![0];
    const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(routeKeys);
    for (const route of HTTP_ROUTES.filter((r) => r.scope !== null)) {
      const cfn = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
      expect(cfn).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
        AuthorizationScopes: [route.scope],
      });
    }
  });

  it("leaves only Lamassu's health check open, with a reasoned cdk-nag acknowledgement on that route alone", () => {
    expect(HTTP_ROUTES.filter((r) => r.scope === null).map((r) => `${r.method} ${r.path} ${r.table}`)).toEqual([
      'GET /api/devmanager/health none',
    ]);
    const open = resourcesOf(template, 'AWS::ApiGatewayV2::Route').filter(
      ([, r]) => r.Properties!.AuthorizationType !== 'JWT',
    );
    expect(
      open.map(([, r]) => [r.Properties!.RouteKey, r.Properties!.AuthorizationType, r.Properties!.AuthorizationScopes]),
    ).toEqual([['GET /api/devmanager/health', 'NONE', undefined]]);
    // The acknowledgement sits on that route's construct only (not on the API).
    const acknowledged = stack.node
      .findAll()
      .filter((c) =>
        c.node.metadata.some(
          (m) =>
            m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY &&
            Object.keys(m.data as object).some((id) => id.endsWith('AwsSolutions-APIG4')),
        ),
      );
    expect(acknowledged.map((c) => c.node.path)).toEqual([expect.stringMatching(/GET--api--devmanager--health$/)]);
    expect(nagFindings(stack).filter((f) => f.rule.includes('APIG4'))).toEqual([]);
  });
});

describe('IAM auth (the default)', () => {
  it('sets AWS_IAM on every route but the health check and creates no authorizer resource or scopes', () => {
    const { template } = synthesize();
    expect(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer')).toHaveLength(0);
    for (const [, route] of resourcesOf(template, 'AWS::ApiGatewayV2::Route')) {
      expect(route.Properties!.AuthorizationType).toBe(
        route.Properties!.RouteKey === 'GET /api/devmanager/health' ? 'NONE' : 'AWS_IAM',
      );
      expect(route.Properties!.AuthorizationScopes).toBeUndefined();
    }
  });
});

describe('no auth (development only)', () => {
  it('leaves routes open only with the explicit flag, and warns at synth', () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { stack, template } = synthesize({ auth: { type: 'none', iUnderstandThisIsInsecure: true } });
      for (const [, route] of resourcesOf(template, 'AWS::ApiGatewayV2::Route'))
        expect(route.Properties!.AuthorizationType).toBe('NONE');
      Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp("auth.type is 'none'"));
      expect(printed).toHaveBeenCalledWith(expect.stringContaining('can be called by anyone on the internet'));
    } finally {
      printed.mockRestore();
    }
  });

  it('cannot be reached without the flag', () => {
    expect(() => synthesize({ auth: { type: 'none' } })).toThrow(
      /deviceManager\.auth\.iUnderstandThisIsInsecure must be true/,
    );
  });
});
