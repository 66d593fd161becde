/**
 * The Powertools Tracer (X-Ray), built as its own file beside each function's bundle (see
 * lib/constructs/service-function.ts) and loaded by tracing.ts only when tracing records: the X-Ray
 * SDK is half of a bundle and slows every cold start, so functions with tracing off never load it.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { TracingHooks } from './tracing';
import { SERVICE_NAME } from './observability-names';

const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });

export const hooks: TracingHooks = {
  // Errors become responses after this middleware, so a trace records them as answered, not as crashes.
  handlerMiddleware: () => captureLambdaHandler(tracer, { captureResponse: false }),
  captureAWSv3Client: (client) => tracer.captureAWSv3Client(client),
};
