/**
 * Environment defaults of the local service. Imported first by local/main.ts: the Powertools logger
 * and metrics read their settings when their modules load.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// EMF metrics are for CloudWatch; locally they would only clutter the console.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
