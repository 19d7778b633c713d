/** Word lists for demo people and companies. Every address made from them ends in .test or example.com. */

// Word lists read better packed than one word per line, hence prettier-ignore.
// prettier-ignore
export const FIRST_NAMES = [
  'Anna', 'Ben', 'Carla', 'David', 'Elif', 'Farah', 'Gustav', 'Hana', 'Ivan', 'Jana', 'Kofi', 'Lena', 'Mateo',
  'Nora', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Wen', 'Ximena', 'Yusuf', 'Zoe',
  'Aiko', 'Bruno', 'Chiara', 'Diego', 'Emma', 'Finn', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Luca', 'Maya',
  'Nils', 'Olga', 'Pablo', 'Rhea', 'Samir', 'Tomas', 'Ulla', 'Victor', 'Wiebke', 'Yara', 'Zeynep', 'Amara',
  'Bilal', 'Chloe', 'Dmitri', 'Esther', 'Felix', 'Gabriela', 'Henrik', 'Isla', 'Jamal', 'Keiko', 'Liam', 'Marta',
  'Noah', 'Oskar', 'Paula', 'Rafael', 'Sofia', 'Theo', 'Valentina', 'William', 'Xavier', 'Yasmin', 'Zara',
] as const;

// prettier-ignore
export const LAST_NAMES = [
  'Adler', 'Bauer', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kaur', 'Larsen',
  'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Sato', 'Tan', 'Ueda', 'Vogel', 'Weber', 'Xu',
  'Yilmaz', 'Zimmer', 'Andersson', 'Brandt', 'Chen', 'Diallo', 'Evans', 'Ferreira', 'Gupta', 'Hoffmann', 'Ibrahim',
  'Jovanovic', 'Kowalski', 'Lindqvist', 'Martin', 'Novak', 'Olsen', 'Patel', 'Reyes', 'Schmidt', 'Thompson',
  'Usman', 'Varga', 'Walsh', 'Yamamoto', 'Zhang', 'Alvarez', 'Berg', 'Castro', 'Dias', 'Egger', 'Fontaine',
  'Greco', 'Hansen', 'Iyer', 'Keller', 'Lopez', 'Meyer', 'Nguyen', "O'Brien", 'Park', 'Richter', 'Silva', 'Weiss',
] as const;

// prettier-ignore
const COMPANY_FIRST = [
  'Fjord', 'Mekong', 'Ironbridge', 'Evergreen', 'Kessler', 'Marlow', 'Aldenhoff', 'Northgate', 'Bluewater', 'Cedar',
  'Granite', 'Harbor', 'Juniper', 'Lumen', 'Meridian', 'Nimbus', 'Orchid', 'Pinecrest', 'Quarry', 'Redwood',
  'Silverline', 'Summit', 'Tidewater', 'Umbra', 'Vantage', 'Willow', 'Zenith', 'Alder', 'Beacon', 'Copper', 'Delta',
  'Ember', 'Falcon', 'Glacier', 'Horizon', 'Indigo', 'Jasper', 'Keystone', 'Lakeside', 'Monarch', 'Oakridge',
  'Polar', 'Riverside', 'Sterling', 'Trident', 'Verdant', 'Westbrook', 'Yarrow', 'Aurora', 'Basalt', 'Cobalt',
  'Driftwood', 'Elmwood', 'Foxglove', 'Goldcrest', 'Hawthorn', 'Ivory', 'Kingfisher', 'Larkspur', 'Mistral',
] as const;

// prettier-ignore
const COMPANY_SECOND = [
  'Analytics', 'Textiles', 'Logistics', 'Health', 'Foods', 'Robotics', 'Energy', 'Media', 'Capital', 'Software',
  'Maschinenbau', 'Retail', 'Pharma', 'Motors', 'Insurance', 'Labs', 'Systems', 'Travel', 'Legal', 'Construction',
  'Freight', 'Telecom', 'Studios', 'Dental', 'Outdoor', 'Biotech', 'Finance', 'Charter', 'Metals', 'Hospitality',
  'Packaging', 'Clinics', 'Mobility', 'Education', 'Architects',
] as const;

const COMPANY_FORM = ['', '', '', '', ' Group', ' GmbH', ' Ltd', ' Inc.', ' & Co', ' AG', ' Partners', ' SA'] as const;

export interface Picker {
  pick<T>(items: readonly T[]): T;
}

export function companyName(r: Picker): string {
  return `${r.pick(COMPANY_FIRST)} ${r.pick(COMPANY_SECOND)}${r.pick(COMPANY_FORM)}`;
}

/** ASCII lowercase with dashes: an id or a host name from a person's or company's name. */
export function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** The company's name without its legal form, for its web domain. */
export function companyDomain(company: string): string {
  return `${slug(company.replace(/ (Group|GmbH|Ltd|Inc\.|& Co|AG|Partners|SA)$/, ''))}.test`;
}
