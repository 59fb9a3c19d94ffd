// The journey-map editor: stages as columns, touchpoints as cards, an emotion curve, personas.
//
// Progressive enhancement: the page holds a server-rendered, read-only map; once the journey
// has loaded from the API the editor replaces it with the live editor (or, for viewers, the
// same map without any edit controls). No build step, no libraries: ES modules, loaded from
// this entry point, each importing what it uses.
//
// Every write names the journey version it is based on (saving.js); all user text goes
// through textContent or .value, never HTML (dom.js); every UI string is marked for
// translation (i18n.js).

import { api } from "./api.js";
import { bindControls } from "./controls.js";
import { drawCurve } from "./curve.js";
import { bindDragAndDrop } from "./dnd.js";
import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { bindKeyboard } from "./keyboard.js";
import { readMapEvent, startMapEvent } from "./map-event.js";
import { loadExperiments, loadMeasured } from "./measured.js";
import { renderPersonas } from "./personas.js";
import { renderMap } from "./render.js";
import { hasPendingWrites } from "./saving.js";
import { configure, setJourney, state } from "./state.js";
import { mountView, view } from "./view.js";

const root = document.getElementById("journey-editor");
const configElement = document.getElementById("journey-editor-config");
if (root && configElement) {
  configure(JSON.parse(configElement.textContent), root);
  load(root).catch((error) => {
    console.error(error);
    const note = h("p", { class: "message error", role: "alert" },
      interpolate(
        gettext("The editor could not load (%(error)s). The map below is read-only; reload the page to try again."),
        { error: error.message },
        true,
      ));
    root.prepend(note);
  });
}

async function load(root) {
  setJourney(await api("GET", state.journeyUrl));
  mountView(root);
  if (state.canEdit) {
    bindControls(root);
    bindKeyboard(root);
    bindDragAndDrop(root);
  }
  renderPersonas();
  renderMap();
  loadMeasured(() => renderMap());
  loadExperiments(() => renderMap());
  state.ui.mapEvent = readMapEvent(window.location.search);
  startMapEvent();
  if ("ResizeObserver" in window) {
    let frame = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(drawCurve);
    }).observe(view.stageRow);
  }
  window.addEventListener("beforeunload", (event) => {
    if (hasPendingWrites()) event.preventDefault();
  });
}
