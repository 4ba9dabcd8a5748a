/** End-to-end specs: `apps/<app>/test/*.e2e-spec.ts`, run one file at a time (they bind real ports). */
const { moduleNameMapper } = require('./jest.config');

module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/apps/'],
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '/test/.*\\.e2e-spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  testEnvironment: 'node',
  moduleNameMapper,
  testTimeout: 120000,
};
