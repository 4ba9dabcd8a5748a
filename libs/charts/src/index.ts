export * from './chart';
export * from './report';
