// The write queue. Every write names the journey version it is based on, so writes run one
// after the other (each needs the version the previous one returned). A refused write puts its
// change back; a stale version (409) shows a persistent message with a Reload button.

import { ApiError, api } from "./api.js";
import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { renderPersonas } from "./personas.js";
import { renderMap } from "./render.js";
import { setJourney, state } from "./state.js";
import { notSaved, setStatus, view } from "./view.js";

const queue = [];
let running = false;
let batchFailed = false;

/** Whether a write is running or waiting (leaving the page now would lose it). */
export function hasPendingWrites() {
  return running || queue.length > 0;
}

/**
 * op: {describe, run(): Promise, revert?(), invalid?(error), keepStatus?}. `describe` says
 * what the change was, listed under "Not saved:" after a conflict.
 */
export function enqueue(op) {
  queue.push(op);
  if (!running) drain();
}

async function drain() {
  const { ui } = state;
  running = true;
  batchFailed = false;
  let keepStatus = false;
  setStatus(gettext("Saving…"), "saving");
  while (queue.length) {
    const op = queue.shift();
    keepStatus = Boolean(op.keepStatus);
    try {
      await op.run();
    } catch (error) {
      if (op.keepStatus) continue;
      batchFailed = true;
      if (!(error instanceof ApiError)) {
        console.error(error);
        setStatus(notSaved(error.message), "error");
        continue;
      }
      if (error.status === 409 && error.code === "version_conflict") {
        if (op.revert) op.revert();
        showConflict(error, op.describe);
      } else if (error.status === 400 && op.invalid) {
        if (op.revert) op.revert();
        op.invalid(error);
      } else {
        if (op.revert) op.revert();
        setStatus(notSaved(error.messages().join(" ")), "error");
      }
    }
  }
  running = false;
  if (!batchFailed && !ui.conflict && !keepStatus) {
    if (ui.errors.size) {
      setStatus(gettext("Some changes are not saved: fix the highlighted fields."), "error");
    } else {
      setStatus(gettext("All changes saved"), "saved");
    }
  }
}

function showConflict(error, description) {
  const { ui } = state;
  ui.conflict = {
    current: error.details.current_version,
    yours: error.details.your_version,
  };
  if (description) ui.unsaved.push(description);
  view.conflictBox.replaceChildren(
    h("div", { class: "conflict message error" },
      h("p", {}, h("strong", { text: gettext("Someone else changed this journey while you were editing.") }),
        " ", gettext("Your change was not saved.")),
      ui.unsaved.length
        ? [
            h("p", { class: "conflict-label", text: gettext("Not saved:") }),
            h("ul", { class: "unsaved" }, ui.unsaved.map((text) => h("li", { text }))),
          ]
        : null,
      h("p", { text: gettext("Reload to see their version, then make your change again.") }),
      h("button", { type: "button", class: "reload-button", "data-action": "reload" }, gettext("Reload")),
    ),
  );
  setStatus(gettext("Not saved: someone else changed this journey."), "error");
}

/** Drop the writes still waiting (they are based on the old version), then reload. */
export function reload() {
  queue.length = 0;
  return new Promise((resolve, reject) => {
    enqueue({ describe: null, keepStatus: true, run: () => reloadNow().then(resolve, reject) });
  });
}

async function reloadNow() {
  const { ui } = state;
  const data = await api("GET", state.journeyUrl);
  setJourney(data);
  ui.unsaved = [];
  ui.conflict = null;
  ui.errors.clear();
  ui.openMoveMenu = null;
  view.conflictBox.replaceChildren();
  renderPersonas();
  renderMap({ keepDirty: false });
  setStatus(
    interpolate(gettext("Reloaded: you see the latest version (%(version)s)."), { version: state.journey.version }, true),
    "saved",
  );
  view.scroller.focus();
}
