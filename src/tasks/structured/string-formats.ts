/**
 * The string formats the decoder writes, each as an anchored pattern of the strings it may write. Each allows a
 * subset of what the format means (RFC 3339 dates and times, addresses), chosen so that every string written passes
 * a format validator (@cfworker/json-schema's): days within their month (29 February left out), a time zone on
 * every time, bounded lengths where the format caps them (an email's local part at 64 characters).
 */
const DATE = String.raw`\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))`;
const TIME = String.raw`(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)`;
const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const LABEL = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?`;
const URI_CHARACTER = String.raw`(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})`;

export const STRING_FORMATS: Readonly<Record<string, string>> = {
  date: `^${DATE}$`,
  time: `^${TIME}$`,
  'date-time': `^${DATE}T${TIME}$`,
  email: String.raw`^[A-Za-z0-9_%+-]{1,20}(?:\.[A-Za-z0-9_%+-]{1,20}){0,2}@${LABEL}(?:\.${LABEL}){1,3}$`,
  uuid: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  ipv4: String.raw`^(?:${OCTET}\.){3}${OCTET}$`,
  uri: String.raw`^[a-z][a-z0-9+.-]{0,10}://${LABEL}(?:\.${LABEL}){0,3}(?::\d{1,5})?(?:/${URI_CHARACTER}{0,30}){0,6}(?:\?(?:${URI_CHARACTER}|[/?]){0,40})?$`,
};
