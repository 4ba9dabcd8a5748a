import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  Max,
  Min,
  validateSync,
  ValidationError,
} from 'class-validator';

/** Every setting of the control plane (ARCHITECTURE.md §3), validated once at boot. Nothing else reads the environment. */

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
};
const blankToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** An integer setting in [min, max]; its messages name the setting. */
function IntSetting(name: string, kind: string, min: number, max: number): PropertyDecorator {
  const range = `${name} must be between ${min} and ${max}`;
  // Listed in the order stacked decorators are applied (bottom-up), so a type error is the one reported.
  return applyDecorators(
    Max(max, { message: range }),
    Min(min, { message: range }),
    IsInt({ message: `${name} must be an integer ${kind}` }),
    Transform(toInt),
  );
}

/** An optional string setting; an empty value counts as unset. */
function OptionalString(): PropertyDecorator {
  return applyDecorators(IsOptional(), Transform(blankToUndefined), IsString());
}

export class Settings {
  @IsString()
  @IsNotEmpty({ message: 'EXOSCALE_KEY is required (or EXOSCALE_API_KEY)' })
  EXOSCALE_KEY: string;

  @IsString()
  @IsNotEmpty({ message: 'EXOSCALE_SECRET is required (or EXOSCALE_API_SECRET)' })
  EXOSCALE_SECRET: string;

  @Matches(/^[a-z]{2}-[a-z]{3}-\d+$/, { message: 'EXOSCALE_ZONE must be a zone name such as at-vie-1' })
  EXOSCALE_ZONE = 'at-vie-1';

  @IsUUID('all', { message: 'EXOSCALE_INSTANCEPOOL_ID must be the UUID of the instance pool to manage' })
  EXOSCALE_INSTANCEPOOL_ID: string;

  @IsOptional()
  @Transform(blankToUndefined)
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'EXOSCALE_API_ENDPOINT must be an http(s) URL such as https://api-at-vie-1.exoscale.com/v2' },
  )
  EXOSCALE_API_ENDPOINT?: string;

  /** Legacy API v1 zone UUID: accepted (the course passes it) and ignored. */
  @IsOptional()
  EXOSCALE_ZONE_ID?: string;

  @IntSetting('LISTEN_PORT', 'port number', 1, 65535)
  LISTEN_PORT = 8090;

  @IsString()
  @IsNotEmpty({ message: 'LISTEN_HOST must not be empty' })
  LISTEN_HOST = '0.0.0.0';

  @IntSetting('TARGET_PORT', 'port number', 1, 65535)
  TARGET_PORT = 9100;

  @Matches(/^\/.*[^/]$/, { message: 'SD_FILE must be an absolute file path' })
  SD_FILE = '/srv/service-discovery/config.json';

  @IntSetting('DISCOVERY_INTERVAL_SECONDS', 'number of seconds', 1, 3600)
  DISCOVERY_INTERVAL_SECONDS = 10;

  @IntSetting('SCALING_INTERVAL_SECONDS', 'number of seconds', 1, 3600)
  SCALING_INTERVAL_SECONDS = 60;

  @IntSetting('POOL_MIN_SIZE', 'pool size', 1, 1000)
  POOL_MIN_SIZE = 1;

  @IntSetting('POOL_MAX_SIZE', 'pool size', 1, 1000)
  POOL_MAX_SIZE = 10;

  /** After any scaling step, up signals wait this long (new members must boot before their CPU counts). */
  @IntSetting('SCALE_UP_COOLDOWN_SECONDS', 'number of seconds', 0, 3600)
  SCALE_UP_COOLDOWN_SECONDS = 0;

  /** After any scaling step, down signals wait this long. */
  @IntSetting('SCALE_DOWN_COOLDOWN_SECONDS', 'number of seconds', 0, 3600)
  SCALE_DOWN_COOLDOWN_SECONDS = 0;

  @OptionalString()
  WEBHOOK_USERNAME?: string;

  @OptionalString()
  WEBHOOK_PASSWORD?: string;

  @OptionalString()
  WEBHOOK_TOKEN?: string;

  @OptionalString()
  WEBHOOK_HMAC_SECRET?: string;

  @OptionalString()
  API_TOKEN?: string;

  @Transform(toBool)
  @IsBoolean({ message: 'DRY_RUN must be true or false' })
  DRY_RUN = false;

  get apiEndpoint(): string {
    return this.EXOSCALE_API_ENDPOINT ?? `https://api-${this.EXOSCALE_ZONE}.exoscale.com/v2`;
  }
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const KNOWN = new Set(
  Object.keys(new Settings()).concat(['EXOSCALE_KEY', 'EXOSCALE_SECRET', 'EXOSCALE_INSTANCEPOOL_ID']),
);

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => {
    const constraints = Object.values(e.constraints ?? {});
    // One message per setting: the first failing constraint names it and says what is wrong.
    return constraints.length > 0 ? [constraints[constraints.length - 1]] : messages(e.children ?? []);
  });
}

/** Builds the settings from an environment; throws SettingsError listing every problem, each naming its setting. */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && KNOWN.has(key) && value !== '') raw[key] = value;
  }
  raw.EXOSCALE_KEY ??= env.EXOSCALE_API_KEY ?? '';
  raw.EXOSCALE_SECRET ??= env.EXOSCALE_API_SECRET ?? '';
  const settings = plainToInstance(Settings, raw, { exposeDefaultValues: true });
  const problems = messages(validateSync(settings, { forbidUnknownValues: false }));
  if (problems.length === 0 && settings.POOL_MIN_SIZE > settings.POOL_MAX_SIZE) {
    problems.push(
      `POOL_MIN_SIZE (${settings.POOL_MIN_SIZE}) must not exceed POOL_MAX_SIZE (${settings.POOL_MAX_SIZE})`,
    );
  }
  if (Boolean(settings.WEBHOOK_USERNAME) !== Boolean(settings.WEBHOOK_PASSWORD)) {
    problems.push('WEBHOOK_USERNAME and WEBHOOK_PASSWORD must be set together');
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}
