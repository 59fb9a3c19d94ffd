// Saving one field of a touchpoint or a stage. The map shows the change at once; a refused
// change is put back, and the field keeps what the user typed, still marked as not saved.

import { write } from "./api.js";
import { drawCurve } from "./curve.js";
import { gettext, interpolate, pgettext } from "./i18n.js";
import { idsOf, renderMap, rerenderCard } from "./render.js";
import { enqueue } from "./saving.js";
import { STAGE_FIELDS, TOUCHPOINT_FIELDS, locate, setVersion, stageById, state } from "./state.js";
import { clearFieldError, field, notSaved, setStatus, showFieldError } from "./view.js";

// The fields as their labels on the map name them, at the start of a change's description
// ("Channel of “Checkout”: “Email”").
const FIELD_LABELS = {
  name: pgettext("name of a thing", "Name"), channel: gettext("Channel"), emotion: gettext("Designed emotion"),
  owner: pgettext("touchpoint owner", "Owner"), pain_points: gettext("Pain points"),
  opportunities: gettext("Opportunities"), event_names: gettext("Event names"), moment: gettext("Moment of truth"),
  customer_goal: gettext("Customer goal"), description: gettext("Description"),
};

function parseEventNames(text) {
  return [...new Set(text.split(/[\s,;]+/).map((name) => name.trim()).filter(Boolean))];
}

/** Save the field `element` (a control with data-field) of its touchpoint or stage. */
export function saveField(element) {
  const name = element.dataset.field;
  const key = element.dataset.focus;
  const { touchpointId, stageId } = idsOf(element);
  let value = element.value;
  if (name === "name") value = value.replace(/\s+/g, " ").trim();
  if (name === "emotion") value = Number(value);
  if (name === "owner") value = value ? Number(value) : null;
  if (name === "event_names") value = parseEventNames(value);
  if (name === "name" && !value) {
    showFieldError(key, touchpointId ? gettext("Give the touchpoint a name.") : gettext("Give the stage a name."));
    setStatus(gettext("Some changes are not saved: fix the highlighted fields."), "error");
    return;
  }
  const shown = Array.isArray(value) ? value.join(", ") : element.tagName === "SELECT"
    ? element.options[element.selectedIndex]?.textContent || ""
    : String(value);
  // Mark as "being saved": a second blur must not send it again.
  if (element.tagName !== "SELECT") element.defaultValue = element.value;
  if (touchpointId) {
    const { touchpoint } = locate(touchpointId);
    const describe = name === "name"
      ? interpolate(gettext("Rename the touchpoint “%(name)s” to “%(value)s”"), { name: touchpoint.name, value }, true)
      : interpolate(
        // Translators: %(field)s is a field's label ("Channel"), %(name)s a touchpoint's name.
        gettext("%(field)s of “%(name)s”: “%(value)s”"),
        { field: FIELD_LABELS[name], name: touchpoint.name, value: shown },
        true,
      );
    saveTouchpoint(touchpointId, { [name]: value }, { describe, key });
  } else if (stageId) {
    const stage = stageById(stageId);
    const describe = name === "name"
      ? interpolate(gettext("Rename the stage “%(name)s” to “%(value)s”"), { name: stage.name, value }, true)
      : interpolate(
        // Translators: %(field)s is a field's label ("Customer goal"), %(name)s a stage's name.
        gettext("%(field)s of the stage “%(name)s”: “%(value)s”"),
        { field: FIELD_LABELS[name], name: stage.name, value: shown },
        true,
      );
    saveStage(stageId, { [name]: value }, { describe, key });
  }
}

/** Restore a field to `value` after a refused save, but keep it marked as edited. */
function keepUnsaved(key, savedText) {
  const element = field(key);
  if (element && element.tagName !== "SELECT") element.defaultValue = savedText;
}

function fieldText(name, value) {
  if (name === "event_names") return value.join(", ");
  if (value === null || value === undefined) return "";
  return String(value);
}

/**
 * key: the focus key of the field being saved. optimistic: re-render the card at once (for a
 * change made with a button rather than typed into a field), focusing `focusKey`.
 */
export function saveTouchpoint(id, changes, { describe, key = null, focusKey = null, optimistic = false }) {
  const found = locate(id);
  if (!found) return;
  const before = Object.fromEntries(Object.keys(changes).map((k) => [k, found.touchpoint[k]]));
  // The map shows the change at once (a re-render before the answer keeps it); a refused
  // change is put back below.
  Object.assign(found.touchpoint, changes);
  if (optimistic) {
    rerenderCard(id, focusKey);
    drawCurve();
  }
  enqueue({
    describe,
    run: async () => {
      const data = await write("PATCH", `${state.apiRoot}touchpoints/${id}/`, state.journey.version, changes);
      setVersion(data);
      const current = locate(id);
      if (!current) return;
      for (const name of TOUCHPOINT_FIELDS) if (name in data) current.touchpoint[name] = data[name];
      if (key) {
        clearFieldError(key);
        const element = field(key);
        const name = Object.keys(changes)[0];
        const text = fieldText(name, data[name]);
        if (element && element.tagName !== "SELECT" && element.value.trim() === element.defaultValue.trim()) {
          element.value = text;
          element.defaultValue = text;
        }
      }
      rerenderCard(id); // keeps the focus where the user is now
      drawCurve();
    },
    revert: () => {
      const current = locate(id);
      if (!current) return;
      Object.assign(current.touchpoint, before);
      if (optimistic) {
        rerenderCard(id);
        drawCurve();
      } else if (key) {
        const name = Object.keys(changes)[0];
        keepUnsaved(key, fieldText(name, before[name]));
        if (field(key)?.tagName === "SELECT") {
          // a select cannot hold "edited" state apart from its value: show the saved one
          rerenderCard(id);
        }
      }
    },
    invalid: (error) => {
      const name = Object.keys(changes)[0];
      const message = error.messages(name).join(" ");
      if (key) showFieldError(key, message);
      setStatus(notSaved(message), "error");
    },
  });
}

function saveStage(id, changes, { describe, key }) {
  const stage = stageById(id);
  const before = Object.fromEntries(Object.keys(changes).map((k) => [k, stage[k]]));
  Object.assign(stage, changes);
  enqueue({
    describe,
    run: async () => {
      const data = await write("PATCH", `${state.apiRoot}stages/${id}/`, state.journey.version, changes);
      setVersion(data);
      const current = stageById(id);
      if (!current) return;
      for (const name of STAGE_FIELDS) if (name in data) current[name] = data[name];
      clearFieldError(key);
      const element = field(key);
      const name = Object.keys(changes)[0];
      if (element && element.tagName !== "SELECT" && element.value.trim() === element.defaultValue.trim()) {
        element.value = data[name];
        element.defaultValue = data[name];
      }
      // Names and moment codes show in several places (labels, other stages' choices).
      renderMap();
    },
    revert: () => {
      const name = Object.keys(changes)[0];
      const current = stageById(id);
      if (current) Object.assign(current, before);
      keepUnsaved(key, fieldText(name, before[name]));
      if (field(key)?.tagName === "SELECT") renderMap();
    },
    invalid: (error) => {
      const name = Object.keys(changes)[0];
      const message = error.messages(name).join(" ");
      showFieldError(key, message);
      setStatus(notSaved(message), "error");
    },
  });
}
