/**
 * The dashboard's Content-Security-Policy, one source for the local server and the CloudFront
 * response headers policy: scripts, styles and API calls from the page's own origin only (the API
 * shares it), plus the sign-in issuer for OIDC discovery and token requests.
 */
export function dashboardCsp(connectSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...connectSources].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
