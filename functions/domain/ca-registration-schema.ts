/** The request of `POST /v2/iot/ca-certificates` (docs/iot-provisioning.md, CA registration). */
import { CA_MODES, MAX_PEM } from './ca-registration';
import { TEMPLATE_NAME } from './dms-iot';
import { boolean, enum as enumOf, maxLength, meta, optional, regex, strictObject, string } from './zod-mini';

export const registerCaSchema = strictObject({
  certificate_pem: string().check(maxLength(MAX_PEM), meta({ description: 'The CA certificate (PEM).' })),
  mode: optional(enumOf(CA_MODES)).check(
    meta({ description: 'DEFAULT (default): proven by a verification certificate; SNI_ONLY: not.' }),
  ),
  verification_certificate_pem: optional(string().check(maxLength(MAX_PEM))).check(
    meta({
      description:
        'DEFAULT mode: a certificate signed by the CA whose subject common name is the ' +
        'registration code (GET /v2/iot/registration-code).',
    }),
  ),
  status: optional(enumOf(['ACTIVE', 'INACTIVE'])),
  auto_registration: optional(boolean()).check(
    meta({ description: 'AWS IoT registers device certificates of this CA at their first connection (JITP).' }),
  ),
  provisioning_template: optional(
    string().check(regex(TEMPLATE_NAME, 'must be 1-36 characters of A-Z a-z 0-9 _ -')),
  ).check(meta({ description: 'The JITP template (a DMS provisioning_template name) run for those devices.' })),
}).check(meta({ id: 'RegisterIotCa' }));
