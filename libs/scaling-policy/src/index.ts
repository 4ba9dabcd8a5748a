export * from './policy';
export * from './signal-book';
export * from './types';
export * from './settlement';
