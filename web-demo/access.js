// A patient's access link (`/#access=clva_…`, docs/http.md#patients-access):
// its one-time code exchanged for the credential the phone keeps, so the
// form acts for that patient alone.

import * as device from '/assets/device.js';

/** What an access link's refusal codes are, for `access_*` texts. */
const ACCESS_REFUSALS = {
  unknown_access_code: 'unknown',
  access_code_used: 'used',
  access_code_expired: 'expired',
  access_code_revoked: 'revoked',
};

/**
 * `{ credential, problem }`: the patient's credential (`{ token, trialId,
 * patientId }`) from the access link just opened (its code, in the
 * fragment, exchanged once and then taken out of the address), else the
 * one this device keeps, else null; and why the link gave none (`used`,
 * `expired`, `revoked`, `unknown`, `offline`), if it did not. A refused
 * link changes nothing kept; a link that could not be exchanged for want
 * of a network stays in the address for the next try.
 */
export async function patientCredential() {
  const code = new URLSearchParams(location.hash.slice(1)).get('access');
  const kept = await device.get('credentials', 'patient').catch(() => null);
  if (!code) return { credential: kept ?? null, problem: null };
  let response;
  try {
    response = await fetch('/api/v1/patient-access', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
  } catch {
    return { credential: kept ?? null, problem: 'offline' };
  }
  history.replaceState(null, '', location.pathname + location.search);
  const body = await response.json().catch(() => null);
  if (response.status !== 201) {
    return { credential: kept ?? null, problem: ACCESS_REFUSALS[body?.error?.code] ?? 'unknown' };
  }
  await device.put('credentials', body, 'patient');
  return { credential: body, problem: null };
}
