export * from './device';
export * from './errors';
