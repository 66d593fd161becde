/**
 * Per-DMS AWS IoT settings (docs/iot-provisioning.md), stored with the DMS's renewal policy: the IoT
 * policies attached to each device certificate, the thing groups of its things, and how its devices'
 * certificates get into AWS IoT. The limits are AWS IoT's, checked here so that a bad setting is a 400
 * at `PUT /v2/dms/{id}` rather than a sync that fails for every device of the DMS.
 */
import {
  array,
  enum as enumOf,
  maxLength,
  meta,
  minLength,
  nullable,
  optional,
  record,
  regex,
  strictObject,
  string,
  superRefine,
  unknown,
} from './zod-mini';

// The stored settings' types and defaults live apart, without zod: reading a DMS does not evaluate its schema.
export * from './dms-iot-settings';
import { IOT_REGISTRATION_MODES } from './dms-iot-settings';

/** AWS IoT: policy names `[\w+=,.@-]+`, 1-128 characters. */
export const IOT_POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** AWS IoT: thing group names `[a-zA-Z0-9:_-]+`, 1-128 characters. */
export const THING_GROUP_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
/** AWS IoT: provisioning template names `[0-9A-Za-z_-]+`, 1-36 characters. */
export const TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;
/** AWS IoT: shadow names `[a-zA-Z0-9:_-]`, 1-64 characters (as the deployment's `iotSync.shadowName`). */
export const SHADOW_NAME = /^[a-zA-Z0-9:_-]{1,64}$/;
/** AWS IoT: a policy document is at most 2048 characters, whitespace excluded. */
export const MAX_POLICY_DOCUMENT = 2048;
/** AWS IoT: a provisioning template body is at most 10240 characters. */
export const MAX_TEMPLATE_BODY = 10240;
/** AWS IoT: at most 10 policies attached to a certificate, a thing in at most 10 groups. */
export const MAX_DMS_POLICIES = 10;
export const MAX_DMS_THING_GROUPS = 10;

const jsonObject = () => record(string(), unknown());
const distinct = (names: readonly string[]) => new Set(names).size === names.length;

export const dmsIotSchema = strictObject({
  policies: optional(
    array(
      strictObject({
        name: string().check(regex(IOT_POLICY_NAME, 'must be 1-128 characters of A-Z a-z 0-9 _ + = , . @ -')),
        document: jsonObject().check(
          superRefine((document, ctx) => {
            if (JSON.stringify(document).length > MAX_POLICY_DOCUMENT)
              ctx.addIssue({
                code: 'custom',
                message: `must be at most ${MAX_POLICY_DOCUMENT} characters as compact JSON`,
              });
          }),
        ),
      }),
    ).check(maxLength(MAX_DMS_POLICIES)),
  ),
  thing_groups: optional(
    array(string().check(regex(THING_GROUP_NAME, 'must be 1-128 characters of A-Z a-z 0-9 : _ -'))).check(
      maxLength(MAX_DMS_THING_GROUPS),
    ),
  ),
  registration: optional(enumOf(IOT_REGISTRATION_MODES)),
  shadow_name: optional(
    nullable(string().check(regex(SHADOW_NAME, 'must be 1-64 characters of A-Z a-z 0-9 : _ -'))),
  ).check(
    meta({
      description:
        'The device shadow of identity actions: a named shadow, null for the classic shadow; ' +
        "absent: the deployment's iotSync.shadowName.",
    }),
  ),
  provisioning_template: optional(
    strictObject({
      name: string().check(regex(TEMPLATE_NAME, 'must be 1-36 characters of A-Z a-z 0-9 _ -')),
      body: jsonObject(),
      description: optional(string().check(minLength(1), maxLength(500))),
    }),
  ),
}).check(
  superRefine((iot, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (iot.policies && !distinct(iot.policies.map((p) => p.name))) problem('policies', 'names must be distinct');
    if (iot.thing_groups && !distinct(iot.thing_groups)) problem('thing_groups', 'must be distinct');
    if (iot.registration === 'jitp' && !iot.provisioning_template)
      problem('provisioning_template', 'is required when registration is jitp');
    const body = iot.provisioning_template?.body;
    if (body && (typeof body.Resources !== 'object' || body.Resources === null))
      problem('provisioning_template', 'body must have a Resources object (an AWS IoT provisioning template)');
    if (body && JSON.stringify(body).length > MAX_TEMPLATE_BODY)
      problem('provisioning_template', `body must be at most ${MAX_TEMPLATE_BODY} characters as compact JSON`);
  }),
  meta({
    id: 'DmsIotSettings',
    description:
      'AWS IoT settings of the DMS (with the IoT sync on): policies attached to device certificates, ' +
      'thing groups of the things, how certificates are registered, and the shadow of identity actions.',
  }),
);
