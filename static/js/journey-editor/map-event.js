// Mapping an event name from the events page: `?map_event=NAME&stage=ID` opens the editor with
// a note saying what to do, the stage's "New touchpoint" field focused with a suggested name,
// and the next touchpoint added (in any stage) listing the event. A name that the map already
// lists elsewhere is refused by the server with its reason, as for any edit.

import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { state } from "./state.js";
import { field, view } from "./view.js";

// As journeys.models.EVENT_NAME.
const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const note = h("p", { class: "message info map-event-note", role: "status" });

/** The event to map, from the page's address; null without a valid one. */
export function readMapEvent(search) {
  const params = new URLSearchParams(search);
  const name = params.get("map_event") || "";
  if (!EVENT_NAME.test(name)) return null;
  return { name, stageId: Number(params.get("stage")) || null };
}

/** "wishlist_add" → "Wishlist add": a first name for the touchpoint, which the user edits. */
function suggestedName(eventName) {
  const words = eventName.replace(/[_.:-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function startMapEvent() {
  const pending = state.ui.mapEvent;
  if (!pending || !state.canEdit) return;
  const stages = state.journey.stages;
  const stage = stages.find((s) => s.id === pending.stageId) || stages[0];
  note.replaceChildren(
    h("strong", { text: interpolate(gettext("Mapping the event %(name)s."), { name: pending.name }, true) }),
    " ",
    gettext("Add a touchpoint (the field is ready below) and it will list this event; or open an existing touchpoint's details and add the name to its event names."),
  );
  view.root.insertBefore(note, view.scroller);
  if (!stage) return;
  const input = field(`stage:${stage.id}:new`);
  if (!input) return;
  input.value = suggestedName(pending.name);
  input.scrollIntoView({ block: "nearest", inline: "center" });
  input.focus();
  input.select();
}

/** The event names a touchpoint added now lists: the event being mapped, if any. */
export function pendingEventNames() {
  return state.ui.mapEvent ? [state.ui.mapEvent.name] : [];
}

/** A touchpoint listing the event was saved: the mapping is done. */
export function mapEventDone(touchpointName, stageName) {
  const pending = state.ui.mapEvent;
  if (!pending) return;
  state.ui.mapEvent = null;
  note.replaceChildren(interpolate(
    gettext("The event %(event)s is now mapped to “%(touchpoint)s” in “%(stage)s”."),
    { event: pending.name, touchpoint: touchpointName, stage: stageName },
    true,
  ));
}
