// The editor's controls: buttons (data-action), the add forms, and fields saved when they
// change (selects) or lose the focus (text).

import { autosize } from "./dom.js";
import { saveField, saveTouchpoint } from "./edits.js";
import { gettext, interpolate } from "./i18n.js";
import { keyboardMove } from "./keyboard.js";
import { closeMoveMenu, idsOf, renderMap, rerenderCard } from "./render.js";
import { reload } from "./saving.js";
import { locate, state } from "./state.js";
import { addStage, addTouchpoint, deleteStage, deleteTouchpoint, shiftStage } from "./structure.js";
import { clearFieldError, setStatus, showFieldError } from "./view.js";

export function bindControls(root) {
  root.addEventListener("click", (event) => onClick(event, root));
  root.addEventListener("submit", (event) => onSubmit(event, root));
  root.addEventListener("change", onChange);
  root.addEventListener("focusout", onFocusOut);
  root.addEventListener("input", (event) => {
    if (event.target.tagName === "TEXTAREA") autosize(event.target.parentNode);
  });
  document.addEventListener("click", (event) => {
    if (state.ui.openMoveMenu !== null && !event.target.closest?.(".tp-move-menu, [data-action='tp-move-menu']")) {
      closeMoveMenu(false);
    }
  });
}

function onClick(event, root) {
  const { ui } = state;
  const button = event.target.closest("button[data-action]");
  if (!button || !root.contains(button)) return;
  const action = button.dataset.action;
  const { touchpointId, stageId } = idsOf(button);
  if (action === "reload") {
    button.disabled = true;
    button.textContent = gettext("Reloading…");
    reload().catch((error) => {
      button.disabled = false;
      button.textContent = gettext("Reload");
      setStatus(interpolate(gettext("Could not reload: %(error)s"), { error: error.message }, true), "error");
    });
  } else if (action === "tp-mot") {
    const { touchpoint } = locate(touchpointId);
    saveTouchpoint(touchpointId, { is_moment_of_truth: !touchpoint.is_moment_of_truth }, {
      describe: interpolate(
        touchpoint.is_moment_of_truth
          ? gettext("Unmark “%(name)s” as a moment of truth")
          : gettext("Mark “%(name)s” as a moment of truth"),
        { name: touchpoint.name },
        true,
      ),
      focusKey: `tp:${touchpointId}:mot`,
      optimistic: true,
    });
  } else if (action === "tp-details") {
    if (ui.openDetails.has(touchpointId)) ui.openDetails.delete(touchpointId);
    else ui.openDetails.add(touchpointId);
    rerenderCard(touchpointId, ui.openDetails.has(touchpointId) ? `tp:${touchpointId}:channel` : `tp:${touchpointId}:details`);
  } else if (action === "tp-move-menu") {
    if (ui.openMoveMenu === touchpointId) {
      closeMoveMenu(true);
    } else {
      const previous = ui.openMoveMenu;
      ui.openMoveMenu = touchpointId;
      if (previous !== null && locate(previous)) rerenderCard(previous);
      const card = rerenderCard(touchpointId);
      const first = card && card.querySelector(".tp-move-menu button:not(:disabled)");
      if (first) first.focus();
    }
  } else if (action === "tp-move") {
    keyboardMove(touchpointId, button.dataset.direction, `tp:${touchpointId}:move-${button.dataset.direction}`);
  } else if (action === "tp-delete") {
    deleteTouchpoint(touchpointId);
  } else if (action === "stage-left" || action === "stage-right") {
    shiftStage(stageId, action === "stage-left" ? -1 : 1, `stage:${stageId}:${action === "stage-left" ? "left" : "right"}`);
  } else if (action === "stage-delete") {
    deleteStage(stageId);
  } else if (action === "stage-details") {
    if (ui.openStageDetails.has(stageId)) ui.openStageDetails.delete(stageId);
    else ui.openStageDetails.add(stageId);
    renderMap({ focusKey: ui.openStageDetails.has(stageId) ? `stage:${stageId}:moment` : `stage:${stageId}:details` });
  }
}

function onSubmit(event, root) {
  const form = event.target;
  if (!root.contains(form)) return;
  event.preventDefault();
  if (form.dataset.action === "add-touchpoint") {
    const input = form.querySelector("input");
    const name = input.value.trim();
    const { stageId } = idsOf(form);
    if (!name) {
      showFieldError(input.dataset.focus, gettext("Give the touchpoint a name."));
      input.focus();
      return;
    }
    clearFieldError(input.dataset.focus);
    addTouchpoint(stageId, name, input.dataset.focus);
  } else if (form.dataset.action === "add-stage") {
    const input = form.querySelector("#new-stage-name");
    const moment = form.querySelector("#new-stage-moment").value;
    const name = input.value.trim();
    if (!name) {
      showFieldError("new-stage:name", gettext("Give the stage a name."));
      input.focus();
      return;
    }
    clearFieldError("new-stage:name");
    addStage(name, moment);
  }
}

function onChange(event) {
  const element = event.target;
  if (element.tagName !== "SELECT" || !element.dataset.field) return;
  saveField(element);
}

function onFocusOut(event) {
  if (state.ui.rendering) return;
  const element = event.target;
  if (!element.dataset || !element.dataset.field) return;
  if (element.tagName === "SELECT") return;
  if (element.value !== element.defaultValue) saveField(element);
}
