/**
 * The Lamassu edge in the stack: its routes behind the authorizer with their own functions, and
 * the lamassuEvents setting reaching the functions that record and publish Lamassu-typed events.
 */
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { DeploymentConfigError, parseConfig } from '../../lib/config';
import { loadConfig, loadPublisherConfig } from '../../functions/runtime/config';
import { HTTP_ROUTES, LAMASSU_PREFIX } from '../../functions/http/routes';
import { resourcesOf, type Synthesized, synthesize } from './helpers';

const idOf = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnFunction);
// `any`: CloudFormation properties are asserted field by field.
const variablesOf = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  (s.template.toJSON().Resources[idOf(s, construct)] as { Properties: any }).Properties.Environment.Variables as Record<
    string,
    unknown
  >;

const dev = synthesize({ stageName: 'dev' });
const on = synthesize({ stageName: 'dev', lamassuEvents: true });
const v1 = HTTP_ROUTES.filter((r) => r.path.startsWith(LAMASSU_PREFIX));

it('has the 17 Lamassu routes, each behind the IAM authorizer with its own function', () => {
  expect(v1).toHaveLength(17);
  const routes = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route').map(
    ([, r]) => r.Properties as { RouteKey: string; AuthorizationType: string; Target: unknown },
  );
  for (const route of v1) {
    const deployed = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
    expect(deployed).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    expect(dev.stack.api.functions.get(route.handler)).toBeDefined();
  }
});

it(
  'lamassuEvents: true reaches the API functions (snapshots) ' + 'and the publisher (derived events); off by default',
  () => {
    const getDevice = on.stack.api.functions.get('lamassu/get-device')!.function;
    expect(variablesOf(on, getDevice).LAMASSU_EVENTS).toBe('true');
    expect(variablesOf(on, on.stack.events.publisher.function).LAMASSU_EVENTS).toBe('true');
    expect(variablesOf(dev, dev.stack.events.publisher.function).LAMASSU_EVENTS).toBeUndefined();
    expect(
      variablesOf(dev, dev.stack.api.functions.get('lamassu/get-device')!.function).LAMASSU_EVENTS,
    ).toBeUndefined();
    const publisherEnv = {
      ...variablesOf(on, on.stack.events.publisher.function),
      EVENT_BUS_NAME: 'bus',
      PUBLISH_DLQ_URL: 'https://sqs/dlq',
    } as Record<string, string>;
    expect(loadPublisherConfig(publisherEnv).lamassuEvents).toBe(true);
    expect(loadConfig({ TABLE_NAME: 't', LAMASSU_EVENTS: 'true' }).lamassuEvents).toBe(true);
    expect(loadConfig({ TABLE_NAME: 't' }).lamassuEvents).toBe(false);
  },
);

it('lamassuEvents must be a boolean', () => {
  expect(() => parseConfig({ lamassuEvents: 'yes' })).toThrow(DeploymentConfigError);
  expect(() => parseConfig({ lamassuEvents: 'yes' })).toThrow(/^deviceManager\.lamassuEvents must be true or false/);
  expect(parseConfig({}).lamassuEvents).toBeUndefined();
});
