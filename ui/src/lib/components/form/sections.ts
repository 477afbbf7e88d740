// Which component draws each section of layout.ts's SECTIONS.
import CallSection from "./CallSection.svelte";
import type { SectionComponent } from "./controls";
import CrisisSection from "./CrisisSection.svelte";
import DispositionSection from "./DispositionSection.svelte";
import NarrativeSection from "./NarrativeSection.svelte";
import ReferralsSection from "./ReferralsSection.svelte";
import ResponseSection from "./ResponseSection.svelte";
import RiskSection from "./RiskSection.svelte";
import SubjectSection from "./SubjectSection.svelte";

export const SECTION_COMPONENTS: Record<string, SectionComponent> = {
  call: CallSection,
  subject: SubjectSection,
  crisis: CrisisSection,
  risk: RiskSection,
  response: ResponseSection,
  disposition: DispositionSection,
  referrals: ReferralsSection,
  narrative: NarrativeSection,
};
