/** Unit specs beside the code; e2e specs in test/ against a real database. */
const tsJest = [
  'ts-jest',
  {
    tsconfig: 'tsconfig.json',
    isolatedModules: false,
    // module node20 compiles these files (no "type": "module") to CommonJS, as tsc does for the
    // build; ts-jest's notice about hybrid module kinds concerns ESM output, which is not made here.
    diagnostics: { warnOnly: false, ignoreCodes: [151002] },
    astTransformers: {
      before: [
        { path: '<rootDir>/test/swagger-transformer.js' },
      ],
    },
  },
];

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
};
