export * from './atomic-file';
export * from './file-sd-writer';
export * from './target-group';
