export * from './policy';
export * from './signal-book';
export * from './types';
export * from './settlement';
export * from './member-health';
export * from './schedule';
export * from './forecast';
export * from './readings';
