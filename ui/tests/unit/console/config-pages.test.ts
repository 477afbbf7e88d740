import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import CodesInUseList from "../../../src/console/config/CodesInUseList.svelte";
import { changesBetween, withLabel, withTerm, withoutTerm } from "../../../src/console/config/draft";
import { factsOf, fieldOf, formOf } from "../../../src/console/directory/facts";
import { config } from "./review-fixtures";

describe("the configuration draft", () => {
  it("lists a relabel, an addition and a removal, and leaves the saved copy alone", () => {
    const [first, second] = config.vocabularies.call_types!;
    let draft = withLabel(config, "call_types", first.code, "Renamed");
    draft = withTerm(draft, "call_types", { code: " new_code ", label: " New " });
    draft = withoutTerm(draft, "call_types", second.code);
    expect(changesBetween(config, draft)).toEqual([
      { vocabulary: "call_types", code: first.code, kind: "relabelled", before: first.label, after: "Renamed" },
      { vocabulary: "call_types", code: "new_code", kind: "added", after: "New" },
      { vocabulary: "call_types", code: second.code, kind: "removed", before: second.label },
    ]);
    expect(config.vocabularies.call_types![0].label).toBe(first.label);
    expect(changesBetween(config, config)).toEqual([]);
  });
});

describe("the codes in use", () => {
  it("lists the reports and offers every current code of the vocabulary as the mapping", async () => {
    const onchoose = vi.fn();
    const [kept] = config.vocabularies.call_types!;
    render(CodesInUseList, {
      props: {
        check: {
          version: 3,
          removed: [{ vocabulary: "call_types", code: "gone" }],
          codes_in_use: [{ vocabulary: "call_types", code: "gone" }],
          reports: [{ encounter_id: "e-1", version: 2, field: "call.call_type", vocabulary: "call_types", code: "gone" }],
          total: 1,
        },
        config,
        mapping: {},
        error: "mapping names codes the configuration does not have: call_types.x",
        onchoose,
      },
    });
    expect(screen.getByTestId("config-codes-in-use")).toHaveTextContent("1 use");
    expect(within(screen.getByTestId("config-use")).getByText("call.call_type")).toBeInTheDocument();
    expect(screen.getByTestId("config-error-mapping")).toHaveTextContent("call_types.x");
    const select = screen.getByTestId("config-mapping-select") as HTMLSelectElement;
    expect(select.options.length).toBe(config.vocabularies.call_types!.length + 1);
    await fireEvent.change(select, { target: { value: kept.code } });
    expect(onchoose).toHaveBeenCalledWith("call_types", "gone", kept.code);
  });
});

describe("the local facts form", () => {
  it("turns the form into the document the server takes, and back", () => {
    const form = formOf(undefined, "America/Chicago");
    expect(factsOf(form)).toEqual({});
    form.hours = "always_open";
    form.dropoffs = "no";
    form.intakePhone = " 303 555 0142 ";
    const facts = factsOf(form);
    expect(facts).toEqual({ accepts_dropoffs: false, hours: { kind: "always_open" }, intake_phone: "303 555 0142" });
    expect(formOf(facts, "UTC")).toMatchObject({ dropoffs: "no", hours: "always_open", intakePhone: "303 555 0142" });
    expect(fieldOf("hours.periods.0.days: unknown day")).toBe("hours.periods.0.days");
    expect(fieldOf("no field here")).toBeNull();
  });
});
