// The keyboard: Alt + arrow keys move the focused card (up and down in its stage, left and
// right to the previous or next stage) or stage header; Enter saves a one-line field; Escape
// undoes an unsaved edit or closes the Move menu.

import { saveField } from "./edits.js";
import { gettext } from "./i18n.js";
import { closeMoveMenu, idsOf } from "./render.js";
import { locate, state } from "./state.js";
import { moveTouchpoint, shiftStage } from "./structure.js";
import { announce, clearFieldError } from "./view.js";

const DIRECTIONS = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "prev", ArrowRight: "next" };

export function bindKeyboard(root) {
  root.addEventListener("keydown", onKeyDown);
}

/** Move a touchpoint one step: direction "up", "down", "prev" or "next" (stage). */
export function keyboardMove(id, direction, focusKey) {
  const found = locate(id);
  if (!found) return;
  const stages = state.journey.stages;
  const stageIndex = stages.indexOf(found.stage);
  if (direction === "up" && found.index > 0) {
    moveTouchpoint(id, found.stage.id, found.index - 1, focusKey);
  } else if (direction === "down" && found.index < found.stage.touchpoints.length - 1) {
    moveTouchpoint(id, found.stage.id, found.index + 1, focusKey);
  } else if ((direction === "prev" || direction === "next")) {
    const target = stages[stageIndex + (direction === "prev" ? -1 : 1)];
    if (target) moveTouchpoint(id, target.id, Math.min(found.index, target.touchpoints.length), focusKey);
    else announce(direction === "prev" ? gettext("Already in the first stage.") : gettext("Already in the last stage."));
  } else {
    announce(direction === "up" ? gettext("Already first in its stage.") : gettext("Already last in its stage."));
  }
}

function onKeyDown(event) {
  const target = event.target;
  const isText = target.matches("input, textarea, select");
  if (event.key === "Escape") {
    if (target.dataset.field && isText && target.tagName !== "SELECT" && target.value !== target.defaultValue) {
      target.value = target.defaultValue; // undo the unsaved edit
      clearFieldError(target.dataset.focus);
      event.preventDefault();
      return;
    }
    const card = target.closest(".tp-card");
    if (state.ui.openMoveMenu !== null && card && Number(card.dataset.id) === state.ui.openMoveMenu) {
      event.preventDefault();
      closeMoveMenu(true);
    }
    return;
  }
  if (event.key === "Enter" && target.matches("input[data-field], textarea.single-line")) {
    event.preventDefault();
    if (target.value !== target.defaultValue) saveField(target);
    return;
  }
  if (!event.altKey || event.ctrlKey || event.metaKey || isText) return;
  const direction = DIRECTIONS[event.key];
  if (!direction) return;
  const card = target.closest(".tp-card");
  if (card) {
    event.preventDefault(); // Alt+Left would otherwise go back in the browser's history
    keyboardMove(Number(card.dataset.id), direction, `tp:${card.dataset.id}`);
    return;
  }
  const header = target.closest(".stage-header");
  if (header && (direction === "prev" || direction === "next")) {
    event.preventDefault();
    const { stageId } = idsOf(header);
    const key = target.dataset.focus || `stage:${stageId}:left`;
    shiftStage(stageId, direction === "prev" ? -1 : 1, key);
  }
}
