/** SigV4 of the CLI's `--aws`: AWS's published test vector, and an independent computation for execute-api. */
import { regionFromUrl, sigV4Authenticator } from '../../../cli/sigv4';
import { independentSignature } from '../../support/sigv4';

const KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AT = new Date('2015-08-30T12:36:00Z');

describe('SigV4 signing', () => {
  it("matches AWS's published get-vanilla test vector", async () => {
    const sign = sigV4Authenticator({
      credentials: KEY,
      region: 'us-east-1',
      service: 'service',
      signingDate: () => AT,
    });
    expect(await sign({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} })).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    });
  });

  it(
    'signs an execute-api POST with body, repeated query parameters ' +
      'and a session token like an independent computation',
    async () => {
      const url = new URL(
        'https://abc123.execute-api.eu-west-1.amazonaws.com/v2/devices' +
          '?filter=tags%5Bct%5Dline-3&filter=dms_owner%5Beq%5Ddms%201&page_size=10',
      );
      const region = regionFromUrl(url)!;
      const sign = sigV4Authenticator({
        credentials: { ...KEY, sessionToken: 'session-token-1' },
        region,
        signingDate: () => AT,
      });
      const body = JSON.stringify({ id: 'device-001', dms_id: 'dms-1' });
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      const added = await sign({ method: 'POST', url, headers, body });
      expect(added['x-amz-security-token']).toBe('session-token-1');
      expect(added['x-amz-content-sha256']).toBeUndefined();
      const expected = independentSignature({
        method: 'POST',
        host: url.host,
        path: url.pathname,
        query: [...url.searchParams],
        headers: { ...headers, 'x-amz-date': '20150830T123600Z', 'x-amz-security-token': 'session-token-1' },
        body,
        region: 'eu-west-1',
        service: 'execute-api',
        amzDate: '20150830T123600Z',
        secret: KEY.secretAccessKey,
      });
      expect(added.authorization).toBe(
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${expected.scope}, ` +
          `SignedHeaders=${expected.signedHeaders}, Signature=${expected.signature}`,
      );
    },
  );

  it('reads the region of API Gateway hosts and none of a custom domain', () => {
    expect(regionFromUrl(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/'))).toBe('eu-west-1');
    expect(regionFromUrl(new URL('https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod'))).toBe('cn-north-1');
    expect(regionFromUrl(new URL('https://api.example.com/'))).toBeUndefined();
    expect(regionFromUrl(new URL('http://127.0.0.1:3000'))).toBeUndefined();
  });
});
