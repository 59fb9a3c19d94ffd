// The editor's frame, built once (the render modules fill its parts), and the messages it
// shows: the save status, announcements for screen readers and errors beside fields.

import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { state } from "./state.js";

const lane = h("div", { class: "emotion-lane" });
const stageRow = h("div", { class: "stage-row" });
const track = h("div", { class: "map-track" }, lane, stageRow);

export const view = {
  root: null, // the #journey-editor element, set by mountView()
  status: h("p", { class: "save-status", role: "status", "aria-live": "polite" }),
  conflictBox: h("div", { class: "conflict-box", role: "alert" }),
  announcer: h("p", { class: "visually-hidden", "aria-live": "polite" }),
  personaPanel: h("section", { class: "persona-panel", "aria-labelledby": "persona-heading" }),
  lane, // the emotion curve
  stageRow, // the stage columns
  track,
  scroller: h(
    "div",
    { class: "map-scroll", role: "region", "aria-label": gettext("Journey map"), tabindex: "0" },
    track,
  ),
};

/** Replace the server-rendered map in `root` with the editor's frame. */
export function mountView(root) {
  const { canEdit } = state;
  view.root = root;
  const moveHint = h("p", { id: "tp-move-hint", class: "visually-hidden" },
    gettext("Drag to move, or press Alt with the arrow keys: up and down within the stage, left and right to the previous or next stage."));
  const stageMoveHint = h("p", { id: "stage-move-hint", class: "visually-hidden" },
    gettext("Drag the stage header to reorder, or press Alt with the left and right arrow keys."));
  root.replaceChildren();
  root.classList.add("is-live", canEdit ? "is-editable" : "is-readonly");
  const bar = h("div", { class: "editor-bar" }, view.personaPanel);
  if (canEdit) {
    bar.append(h("div", { class: "save-box" }, view.status));
    setStatus(gettext("Changes save automatically as you edit."), "idle");
  }
  root.append(bar, view.conflictBox, view.announcer, moveHint, stageMoveHint);
  if (canEdit) {
    root.append(h("p", { class: "editor-tip muted" },
      gettext("Drag cards and stage headers to reorder them. With the keyboard, focus a card and press Alt + arrow keys, or use its Move button.")));
  }
  root.append(view.scroller);
}

/** The element with a focus key (data-focus): "tp:7:name", "stage:3:left", "new-stage:name"… */
export function field(key) {
  return view.root.querySelector(`[data-focus="${CSS.escape(key)}"]`);
}

// --- Status and announcements

export function notSaved(reason) {
  return interpolate(gettext("Not saved: %(reason)s"), { reason }, true);
}

export function notMoved(reason) {
  return interpolate(gettext("Not moved: %(reason)s"), { reason }, true);
}

/** `phase`: "idle", "saving", "saved" or "error" (journeys.css styles the last three). */
export function setStatus(text, phase) {
  view.status.textContent = text;
  view.status.dataset.state = phase;
}

export function announce(text) {
  const { announcer } = view;
  announcer.textContent = "";
  // A fresh text node each time, so that repeating the same message is announced again.
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

// --- Errors beside fields (kept in state.ui.errors, so a re-render shows them again)

export function showFieldError(key, message) {
  state.ui.errors.set(key, message);
  const element = field(key);
  if (!element) return;
  const errorId = `${key.replace(/[^A-Za-z0-9_-]/g, "-")}-error`;
  element.setAttribute("aria-invalid", "true");
  let note = document.getElementById(errorId);
  if (!note) {
    note = h("p", { class: "field-error", id: errorId });
    element.insertAdjacentElement("afterend", note);
  }
  note.textContent = message;
  const described = (element.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(errorId)) element.setAttribute("aria-describedby", [...described, errorId].join(" "));
}

export function clearFieldError(key) {
  state.ui.errors.delete(key);
  const element = field(key);
  if (!element) return;
  const errorId = `${key.replace(/[^A-Za-z0-9_-]/g, "-")}-error`;
  element.removeAttribute("aria-invalid");
  document.getElementById(errorId)?.remove();
  const described = (element.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== errorId);
  if (described.length) element.setAttribute("aria-describedby", described.join(" "));
  else element.removeAttribute("aria-describedby");
}
