/**
 * String formats of CRD schemas, checked like kube-openapi's strfmt registry does. The rarely used
 * isbn, creditcard, ssn, hexcolor, rgbcolor, bsonobjectid and duration formats, and every format
 * the real API server does not know, are accepted unchecked.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID_VERSION =
  /^[0-9a-f]{8}-?[0-9a-f]{4}-?([345])[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HOSTNAME =
  /^(?=.{1,255}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\.?$/i;
const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function isDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isDateTime(value: string): boolean {
  const separator = value.toLowerCase().indexOf('t');
  if (separator < 0) return false;
  const match = TIME.exec(value.slice(separator + 1).toLowerCase());
  if (!isDate(value.slice(0, separator)) || !match) return false;
  return Number(match[1]) < 24 && Number(match[2]) < 60 && Number(match[3]) < 61;
}

function isIPv6(value: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(value) || !value.includes(':')) return false;
  try {
    return new URL(`http://[${value}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

function isCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  if (address === undefined || bits === undefined || extra !== undefined) return false;
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (IPV4.test(address)) return Number(bits) <= 32;
  return isIPv6(address) && Number(bits) <= 128;
}

function isUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

const CHECKS: Record<string, (value: string) => boolean> = {
  date: isDate,
  'date-time': isDateTime,
  datetime: isDateTime,
  uuid: (value) => UUID.test(value),
  uuid3: (value) => UUID_VERSION.exec(value)?.[1] === '3',
  uuid4: (value) => UUID_VERSION.exec(value)?.[1] === '4',
  uuid5: (value) => UUID_VERSION.exec(value)?.[1] === '5',
  ipv4: (value) => IPV4.test(value),
  ipv6: isIPv6,
  cidr: isCidr,
  hostname: (value) => HOSTNAME.test(value),
  mac: (value) => MAC.test(value),
  byte: (value) => BASE64.test(value),
  email: (value) => EMAIL.test(value),
  uri: isUri,
};

/** Whether `value` satisfies `format`; true for formats the API server does not check. */
export function satisfiesFormat(format: string, value: string): boolean {
  const check = CHECKS[format];
  return check === undefined || check(value);
}
