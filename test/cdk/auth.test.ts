import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { HTTP_ROUTES } from '../../functions/handlers/http/routes';
import { resourcesOf, synthesize } from './helpers';

const routeKeys = HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort();

describe('JWT auth', () => {
  const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example';
  const { template } = synthesize({ auth: { type: 'jwt', issuer, audience: ['client-a', 'client-b'] } });

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
    for (const route of HTTP_ROUTES) {
      const cfn = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
      expect(cfn).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId }, AuthorizationScopes: [route.scope] });
    }
  });
});

describe('IAM auth (the default)', () => {
  it('sets AWS_IAM on every route and creates no authorizer resource or scopes', () => {
    const { template } = synthesize();
    expect(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer')).toHaveLength(0);
    for (const [, route] of resourcesOf(template, 'AWS::ApiGatewayV2::Route')) {
      expect(route.Properties!.AuthorizationType).toBe('AWS_IAM');
      expect(route.Properties!.AuthorizationScopes).toBeUndefined();
    }
  });
});

describe('no auth (development only)', () => {
  it('leaves routes open only with the explicit flag, and warns at synth', () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { stack, template } = synthesize({ auth: { type: 'none', iUnderstandThisIsInsecure: true } });
      for (const [, route] of resourcesOf(template, 'AWS::ApiGatewayV2::Route')) expect(route.Properties!.AuthorizationType).toBe('NONE');
      Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp("auth.type is 'none'"));
      expect(printed).toHaveBeenCalledWith(expect.stringContaining('can be called by anyone on the internet'));
    } finally {
      printed.mockRestore();
    }
  });

  it('cannot be reached without the flag', () => {
    expect(() => synthesize({ auth: { type: 'none' } })).toThrow(/deviceManager\.auth\.iUnderstandThisIsInsecure must be true/);
  });
});
