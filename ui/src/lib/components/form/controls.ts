// What every section of the encounter form gets from the form: the draft's errors, required
// fields and format errors live in the form; each section only shows its own fields.
import type { Component } from "svelte";
import type { AgencyConfig } from "../../bindings/AgencyConfig";
import type { Encounter } from "../../bindings/Encounter";
import type { Backend } from "../../backend/types";

export interface FormControls {
  backend: Backend;
  config: AgencyConfig;
  /** The message to show beside a field, if any. */
  errorFor(path: string): string | null;
  required(path: string): boolean;
  /** Reports (a message) or clears (null) a field's input that cannot be read. */
  formatError(path: string): (message: string | null) => void;
  /** Opens Find services for this draft (`place`: to set its location on the map); absent when the app has no such screen. */
  readonly findServices: ((place: boolean) => void) | undefined;
  /** The needs chosen for the suggestions (they are not part of the report). */
  needs: string[];
  suggestDelayMs: number;
}

export interface SectionProps {
  encounter: Encounter;
  form: FormControls;
}

export type SectionComponent = Component<SectionProps, {}, "encounter">;
