/**
 * Imported first by benches that drive the service hard: the service logs every 503 at ERROR, and
 * the bench's table says how many there were. Set before the service's modules load
 * (local/env-defaults.ts keeps a value already set).
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
