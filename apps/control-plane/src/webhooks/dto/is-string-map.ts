import { ValidateBy, ValidationOptions } from 'class-validator';

/** A JSON object whose values are all strings (Prometheus/Grafana label and annotation sets). */
export function IsStringMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.values(value).every((v) => typeof v === 'string'),
        defaultMessage: (args) => `${args?.property} must be an object of string values`,
      },
    },
    options,
  );
}
