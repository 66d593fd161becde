/**
 * The HTTP API: one route and one function per entry of HTTP_ROUTES (functions/http/routes.ts),
 * every route behind an authorizer (except Lamassu's data-free health check), a throttled default stage with JSON
 * access logs.
 */
import path from 'node:path';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  CorsHttpMethod,
  DomainName,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HTTP_ROUTES, type HttpRoute, handlerFile, requiredScope } from '../../functions/http/routes';
import {
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from '../../functions/http/cors';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type AuthConfig, type DeploymentConfig, toRemovalPolicy } from '../config';
import { ServiceFunction } from './service-function';
import { acknowledgeGuard, GUARD_REASONS } from '../validation';

export interface DeviceApiProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
  /** @default HTTP_ROUTES */
  readonly routes?: readonly HttpRoute[];
}

/** One JSON line per request; every value is a string so that a missing one (`-`) stays valid JSON. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  // The caller: the IAM principal with IAM auth, the token subject with JWT auth.
  userArn: '$context.identity.userArn',
  subject: '$context.authorizer.claims.sub',
};

/** `get-device` → `GetDevice`: construct ids, hence logical ids, follow the handler file. */
function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

export class DeviceApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;
  /** The custom domain (setting dashboard.apiDomain), with the execute-api endpoint disabled. */
  readonly domainName?: DomainName;
  /** The HMAC key of the bookmarks (Secrets Manager). */
  readonly bookmarkSecret: Secret;
  /** The function of each route, by handler file name. */
  readonly functions: ReadonlyMap<string, ServiceFunction>;

  constructor(scope: Construct, id: string, props: DeviceApiProps) {
    super(scope, id);
    const { config, table } = props;
    const routes = props.routes ?? HTTP_ROUTES;

    // The stage is added below, with throttling and access logs, instead of the bare default one.
    // With a custom domain behind CloudFront, the default endpoint would be a way around CloudFront.
    const apiDomain = config.dashboard.enabled ? config.dashboard.apiDomain : undefined;
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: `Device Manager API (${config.stageName})`,
      createDefaultStage: false,
      // Setting `cors`: API Gateway answers preflights itself (no route, no authorizer) and adds the
      // Access-Control-* headers for the allowed origins; the local server does the same (local/cors.ts).
      ...(config.cors
        ? {
            corsPreflight: {
              allowOrigins: [...config.cors.allowedOrigins],
              allowMethods: CORS_ALLOWED_METHODS.map((m) => CorsHttpMethod[m]),
              allowHeaders: [...CORS_ALLOWED_HEADERS],
              exposeHeaders: [...CORS_EXPOSED_HEADERS],
              maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
            },
          }
        : {}),
      ...(apiDomain ? { disableExecuteApiEndpoint: true } : {}),
    });
    if (apiDomain) {
      this.domainName = new DomainName(this, 'Domain', {
        domainName: apiDomain.name,
        certificate: Certificate.fromCertificateArn(this, 'DomainCertificate', apiDomain.certificateArn),
      });
    }

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays as RetentionDays,
      removalPolicy: toRemovalPolicy(config.removalPolicy),
    });
    acknowledgeGuard(this.accessLogGroup, {
      cloudwatch_log_group_retention_period_check: GUARD_REASONS.cloudwatch_log_group_retention_period_check,
      cloudwatch_log_group_encrypted_check:
        'The access logs hold request metadata (route, status, latency, ' +
        'caller id), no bodies or tokens; CloudWatch Logs encrypts ' +
        'them at rest with service keys.',
    });
    // The routes' integrations add one Lambda permission per function: principal apigateway.amazonaws.com, conditioned
    // on this API's ARN.
    acknowledgeGuard(this.httpApi, {
      lambda_function_public_access_prohibited_check:
        'Each permission lets only API Gateway (apigateway.amazonaws.com) ' +
        'invoke a route function, with SourceArn set to this API and ' +
        'route; no account or public principal can invoke it.',
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      autoDeploy: true,
      throttle: config.throttle,
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    // The bookmarks' HMAC key: generated by CloudFormation, never derived from a public name, read
    // once per cold start by the functions (functions/runtime/bookmark-secret.ts).
    this.bookmarkSecret = new Secret(this, 'BookmarkSecret', {
      description: `Device Manager (${config.stageName}): HMAC key of the list bookmarks`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: toRemovalPolicy(config.removalPolicy),
    });
    Validations.of(this.bookmarkSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An HMAC key for opaque list bookmarks, not a credential to ' +
        'another system: rotating it only invalidates the bookmarks ' +
        'in flight (clients get 400 and restart the listing). Rotate ' +
        'it by replacing the secret value when needed.',
    });

    const authorizer = this.authorizer(config.auth);
    const functions = new Map<string, ServiceFunction>();
    for (const route of routes) {
      if (functions.has(route.handler))
        throw new Error(`route handler '${route.handler}' is used by two routes; each route owns one function`);
      const name = pascalCase(route.handler);
      const fn = new ServiceFunction(this, name, {
        entry: path.posix.relative('handlers', handlerFile(route.handler)),
        description: `${route.method} ${route.path}`,
        config,
        table,
        tableAccess: route.actions ? { actions: route.actions } : route.table,
        timeout: Duration.seconds(10),
        environment: route.table === 'none' ? undefined : { BOOKMARK_SECRET_ARN: this.bookmarkSecret.secretArn },
      });
      // GetSecretValue only: Powertools' secrets provider calls nothing else (no DescribeSecret).
      if (route.table !== 'none')
        Grant.addToPrincipal({
          grantee: fn.role,
          actions: ['secretsmanager:GetSecretValue'],
          resourceArns: [this.bookmarkSecret.secretArn],
        });
      if (route.iot) {
        // A statement of its own (a Sid is never merged), so the `*` stays beside its reason.
        fn.role.addToPrincipalPolicy(new PolicyStatement({ sid: 'IotCa', actions: [...route.iot], resources: ['*'] }));
        Validations.of(fn.role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            `${route.iot.join(' and ')} takes no resource in IAM (a CA is registered before it has an ARN; ` +
            'the registration code is one per account), so the resource is *; these are its only IoT calls.',
        });
      }
      functions.set(route.handler, fn);
      const added = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${name}Integration`, fn.function, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        }),
        authorizer: route.scope === null ? new HttpNoneAuthorizer() : authorizer,
        authorizationScopes:
          config.auth.type === 'jwt' && route.scope !== null
            ? [requiredScope(route.scope, config.auth.scopePrefix)]
            : undefined,
      });
      if (route.scope === null) {
        const reason =
          `${route.method} ${route.path} is Lamassu's health check, ` +
          `which Lamassu serves without auth and its dashboard reads: ` +
          `it returns only {health, version, build, build_time}, and ` +
          `its function has no table access, no secret and no environment. ` +
          `Every other route has the authorizer.`;
        for (const r of added) {
          Validations.of(r).acknowledge({ id: 'AwsSolutions-APIG4', reason });
          acknowledgeGuard(r, { api_gw_v2_authorization_type_configured_check: reason });
        }
      }
    }
    this.functions = functions;

    if (config.auth.type === 'none') {
      Annotations.of(this).addWarningV2(
        'device-manager:unauthenticatedApi',
        `auth.type is 'none': every route of this API can be called ` +
          `by anyone on the internet. Development stacks only.`,
      );
      Validations.of(this.httpApi).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'The deployment explicitly set deviceManager.auth = {type: ' +
          "'none', iUnderstandThisIsInsecure: true} for a development " +
          'stack; a synth warning says so.',
      });
      acknowledgeGuard(this.httpApi, {
        api_gw_v2_authorization_type_configured_check:
          'The deployment explicitly set deviceManager.auth = {type: ' +
          "'none', iUnderstandThisIsInsecure: true} for a development " +
          'stack; a synth warning says so.',
      });
    }
  }

  /** The stage URL (ends with `/`). */
  get url(): string {
    return this.stage.url;
  }

  private authorizer(auth: AuthConfig): IHttpRouteAuthorizer {
    switch (auth.type) {
      case 'iam':
        return new HttpIamAuthorizer();
      case 'jwt':
        return new HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, { jwtAudience: [...auth.audience] });
      case 'none':
        return new HttpNoneAuthorizer();
    }
  }
}
