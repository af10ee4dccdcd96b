// The device's clock as the form speaks of it: its local date (the
// patient's today), the local time a protocol's date-time field takes, and
// the moment with the device's UTC offset the server takes the patient's
// day from (docs/http.md#epro-submissions).

const pad = (n) => String(n).padStart(2, '0');

/** The device's local date, `YYYY-MM-DD`. */
export function today(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** `d` as the device's local time to the minute, as a protocol date-time field takes it. */
export function localMinute(d) {
  return `${today(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `d` in RFC 3339 with the device's UTC offset: the server takes the patient's day from it. */
export function withOffset(d) {
  const east = -d.getTimezoneOffset();
  const sign = east < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.floor(Math.abs(east) / 60))}:${pad(Math.abs(east) % 60)}`;
  return `${today(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${offset}`;
}
