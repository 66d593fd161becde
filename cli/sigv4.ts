/**
 * `--aws`: Signature Version 4 for an API deployed with IAM authorization (service `execute-api`),
 * with the SDK's default credential chain and the region named by the API's URL.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { UsageError } from './errors';

export const SIGNING_SERVICE = 'execute-api';

/** A request about to be sent; the signer returns the headers to add. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Adds authentication headers to a request (a bearer token, a SigV4 signature, or nothing). */
export type Authenticator = (request: OutgoingRequest) => Promise<Record<string, string>>;

/**
 * The region of an API Gateway URL (`https://<id>.execute-api.<region>.amazonaws.com/...`, also
 * VPC endpoint and China partition hosts); undefined for a custom domain.
 */
export function regionFromUrl(url: URL): string | undefined {
  return (
    /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1] ??
    /\.execute-api\.([a-z0-9-]+)\.vpce\.amazonaws\.com$/.exec(url.hostname)?.[1]
  );
}

export interface SigV4Options {
  /** Fixed credentials or a provider (the default chain). */
  credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  region: string;
  service?: string;
  /** Fixed signing time (tests); now by default. */
  signingDate?: () => Date;
}

/**
 * Signs every request. The payload hash is part of the signature but not sent as a header
 * (API Gateway does not need `x-amz-content-sha256`), as the AWS CLI does for execute-api.
 */
export function sigV4Authenticator({
  credentials,
  region,
  service = SIGNING_SERVICE,
  signingDate,
}: SigV4Options): Authenticator {
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
    uriEscapePath: true,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const existing = query[key];
      query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        body,
      },
      { signingDate: signingDate?.() },
    );
    const added: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers))
      if (headers[name] === undefined && name !== 'host') added[name] = value;
    return added;
  };
}

/** `--aws` with the default credential chain (environment, profile, SSO, container, instance). */
export async function defaultSigV4Authenticator(
  api: URL,
  regionOption: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Authenticator> {
  const region = regionOption ?? regionFromUrl(api) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError(`--aws: cannot tell the region from ${api.host}; pass --region or set AWS_REGION`);
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  return sigV4Authenticator({ credentials: fromNodeProviderChain(), region });
}
