// Building the map from the state: the stage columns with their cards, and the "Add a stage"
// column. A re-render keeps the focus, the sideways scroll, typed-but-unsaved text and the
// errors beside fields.

import { touchpointCard } from "./card.js";
import { drawCurve } from "./curve.js";
import { autosize, h, labelled } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { experimentsList, measuredLine } from "./measured.js";
import { MOMENT_ORDER, locate, state } from "./state.js";
import { field, showFieldError, view } from "./view.js";

/** The touchpoint and stage ids of the card and column an element is in (null outside one). */
export function idsOf(element) {
  const card = element.closest(".tp-card");
  const column = element.closest(".stage-column[data-id]");
  return {
    touchpointId: card ? Number(card.dataset.id) : null,
    stageId: column ? Number(column.dataset.id) : null,
  };
}

/** Rebuild the map; keep focus, the sideways scroll and any typed-but-unsaved text. */
export function renderMap({ focusKey = null, keepDirty = true } = {}) {
  const { root, scroller, stageRow } = view;
  const { ui } = state;
  const active = document.activeElement;
  const activeKey = active && root.contains(active) ? active.dataset.focus : null;
  const selection =
    active && "selectionStart" in active && typeof active.selectionStart === "number"
      ? [active.selectionStart, active.selectionEnd]
      : null;
  const dirty = new Map();
  if (keepDirty) {
    for (const element of stageRow.querySelectorAll("input[data-focus], textarea[data-focus]")) {
      if (element.value !== element.defaultValue) dirty.set(element.dataset.focus, element.value);
    }
  }
  const scrollLeft = scroller.scrollLeft;

  ui.rendering = true;
  stageRow.replaceChildren(...buildColumns());
  for (const [key, value] of dirty) {
    const element = field(key);
    if (element) element.value = value;
  }
  autosize(stageRow);
  for (const [key, message] of ui.errors) showFieldError(key, message);
  scroller.scrollLeft = scrollLeft;
  const target = focusable(focusKey) || focusable(activeKey);
  if (target) {
    target.focus({ preventScroll: Boolean(!focusKey) });
    if (!focusKey && selection && "setSelectionRange" in target) {
      try {
        target.setSelectionRange(...selection);
      } catch {
        /* not a text field */
      }
    }
    if (focusKey) target.scrollIntoView({ block: "nearest", inline: "nearest" });
  } else if (activeKey || focusKey) {
    scroller.focus({ preventScroll: true });
  }
  ui.rendering = false;
  drawCurve();
}

/** Replace one card (keeping focus and unsaved text); returns the new card element. */
export function rerenderCard(id, focusKey = null) {
  const { ui } = state;
  const found = locate(id);
  const old = view.stageRow.querySelector(`.tp-item[data-id="${id}"]`);
  if (!found || !old) return null;
  const active = document.activeElement;
  const activeKey = active && old.contains(active) ? active.dataset.focus : null;
  const selection = active && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
  const dirty = new Map();
  for (const element of old.querySelectorAll("input[data-focus], textarea[data-focus]")) {
    if (element.value !== element.defaultValue) dirty.set(element.dataset.focus, [element.value, element.defaultValue]);
  }
  const stageIndex = state.journey.stages.indexOf(found.stage);
  const item = touchpointCard(found.touchpoint, found.stage, stageIndex, found.index);
  ui.rendering = true;
  old.replaceWith(item);
  autosize(item);
  for (const [key, [value, base]] of dirty) {
    const element = field(key);
    if (!element) continue;
    // If the saved value moved on (the save finished), keep what the user typed since.
    if (element.defaultValue !== base && value === base) continue;
    element.value = value;
  }
  for (const [key, message] of ui.errors) if (item.querySelector(`[data-focus="${CSS.escape(key)}"]`)) showFieldError(key, message);
  const target = focusable(focusKey) || focusable(activeKey);
  if (target) {
    target.focus({ preventScroll: true });
    if (selection && !focusKey && "setSelectionRange" in target) {
      try {
        target.setSelectionRange(...selection);
      } catch {
        /* not a text field */
      }
    }
  } else if (activeKey) {
    item.querySelector(".tp-card").focus({ preventScroll: true });
  }
  ui.rendering = false;
  return item;
}

/** Close the open Move menu; `focusButton`: put the focus back on its Move button. */
export function closeMoveMenu(focusButton) {
  const { ui } = state;
  const id = ui.openMoveMenu;
  ui.openMoveMenu = null;
  if (id !== null && locate(id)) rerenderCard(id, focusButton ? `tp:${id}:move` : null);
}

/** The element for a focus key, or its card or stage when it is gone or disabled. */
function focusable(key) {
  if (!key) return null;
  const parts = key.split(":");
  const candidates = [key];
  if (parts[0] === "tp") candidates.push(`tp:${parts[1]}`);
  if (parts[0] === "stage") candidates.push(`stage:${parts[1]}:name`);
  for (const candidate of candidates) {
    const element = field(candidate);
    if (element && !element.disabled && element.offsetParent !== null) return element;
  }
  return null;
}

function buildColumns() {
  const { canEdit, journey } = state;
  const columns = [];
  if (!journey.stages.length) {
    columns.push(
      h("div", { class: "map-empty" },
        h("p", {}, h("strong", { text: gettext("This journey has no stages yet.") })),
        canEdit
          ? h("p", {
              text: gettext(
                "Add a stage for each moment of truth (for example ZMOT “Researches”) with the form beside this note, then add touchpoints to it.",
              ),
            })
          : h("p", { text: gettext("An editor can add stages and touchpoints.") }),
      ),
    );
  }
  journey.stages.forEach((stage, index) => columns.push(stageColumn(stage, index)));
  if (canEdit) columns.push(addStageColumn());
  return columns;
}

function stageColumn(stage, index) {
  const { canEdit, momentLabels, ui } = state;
  const count = state.journey.stages.length;
  const headingId = `stage-${stage.id}-heading`;
  const header = h("header", { class: "stage-header" });
  const badge = stage.moment
    ? h("span", { class: "moment-code", title: momentLabels.get(stage.moment) || "" }, stage.moment)
    : h("span", { class: "moment-code custom", text: gettext("Custom") });
  const top = h("div", { class: "stage-top" }, badge);
  if (canEdit) {
    header.draggable = true;
    top.append(
      h("span", { class: "grip", "aria-hidden": "true", title: gettext("Drag to reorder") }, "⠿"),
      h("span", { class: "stage-tools" },
        h("button", {
          type: "button", class: "icon secondary", "data-action": "stage-left",
          "data-focus": `stage:${stage.id}:left`, "aria-describedby": "stage-move-hint",
          "aria-label": interpolate(gettext("Move stage “%(name)s” left"), { name: stage.name }, true),
          title: gettext("Move left"),
          disabled: index === 0,
        }, "←"),
        h("button", {
          type: "button", class: "icon secondary", "data-action": "stage-right",
          "data-focus": `stage:${stage.id}:right`, "aria-describedby": "stage-move-hint",
          "aria-label": interpolate(gettext("Move stage “%(name)s” right"), { name: stage.name }, true),
          title: gettext("Move right"),
          disabled: index === count - 1,
        }, "→"),
        h("button", {
          type: "button", class: "icon secondary danger-text", "data-action": "stage-delete",
          "data-focus": `stage:${stage.id}:delete`,
          "aria-label": interpolate(gettext("Delete stage “%(name)s”"), { name: stage.name }, true),
          title: gettext("Delete stage"),
        }, "✕"),
      ),
    );
    header.append(
      top,
      h("h2", { class: "stage-name", id: headingId },
        h("textarea", {
          class: "stage-name-input single-line", value: stage.name, maxlength: "120", rows: "1",
          "aria-label": gettext("Stage name"), "data-field": "name", "data-focus": `stage:${stage.id}:name`,
          autocomplete: "off",
        }),
      ),
    );
    const open = ui.openStageDetails.has(stage.id);
    const panelId = `stage-${stage.id}-details`;
    if (stage.customer_goal && !open) {
      header.append(h("p", { class: "stage-goal" }, h("span", { class: "label", text: `${gettext("Goal:")} ` }), stage.customer_goal));
    }
    header.append(
      h("button", {
        type: "button", class: "link-button", "data-action": "stage-details",
        "aria-expanded": String(open), "aria-controls": panelId,
        "data-focus": `stage:${stage.id}:details`,
      }, open ? gettext("Hide stage details") : gettext("Stage details")),
      h("div", { class: "stage-details", id: panelId, hidden: !open },
        labelled(`stage-${stage.id}-moment`, gettext("Moment of truth"), momentSelect(stage)),
        labelled(`stage-${stage.id}-goal`, gettext("Customer goal"),
          h("textarea", { rows: "2", value: stage.customer_goal, "data-field": "customer_goal",
            "data-focus": `stage:${stage.id}:customer_goal` })),
        labelled(`stage-${stage.id}-description`, gettext("Description"),
          h("textarea", { rows: "3", value: stage.description, "data-field": "description",
            "data-focus": `stage:${stage.id}:description` })),
      ),
    );
  } else {
    header.append(top, h("h2", { class: "stage-name", id: headingId, text: stage.name }));
    if (stage.customer_goal) {
      header.append(h("p", { class: "stage-goal" }, h("span", { class: "label", text: `${gettext("Goal:")} ` }), stage.customer_goal));
    }
    if (stage.description) header.append(h("p", { class: "stage-description", text: stage.description }));
  }

  const measured = measuredLine(stage);
  if (measured) header.append(measured);
  const experiments = experimentsList(stage);
  if (experiments) header.append(experiments);

  const list = h("ol", { class: "tp-list", "aria-labelledby": headingId });
  stage.touchpoints.forEach((touchpoint, i) => list.append(touchpointCard(touchpoint, stage, index, i)));
  if (!stage.touchpoints.length) {
    list.append(h("li", { class: "tp-empty", text: canEdit
      ? gettext("No touchpoints yet: add one below or drag one here.")
      : gettext("No touchpoints yet.") }));
  }
  const column = h("section", {
    class: "stage-column", dataset: { id: stage.id }, "aria-labelledby": headingId,
  }, header, list);
  if (canEdit) {
    const inputId = `stage-${stage.id}-new`;
    column.append(
      h("form", { class: "add-touchpoint", "data-action": "add-touchpoint" },
        h("label", { for: inputId, class: "visually-hidden",
          text: interpolate(gettext("New touchpoint in “%(stage)s”"), { stage: stage.name }, true) }),
        h("input", { type: "text", id: inputId, placeholder: gettext("New touchpoint…"), maxlength: "160",
          "data-focus": `stage:${stage.id}:new`, autocomplete: "off", value: "" }),
        h("button", { type: "submit", class: "secondary", "data-focus": `stage:${stage.id}:add`,
          "aria-label": interpolate(gettext("Add touchpoint to “%(stage)s”"), { stage: stage.name }, true) },
        gettext("Add")),
      ),
    );
  }
  return column;
}

function momentSelect(stage, { forNew = false } = {}) {
  const { momentLabels } = state;
  const used = new Set(state.journey.stages.filter((s) => s !== stage && s.moment).map((s) => s.moment));
  const select = h("select", forNew
    ? { "data-focus": "new-stage:moment", name: "moment" }
    : { "data-field": "moment", "data-focus": `stage:${stage.id}:moment` });
  select.append(h("option", { value: "", selected: !stage || !stage.moment }, gettext("Custom stage (no code)")));
  for (const code of MOMENT_ORDER) {
    const label = momentLabels.get(code) || code;
    const taken = used.has(code);
    select.append(h("option", {
      value: code, selected: stage && stage.moment === code, disabled: taken,
    }, taken
      ? interpolate(gettext("%(code)s — %(label)s (used)"), { code, label }, true)
      : `${code} — ${label}`));
  }
  return select;
}

function addStageColumn() {
  const nameInput = h("input", { type: "text", id: "new-stage-name", maxlength: "120",
    placeholder: gettext("e.g. Researches"), "data-focus": "new-stage:name", name: "name", autocomplete: "off", value: "" });
  const moment = momentSelect(null, { forNew: true });
  moment.id = "new-stage-moment";
  return h("section", { class: "stage-column add-stage", "aria-labelledby": "add-stage-heading" },
    h("h2", { id: "add-stage-heading", class: "add-stage-heading", text: gettext("Add a stage") }),
    h("form", { class: "add-stage-form", "data-action": "add-stage" },
      h("div", { class: "field" }, h("label", { for: "new-stage-name", text: gettext("Stage name") }), nameInput),
      h("div", { class: "field" }, h("label", { for: "new-stage-moment", text: gettext("Moment of truth") }), moment),
      h("button", { type: "submit", "data-focus": "new-stage:add" }, gettext("Add stage")),
    ),
  );
}
