import { describe, expect, it } from 'vitest';
import { splitPersonName } from '../../src/domain/person-name.js';

describe('splitPersonName', () => {
  it('splits at the first space, as Pipedrive does, and keeps the rest whole', () => {
    expect(splitPersonName('Jane Doe')).toEqual({ first_name: 'Jane', last_name: 'Doe' });
    expect(splitPersonName('  Maria   de la  Cruz ')).toEqual({ first_name: 'Maria', last_name: 'de la Cruz' });
  });

  it('reads "Last, First" as written', () => {
    expect(splitPersonName('Doe, Jane')).toEqual({ first_name: 'Jane', last_name: 'Doe' });
    expect(splitPersonName('van Dijk,  Anna Maria')).toEqual({ first_name: 'Anna Maria', last_name: 'van Dijk' });
  });

  it('gives a single word as the first name, and nothing for a blank name', () => {
    expect(splitPersonName('Cher')).toEqual({ first_name: 'Cher' });
    expect(splitPersonName('   ')).toEqual({});
  });

  it('does not read a name with two commas, or a comma at either end, as "Last, First"', () => {
    expect(splitPersonName('Smith, Jr., John')).toEqual({ first_name: 'Smith,', last_name: 'Jr., John' });
    expect(splitPersonName('Jane Doe,')).toEqual({ first_name: 'Jane', last_name: 'Doe,' });
  });
});
