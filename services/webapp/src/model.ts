/**
 * The webapp's view of catalog items and forum users: Go structs in the book's webapp, so answers are
 * re-encoded with exactly these fields (users lose `address.geo`), compact, with Go's JSON escaping.
 * A value of the wrong JSON type fails like `json.Unmarshal` does.
 */

export interface CatalogItem {
  id: number;
  color: string;
  department: string;
  name: string;
  price: string;
  imageUrl?: string;
}

export interface User {
  id: number;
  name: string;
  username: string;
  email: string;
  address: { street: string; suite: string; city: string; zipcode: string };
  phone: string;
  website: string;
  company: { name: string; catchPhrase: string; bs: string };
}

export class DecodeError extends Error {}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DecodeError(`json: cannot unmarshal ${typeof v} into Go struct field ${where}.${key} of type string`);
  return v;
}

function int(o: Record<string, unknown>, key: string, where: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new DecodeError(`json: cannot unmarshal ${typeof v === 'number' ? 'number' : typeof v} into Go struct field ${where}.${key} of type int`);
  }
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type ${where}`);
  return v as Record<string, unknown>;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new DecodeError(`json: cannot unmarshal ${v === null ? 'null' : typeof v} into Go value of type []${where}`);
  return v;
}

export function toCatalogItem(v: unknown): CatalogItem {
  const o = obj(v, 'clients.CatalogItem');
  const item: CatalogItem = {
    id: int(o, 'id', 'CatalogItem'),
    color: str(o, 'color', 'CatalogItem'),
    department: str(o, 'department', 'CatalogItem'),
    name: str(o, 'name', 'CatalogItem'),
    price: str(o, 'price', 'CatalogItem'),
  };
  const imageUrl = str(o, 'imageUrl', 'CatalogItem');
  if (imageUrl !== '') item.imageUrl = imageUrl; // `json:"imageUrl,omitempty"`
  return item;
}

export function toCatalogItems(v: unknown): CatalogItem[] {
  return list(v, 'clients.CatalogItem').map(toCatalogItem);
}

export function toUser(v: unknown): User {
  const o = obj(v, 'clients.User');
  const a = obj(o.address, 'clients.Address');
  const c = obj(o.company, 'clients.CompanyDetails');
  return {
    id: int(o, 'id', 'User'),
    name: str(o, 'name', 'User'),
    username: str(o, 'username', 'User'),
    email: str(o, 'email', 'User'),
    address: {
      street: str(a, 'street', 'Address'),
      suite: str(a, 'suite', 'Address'),
      city: str(a, 'city', 'Address'),
      zipcode: str(a, 'zipcode', 'Address'),
    },
    phone: str(o, 'phone', 'User'),
    website: str(o, 'website', 'User'),
    company: {
      name: str(c, 'name', 'CompanyDetails'),
      catchPhrase: str(c, 'catchPhrase', 'CompanyDetails'),
      bs: str(c, 'bs', 'CompanyDetails'),
    },
  };
}

export function toUsers(v: unknown): User[] {
  return list(v, 'clients.User').map(toUser);
}

/** `encoding/json` output: compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
