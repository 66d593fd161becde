/**
 * Redaction of credentials from text that reaches the logs: a CA's error body may echo the request's
 * Authorization header (a misconfigured proxy, a debugging endpoint), and an error message may quote
 * it. The values actually sent are removed wherever they appear, and so is anything shaped like a
 * credential: `<scheme> <token>` for the HTTP auth schemes, `authorization`/`api-key`/`token`-named
 * fields, and JWTs.
 */

export const REDACTED = '[REDACTED]';

/** Sent values shorter than this are not searched for verbatim (a 2-letter value would blank half a body). */
const MIN_SECRET_LENGTH = 6;

const SCHEME_TOKEN = /\b(Bearer|Basic|Digest|Negotiate|Token|ApiKey|AWS4-HMAC-SHA256)(\s+)[^\s"',;}]+/gi;
/** `"authorization": "..."`, `authorization=...`, `x-api-key: ...` and the like (JSON, headers, query strings). */
const SECRET_NAMES =
  '(?:proxy-)?(?:authorization|x-api-key|api[-_]?key|access[-_]?token|auth[-_]?token|token|cookie|password|secret)';
const NAMED_FIELD = new RegExp(
  `(["']?\\b${SECRET_NAMES}\\b["']?\\s*[:=]\\s*)` + `("(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s,;&}]+)`,
  'gi',
);
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

/**
 * `text` without the given header values (each whole, and the token after an auth scheme) and
 * without anything that looks like a credential.
 */
export function redactCredentials(text: string, sentValues: readonly string[] = []): string {
  let out = text;
  const literals = new Set<string>();
  for (const value of sentValues) {
    const trimmed = value.trim();
    literals.add(trimmed);
    // `Bearer abc...`: the token alone may be echoed too.
    const token = /^\S+\s+(\S.*)$/.exec(trimmed)?.[1];
    if (token) literals.add(token);
  }
  // Longest first, so a whole header is replaced before its token part.
  for (const literal of [...literals].filter((l) => l.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length))
    out = out.split(literal).join(REDACTED);
  return out
    .replace(JWT, REDACTED)
    .replace(SCHEME_TOKEN, (match, scheme: string, space: string) =>
      match.endsWith(REDACTED) ? match : `${scheme}${space}${REDACTED}`,
    )
    .replace(
      NAMED_FIELD,
      (_match, name: string, value: string) =>
        `${name}${value.startsWith('"') ? `"${REDACTED}"` : value.startsWith("'") ? `'${REDACTED}'` : REDACTED}`,
    );
}
