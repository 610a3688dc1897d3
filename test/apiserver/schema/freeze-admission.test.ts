import { describe, expect, it } from 'vitest';
import { admissionErrors, freezeWith } from '../../support/resources.js';
import { freezeValidationCases } from '../../support/validation-cases.js';

describe('FleetFreeze validation', () => {
  it.each(freezeValidationCases)('%s', (_name, spec, ...errors) => {
    expect(admissionErrors('FleetFreeze', freezeWith(spec))).toEqual(errors);
  });
});
