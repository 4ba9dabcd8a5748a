/** Unit specs: `*.spec.ts` beside the code in apps/ and libs/. */
const moduleNameMapper = {
  '^@app/exoscale-client(|/.*)$': '<rootDir>/libs/exoscale-client/src/$1',
  '^@app/prometheus-sd(|/.*)$': '<rootDir>/libs/prometheus-sd/src/$1',
  '^@app/scaling-policy(|/.*)$': '<rootDir>/libs/scaling-policy/src/$1',
  '^@app/charts(|/.*)$': '<rootDir>/libs/charts/src/$1',
  '^@app/state-store(|/.*)$': '<rootDir>/libs/state-store/src/$1',
};

module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/monitoring/', '<rootDir>/terraform/'],
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.spec\\.ts$',
  testTimeout: 60000,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] },
  testEnvironment: 'node',
  moduleNameMapper,
};
module.exports.moduleNameMapper = moduleNameMapper;
