/** Unit specs: `*.spec.ts` beside the code in apps/ and libs/. */
const moduleNameMapper = {
  '^@app/exoscale-client(|/.*)$': '<rootDir>/libs/exoscale-client/src/$1',
  '^@app/prometheus-sd(|/.*)$': '<rootDir>/libs/prometheus-sd/src/$1',
};

module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/scripts/'],
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  testEnvironment: 'node',
  moduleNameMapper,
  testTimeout: 20000,
};
module.exports.moduleNameMapper = moduleNameMapper;
