// The persona panel: a switcher between the journey's personas and the chosen one's facts.

import { h } from "./dom.js";
import { gettext } from "./i18n.js";
import { state } from "./state.js";
import { view } from "./view.js";

export function renderPersonas() {
  const { personaPanel } = view;
  const { ui } = state;
  const personas = state.journey.personas || [];
  personaPanel.replaceChildren(h("h2", { id: "persona-heading", class: "panel-heading", text: gettext("Persona") }));
  if (!personas.length) {
    personaPanel.append(h("p", { class: "muted", text: gettext("No persona is attached to this journey.") }));
    return;
  }
  if (!personas.some((p) => p.id === ui.personaId)) ui.personaId = personas[0].id;
  const select = h("select", { id: "persona-select", class: "persona-select" });
  for (const persona of personas) {
    select.append(h("option", { value: String(persona.id), selected: persona.id === ui.personaId }, persona.name));
  }
  const body = h("div", { class: "persona-body", "aria-live": "polite" });
  const fill = () => {
    const persona = personas.find((p) => p.id === ui.personaId) || personas[0];
    const rows = [];
    for (const [label, value] of [
      [gettext("Description"), persona.description],
      [gettext("Goals"), persona.goals],
      [gettext("Frustrations"), persona.frustrations],
    ]) {
      if (value) rows.push(h("div", {}, h("dt", { text: label }), h("dd", { text: value })));
    }
    body.replaceChildren(rows.length
      ? h("dl", { class: "persona-facts" }, rows)
      : h("p", { class: "muted", text: gettext("No description yet.") }));
  };
  select.addEventListener("change", () => {
    ui.personaId = Number(select.value);
    fill();
  });
  personaPanel.append(
    h("div", { class: "persona-switch" },
      h("label", { for: "persona-select", class: "visually-hidden", text: gettext("Persona") }), select),
    body,
  );
  fill();
}
