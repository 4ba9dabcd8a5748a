export * from './client';
export * from './errors';
export * from './retry';
export * from './signing';
export * from './types';
