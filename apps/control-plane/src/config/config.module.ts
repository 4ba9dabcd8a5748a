import { DynamicModule, Global, Module } from '@nestjs/common';

import { Settings } from './settings';

/** Provides the one {@link Settings} object, validated by main.ts before Nest starts (so nothing can fail late). */
@Global()
@Module({})
export class ConfigModule {
  static forSettings(settings: Settings): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: Settings, useValue: settings }],
      exports: [Settings],
    };
  }
}
