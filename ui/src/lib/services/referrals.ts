import type { Referral } from "../bindings/Referral";
import type { ReferralOutcome } from "../bindings/ReferralOutcome";

/** The referrals with this service's outcome set: one referral per service, a second click changes it. */
export function withReferral(referrals: Referral[], service: { service_id: string; name: string }, outcome: ReferralOutcome): Referral[] {
  const existing = referrals.findIndex((r) => r.service_id === service.service_id);
  const referral: Referral = { service_id: service.service_id, service_name: service.name, outcome };
  if (existing < 0) return [...referrals, referral];
  return referrals.map((r, i) => (i === existing ? { ...r, outcome } : r));
}

export function withoutReferral(referrals: Referral[], serviceId: string): Referral[] {
  return referrals.filter((r) => r.service_id !== serviceId);
}

export function outcomeFor(referrals: Referral[], serviceId: string): ReferralOutcome | null {
  return referrals.find((r) => r.service_id === serviceId)?.outcome ?? null;
}
