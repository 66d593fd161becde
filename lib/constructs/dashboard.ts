/**
 * The web dashboard: the built files (web/dist) in a private bucket that only CloudFront reads (origin
 * access control), one distribution serving them with security headers (CSP, HSTS, ...), and the HTTP
 * API on the same origin under `/v2/*` (no CORS, one address). The page learns how to sign in from
 * `dashboard-config.json`, written next to it at deployment.
 */
import { Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { DASHBOARD_DIST } from '../../web/paths';
import type { DashboardRuntimeConfig } from '../../web/runtime-config';
import { dashboardCsp } from '../../web/security-headers';
import { type DeploymentConfig, toRemovalPolicy } from '../config';

export interface DashboardProps {
  readonly config: DeploymentConfig;
  readonly api: IHttpApi;
  /** The built dashboard (`npm run build:web`). @default web/dist */
  readonly assetPath?: string;
}

/** What the page reads at `/dashboard-config.json` (local/server.ts serves the same shape). */
export function dashboardRuntimeConfig(config: DeploymentConfig): DashboardRuntimeConfig {
  if (config.auth.type !== 'jwt') return { auth: 'none' };
  return { auth: 'oidc', authority: config.auth.issuer, client_id: config.dashboard.clientId ?? '', scope: config.dashboard.scope };
}

export class Dashboard extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly headers: ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { config } = props;

    this.bucket = new Bucket(this, 'Assets', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: toRemovalPolicy(config.removalPolicy),
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds only the public build of the dashboard, replaced whole at each deployment; CloudFront is its only reader, so request logs would repeat what CloudFront sees.',
    });

    // The issuer serves OIDC discovery and (usually) the token endpoint the page calls at sign-in.
    const issuerOrigin = config.auth.type === 'jwt' ? new URL(config.auth.issuer).origin : undefined;
    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Device Manager dashboard: CSP, HSTS and friends',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: dashboardCsp([...(issuerOrigin ? [issuerOrigin] : []), ...config.dashboard.connectSources]), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    // `https://<id>.execute-api.<region>.amazonaws.com` → the host name CloudFront connects to.
    const apiDomain = Fn.select(2, Fn.split('/', props.api.apiEndpoint));
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Device Manager dashboard (${config.stageName})`,
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      additionalBehaviors: {
        // The API: never cached; every viewer header but Host (API Gateway routes on its own host
        // name) reaches it, Authorization and If-Match included.
        '/v2/*': {
          origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.headers,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'Operators sign in from wherever they work; access is controlled by the OIDC sign-in and the API authorizer, not by geography.' },
      { id: 'AwsSolutions-CFR2', reason: 'The distribution serves static files and forwards /v2 to the API, which authenticates every route and is throttled per stage; a WAF web ACL can be attached per deployment.' },
      { id: 'AwsSolutions-CFR3', reason: 'API requests are logged by the API stage access logs; the static files carry no data worth a second request log.' },
      { id: 'AwsSolutions-CFR4', reason: 'The distribution uses the default *.cloudfront.net certificate, whose minimum TLS version CloudFront fixes; a custom domain would set TLSv1.2_2021.' },
    );

    const deployment = new BucketDeployment(this, 'Deploy', {
      sources: [Source.asset(props.assetPath ?? DASHBOARD_DIST), Source.jsonData('dashboard-config.json', dashboardRuntimeConfig(config))],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });
    // The deployment's own function (CDK's BucketDeployment handler, one per stack): each finding
    // acknowledged by its exact id, so a new permission would still be reported.
    // cdk-nag writes pseudo parameters as `<AWS::Region>` without an environment, as values with one (cdk deploy).
    const stack = Stack.of(this);
    const written = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    const bucketId = Stack.of(this).resolve((this.bucket.node.defaultChild as CfnBucket).logicalId) as string;
    const copy = 'CDK BucketDeployment copies the built dashboard from the CDK asset bucket into the dashboard bucket (replacing and pruning objects)';
    Validations.of(deployment.handlerRole).acknowledge(
      { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'CDK BucketDeployment: its Lambda handler writes its logs through the AWS managed basic execution policy.' },
      ...['GetBucket*', 'GetObject*', 'List*', 'Abort*', 'DeleteObject*'].map((action) => ({ id: `AwsSolutions-IAM5[Action::s3:${action}]`, reason: `${copy}: CDK grants read/write as action groups (s3:${action}).` })),
      { id: `AwsSolutions-IAM5[Resource::arn:${written(stack.partition, 'Partition')}:s3:::cdk-hnb659fds-assets-${written(stack.account, 'AccountId')}-${written(stack.region, 'Region')}/*]`, reason: `${copy}: it reads the asset objects of the CDK bootstrap bucket.` },
      { id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, reason: `${copy}: it writes every object of the dashboard bucket, and only that bucket.` },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CDK BucketDeployment invalidates the distribution after copying: cloudfront:CreateInvalidation and GetInvalidation take no resource narrower than *.' },
    );
    Validations.of(deployment.handlerRole.node.scope!).acknowledge({
      id: 'AwsSolutions-L1',
      reason: "CDK BucketDeployment's handler runtime is chosen by the CDK version (a Python runtime it tests with); it is upgraded with aws-cdk-lib, not per stack.",
    });
  }

  /** `https://<id>.cloudfront.net` */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
