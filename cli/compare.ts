/** Re-running an import: the shared comparison of a row with its device (functions/domain/import-compare.ts). */
export * from '../functions/domain/import-compare';
