// Drag and drop (HTML5) of cards between places and stages, and of stage headers along the
// map; the Move buttons and Alt + arrow keys (keyboard.js) do the same without a mouse.

import { h } from "./dom.js";
import { moveStage, moveTouchpoint } from "./structure.js";
import { view } from "./view.js";

// The drag under way: {type: "touchpoint" | "stage", id, element, target: where it would drop}.
let drag = null;
// Where the pointer went down: a drag that starts in a text field selects text instead.
let pointerOrigin = null;

export function bindDragAndDrop(root) {
  root.addEventListener("pointerdown", (event) => {
    pointerOrigin = event.target;
  });
  document.addEventListener("pointerup", () => {
    pointerOrigin = null;
  });
  root.addEventListener("dragstart", onDragStart);
  root.addEventListener("dragover", onDragOver);
  root.addEventListener("drop", onDrop);
  root.addEventListener("dragend", endDrag);
}

function onDragStart(event) {
  if (pointerOrigin && pointerOrigin.closest?.("input, textarea, select, [contenteditable]")) {
    event.preventDefault();
    return;
  }
  const card = event.target.closest?.(".tp-card");
  const header = !card && event.target.closest?.(".stage-header");
  if (card) {
    drag = { type: "touchpoint", id: Number(card.dataset.id), target: null, element: card.closest(".tp-item") };
  } else if (header) {
    const column = header.closest(".stage-column");
    drag = { type: "stage", id: Number(column.dataset.id), target: null, element: column };
  } else {
    return;
  }
  if (event.dataTransfer) {
    event.dataTransfer.effectAllowed = "move";
    try {
      event.dataTransfer.setData("text/plain", `momentmap:${drag.type}:${drag.id}`);
    } catch {
      /* some synthetic events carry a read-only DataTransfer */
    }
  }
  const element = drag.element;
  requestAnimationFrame(() => element.classList.add("is-dragging"));
  view.root.classList.add(drag.type === "stage" ? "is-dragging-stage" : "is-dragging-touchpoint");
}

function marker() {
  let element = view.root.querySelector(".drop-marker");
  if (!element) element = h("li", { class: "drop-marker", "aria-hidden": "true" });
  return element;
}

function onDragOver(event) {
  const { root, stageRow } = view;
  if (!drag) return;
  if (drag.type === "touchpoint") {
    const column = event.target.closest?.(".stage-column[data-id]");
    if (!column) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
    const list = column.querySelector(".tp-list");
    const items = [...list.querySelectorAll(":scope > .tp-item")].filter((li) => li !== drag.element);
    let index = items.findIndex((li) => {
      const box = li.getBoundingClientRect();
      return event.clientY < box.top + box.height / 2;
    });
    if (index < 0) index = items.length;
    drag.target = { stageId: Number(column.dataset.id), index };
    const element = marker();
    const before = items[index] || null;
    if (element.parentNode !== list || element.nextSibling !== before) list.insertBefore(element, before);
    for (const c of root.querySelectorAll(".stage-column.is-drop-target")) if (c !== column) c.classList.remove("is-drop-target");
    column.classList.add("is-drop-target");
  } else {
    const columns = [...stageRow.querySelectorAll(":scope > .stage-column[data-id]")].filter((c) => c !== drag.element);
    if (!event.target.closest?.(".stage-row")) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
    let index = columns.findIndex((c) => {
      const box = c.getBoundingClientRect();
      return event.clientX < box.left + box.width / 2;
    });
    if (index < 0) index = columns.length;
    drag.target = { index };
    let element = root.querySelector(".stage-drop-marker");
    if (!element) element = h("div", { class: "stage-drop-marker", "aria-hidden": "true" });
    const before = columns[index] || stageRow.querySelector(".add-stage");
    if (element.nextSibling !== before) stageRow.insertBefore(element, before);
  }
}

function onDrop(event) {
  if (!drag) return;
  event.preventDefault();
  const current = drag;
  endDrag();
  if (!current.target) return;
  if (current.type === "touchpoint") {
    moveTouchpoint(current.id, current.target.stageId, current.target.index, `tp:${current.id}`);
  } else {
    moveStage(current.id, current.target.index, `stage:${current.id}:name`);
  }
}

function endDrag() {
  const { root } = view;
  for (const element of root.querySelectorAll(".drop-marker, .stage-drop-marker")) element.remove();
  for (const element of root.querySelectorAll(".is-dragging, .is-drop-target")) {
    element.classList.remove("is-dragging", "is-drop-target");
  }
  root.classList.remove("is-dragging-stage", "is-dragging-touchpoint");
  drag = null;
}
