/**
 * Request schemas of the slot routes (bind, revoke), apart from schemas.ts so that only those routes
 * build them at their cold start.
 */
import { storedText } from './schemas';
import {
  enum as enumOf,
  iso,
  literal,
  maxLength,
  meta,
  minLength,
  optional,
  regex,
  strictObject,
  string,
  union,
} from './zod-mini';

export const bindCertificateSchema = strictObject({
  certificate: string().check(
    minLength(1),
    meta({ description: 'PEM certificate (the first CERTIFICATE block is used).' }),
  ),
}).check(meta({ id: 'BindCertificate' }));

export const bindSlotSchema = union([
  strictObject({ type: optional(literal('x509')), certificate: string().check(minLength(1)) }),
  strictObject({
    type: enumOf(['SSH_KEY', 'TOKEN', 'OTHER']),
    secret: string().check(
      minLength(1),
      maxLength(4096),
      regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, 'must be printable ASCII without " or \\'),
      meta({
        description:
          'Opaque reference to the secret (never a private key), e.g. ' +
          'an ARN or URI: 1-4096 printable ASCII characters without ' +
          '`"` or `\\`.',
      }),
    ),
    expiration_date: optional(iso.datetime({ offset: true })),
  }),
]).check(meta({ id: 'BindSlot' }));

export const revokeSchema = strictObject({
  reason: storedText().check(
    minLength(1),
    meta({ description: 'RFC 5280 reason name, e.g. KeyCompromise, CessationOfOperation (case-insensitive).' }),
  ),
}).check(meta({ id: 'Revoke' }));
