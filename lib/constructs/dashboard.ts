/**
 * The web dashboard: the built files (web/dist) in a private bucket that only CloudFront reads (origin
 * access control), one distribution serving them with security headers (CSP, HSTS, ...), and the HTTP
 * API on the same origin under `/v2/*` (no CORS, one address). The page learns how to sign in from
 * `dashboard-config.json`, written next to it at deployment.
 */
import * as path from 'node:path';
import { DockerImage, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
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
import { buildDashboardSync } from '../../web/build';
import { DASHBOARD_SOURCE } from '../../web/paths';
import type { DashboardRuntimeConfig } from '../../web/runtime-config';
import { dashboardCsp } from '../../web/security-headers';
import { type DeploymentConfig, toRemovalPolicy } from '../config';
import { nagPseudo } from './nag-ids';
import { acknowledgeGuard } from '../validation';

export interface DashboardProps {
  readonly config: DeploymentConfig;
  readonly api: IHttpApi;
  /** The API's custom domain (dashboard.apiDomain): CloudFront's origin instead of execute-api. */
  readonly apiDomainName?: string;
  /** A built dashboard folder. @default built from web/src at synthesis (bundling of the asset) */
  readonly assetPath?: string;
}

/** What the page reads at `/dashboard-config.json` (local/server.ts serves the same shape). */
export function dashboardRuntimeConfig(config: DeploymentConfig): DashboardRuntimeConfig {
  if (config.auth.type !== 'jwt') return { auth: 'none' };
  return {
    auth: 'oidc',
    authority: config.auth.issuer,
    client_id: config.dashboard.clientId ?? '',
    scope: config.dashboard.scope,
  };
}

/**
 * The dashboard asset, built at synthesis from the sources (web/, without its own build output): synth
 * deploys what it builds, with no `npm run build:web` before it. The build is esbuild in this process
 * (local bundling), never Docker.
 */
export function dashboardAsset() {
  return Source.asset(path.dirname(DASHBOARD_SOURCE), {
    exclude: ['dist', 'node_modules', '*.tsbuildinfo'],
    bundling: {
      // Required by the type; never pulled, since the local build below either succeeds or throws.
      image: DockerImage.fromRegistry('local-build-only'),
      local: {
        tryBundle(outputDir: string): boolean {
          buildDashboardSync(outputDir);
          return true;
        },
      },
    },
  });
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
      reason:
        'The bucket holds only the public build of the dashboard, ' +
        'replaced whole at each deployment; CloudFront is its only ' +
        'reader, so request logs would repeat what CloudFront sees.',
    });

    const assetsOnly =
      'The bucket holds only the public build of the dashboard, ' +
      'replaced whole (and pruned) at each deployment from the CDK ' +
      'asset; CloudFront is its only reader';
    acknowledgeGuard(this.bucket, {
      s3_bucket_default_encryption_kms_check:
        `${assetsOnly}: public files need no customer-managed key; ` + `SSE-S3 encrypts them at rest.`,
      s3_bucket_versioning_enabled_check:
        `${assetsOnly}: the previous version is the previous deployment's ` + `asset, redeployed from source.`,
      s3_bucket_logging_enabled_check: `${assetsOnly}: request logs would repeat what CloudFront sees.`,
      s3_event_notifications_enabled_check: `${assetsOnly}: nothing reacts to its changes.`,
      s3_lifecycle_policy_check: `${assetsOnly}: no object outlives a deployment, so nothing ages out.`,
      s3_bucket_object_lock_enabled_check:
        `${assetsOnly}: every deployment replaces and deletes objects, ` + `which Object Lock would forbid.`,
    });

    // The issuer serves OIDC discovery and (usually) the token endpoint the page calls at sign-in.
    const issuerOrigin = config.auth.type === 'jwt' ? new URL(config.auth.issuer).origin : undefined;
    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Device Manager dashboard: CSP, HSTS and friends',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: dashboardCsp([
            ...(issuerOrigin ? [issuerOrigin] : []),
            ...config.dashboard.connectSources,
          ]),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    // `https://<id>.execute-api.<region>.amazonaws.com` → the host name CloudFront connects to; with
    // a custom domain the execute-api endpoint is disabled (403), so CloudFront connects to that name.
    const apiDomain = props.apiDomainName ?? Fn.select(2, Fn.split('/', props.api.apiEndpoint));
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
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Operators sign in from wherever they work; access is controlled ' +
          'by the OIDC sign-in and the API authorizer, not by geography.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves static files and forwards /v2 to ' +
          'the API, which authenticates every route and is throttled ' +
          'per stage; a WAF web ACL can be attached per deployment.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'API requests are logged by the API stage access logs; the ' +
          'static files carry no data worth a second request log.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, ' +
          'whose minimum TLS version CloudFront fixes; a custom domain ' +
          'would set TLSv1.2_2021.',
      },
    );

    acknowledgeGuard(this.distribution, {
      cloudfront_origin_failover_enabled_check:
        'One bucket and one API, both regional services of this stack: ' +
        'a failover origin would need a second region to fail over ' +
        'to, which a single-region stack does not have.',
      cloudfront_access_logs_enabled_check:
        'API requests are logged by the API stage access logs; the ' +
        'static files carry no data worth a second request log.',
      cloudfront_custom_ssl_certificate_check:
        'The distribution uses the default *.cloudfront.net certificate ' +
        '(no custom domain configured); a custom domain would bring ' +
        'its own ACM certificate.',
      cloudfront_sni_enabled_check:
        'The default *.cloudfront.net certificate is served by CloudFront ' +
        'for every client; SNI applies to a custom certificate, which ' +
        'this distribution does not have.',
      cloudfront_security_policy_check:
        'With the default *.cloudfront.net certificate CloudFront ' +
        'fixes the TLS policy (TLSv1 minimum cannot be raised); a ' +
        'custom domain would set TLSv1.2_2021.',
    });

    const deployment = new BucketDeployment(this, 'Deploy', {
      sources: [
        props.assetPath ? Source.asset(props.assetPath) : dashboardAsset(),
        Source.jsonData('dashboard-config.json', dashboardRuntimeConfig(config)),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });
    // The deployment's own function (CDK's BucketDeployment handler, one per stack): each finding
    // acknowledged by its exact id, so a new permission would still be reported.
    const pseudo = nagPseudo(Stack.of(this));
    const bucketId = Stack.of(this).resolve((this.bucket.node.defaultChild as CfnBucket).logicalId) as string;
    const copy =
      'CDK BucketDeployment copies the built dashboard from the ' +
      'CDK asset bucket into the dashboard bucket (replacing and ' +
      'pruning objects)';
    Validations.of(deployment.handlerRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'CDK BucketDeployment: its Lambda handler writes its logs through the AWS managed basic execution policy.',
      },
      ...['GetBucket*', 'GetObject*', 'List*', 'Abort*', 'DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::s3:${action}]`,
        reason: `${copy}: CDK grants read/write as action groups (s3:${action}).`,
      })),
      {
        id:
          `AwsSolutions-IAM5[Resource::arn:` +
          `${pseudo.partition}:s3:::cdk-hnb659fds-assets-` +
          `${pseudo.account}-${pseudo.region}/*]`,
        reason: `${copy}: it reads the asset objects of the CDK bootstrap bucket.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
        reason: `${copy}: it writes every object of the dashboard bucket, and only that bucket.`,
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CDK BucketDeployment invalidates the distribution after copying: ' +
          'cloudfront:CreateInvalidation and GetInvalidation take no ' +
          'resource narrower than *.',
      },
    );
    acknowledgeGuard(deployment.handlerRole.node.scope!, {
      lambda_inside_vpc_check:
        "CDK BucketDeployment's handler copies between two S3 buckets " +
        'and invalidates CloudFront, all AWS endpoints with IAM; there ' +
        'is nothing in a VPC to reach.',
      cloudwatch_log_group_encrypted_check:
        "CDK BucketDeployment's handler logs only object keys it copies " +
        '(public dashboard files); CloudWatch Logs encrypts them at ' +
        'rest with service keys.',
    });
    Validations.of(deployment.handlerRole.node.scope!).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        "CDK BucketDeployment's handler runtime is chosen by the CDK " +
        'version (a Python runtime it tests with); it is upgraded ' +
        'with aws-cdk-lib, not per stack.',
    });
  }

  /** `https://<id>.cloudfront.net` */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
