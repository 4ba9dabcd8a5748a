import { Global, Module } from '@nestjs/common';

import { loadSettings, Settings } from './settings';

/** Provides the one validated {@link Settings} object. main.ts validates before Nest starts, so this cannot fail late. */
@Global()
@Module({
  providers: [{ provide: Settings, useFactory: () => loadSettings(process.env) }],
  exports: [Settings],
})
export class ConfigModule {}
