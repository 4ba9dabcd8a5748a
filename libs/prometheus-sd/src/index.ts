export * from './file-sd-writer';
export * from './target-group';
