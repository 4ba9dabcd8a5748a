export * from './errors';
export * from './fence';
export * from './fence-spec';
export * from './file-state-store';
export * from './lease';
export * from './migrations';
export * from './postgres-state-store';
export * from './state-store';
