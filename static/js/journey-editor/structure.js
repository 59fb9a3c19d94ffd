// Changes to the map's structure: adding and deleting stages and touchpoints, moving
// touchpoints between places and stages, reordering stages. Moves show at once and are put
// back if the server refuses them.

import { write } from "./api.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { mapEventDone, pendingEventNames } from "./map-event.js";
import { renderMap } from "./render.js";
import { enqueue } from "./saving.js";
import {
  MOMENT_ORDER, STAGE_FIELDS, TOUCHPOINT_FIELDS, locate, pick, placeTouchpoint, renumber,
  setVersion, stageById, state,
} from "./state.js";
import { announce, field, notMoved, notSaved, setStatus, showFieldError } from "./view.js";

export function addTouchpoint(stageId, name, inputKey) {
  const stage = stageById(stageId);
  const eventNames = pendingEventNames();
  enqueue({
    describe: interpolate(gettext("Add the touchpoint “%(name)s” to “%(stage)s”"), { name, stage: stage.name }, true),
    run: async () => {
      const data = await write("POST", `${state.apiRoot}touchpoints/`, state.journey.version, {
        stage: stageId, name, channel: "web", is_moment_of_truth: false, emotion: 0,
        pain_points: "", opportunities: "", owner: null, event_names: eventNames,
      });
      if (eventNames.length) mapEventDone(name, stage.name);
      setVersion(data);
      const current = stageById(stageId);
      if (!current) return;
      current.touchpoints.push(pick(data, ["id", ...TOUCHPOINT_FIELDS]));
      const input = field(inputKey);
      if (input && input.value.trim() === name) {
        input.value = "";
        input.defaultValue = "";
      }
      renderMap();
      announce(interpolate(gettext("Added “%(name)s” to “%(stage)s”."), { name, stage: current.name }, true));
    },
    invalid: (error) => {
      const message = error.messages("name").join(" ");
      showFieldError(inputKey, message);
      setStatus(notSaved(message), "error");
    },
  });
}

export function addStage(name, moment) {
  const stages = state.journey.stages;
  // A stage with a moment code goes where its code belongs along the journey.
  let position = stages.length;
  if (moment) {
    const order = MOMENT_ORDER.indexOf(moment);
    const after = stages.findIndex((s) => s.moment && MOMENT_ORDER.indexOf(s.moment) > order);
    if (after >= 0) position = after;
  }
  enqueue({
    describe: interpolate(gettext("Add the stage “%(name)s”"), { name }, true),
    run: async () => {
      const { journey } = state;
      const data = await write("POST", `${state.apiRoot}stages/`, journey.version, {
        journey: journey.id, name, moment, customer_goal: "", description: "", position,
      });
      setVersion(data);
      const stage = pick(data, ["id", "journey", ...STAGE_FIELDS]);
      stage.touchpoints = [];
      journey.stages.splice(Math.min(position, journey.stages.length), 0, stage);
      renumber(journey.stages);
      const input = field("new-stage:name");
      if (input) {
        input.value = "";
        input.defaultValue = "";
      }
      renderMap({ focusKey: `stage:${stage.id}:new` });
      announce(interpolate(gettext("Added the stage “%(name)s”. Add its first touchpoint."), { name }, true));
    },
    invalid: (error) => {
      const message = error.messages().join(" ");
      showFieldError("new-stage:name", message);
      setStatus(notSaved(message), "error");
    },
  });
}

export function deleteTouchpoint(id) {
  const found = locate(id);
  if (!found) return;
  const { touchpoint, stage, index } = found;
  const question = interpolate(
    gettext("Delete the touchpoint “%(name)s”? This cannot be undone."), { name: touchpoint.name }, true,
  );
  if (!window.confirm(question)) return;
  enqueue({
    describe: interpolate(gettext("Delete the touchpoint “%(name)s”"), { name: touchpoint.name }, true),
    run: async () => {
      const data = await write("DELETE", `${state.apiRoot}touchpoints/${id}/`, state.journey.version);
      setVersion(data);
      const current = locate(id);
      if (!current) return;
      current.stage.touchpoints.splice(current.index, 1);
      renumber(current.stage.touchpoints);
      state.ui.openDetails.delete(id);
      if (state.ui.openMoveMenu === id) state.ui.openMoveMenu = null;
      const next = stage.touchpoints[Math.min(index, stage.touchpoints.length - 1)];
      renderMap({ focusKey: next ? `tp:${next.id}` : `stage:${stage.id}:new` });
      announce(interpolate(gettext("Deleted “%(name)s”."), { name: touchpoint.name }, true));
    },
  });
}

export function deleteStage(id) {
  const stage = stageById(id);
  if (!stage) return;
  const count = stage.touchpoints.length;
  const question = count
    ? interpolate(
      ngettext(
        "Delete the stage “%(name)s” and its %(count)s touchpoint? This cannot be undone.",
        "Delete the stage “%(name)s” and its %(count)s touchpoints? This cannot be undone.",
        count,
      ),
      { name: stage.name, count },
      true,
    )
    : interpolate(gettext("Delete the stage “%(name)s”? This cannot be undone."), { name: stage.name }, true);
  if (!window.confirm(question)) return;
  enqueue({
    describe: interpolate(gettext("Delete the stage “%(name)s”"), { name: stage.name }, true),
    run: async () => {
      const { journey } = state;
      const data = await write("DELETE", `${state.apiRoot}stages/${id}/`, journey.version);
      setVersion(data);
      const index = journey.stages.findIndex((s) => s.id === id);
      if (index < 0) return;
      journey.stages.splice(index, 1);
      renumber(journey.stages);
      state.ui.openStageDetails.delete(id);
      const next = journey.stages[Math.min(index, journey.stages.length - 1)];
      renderMap({ focusKey: next ? `stage:${next.id}:name` : "new-stage:name" });
      announce(interpolate(gettext("Deleted the stage “%(name)s”."), { name: stage.name }, true));
    },
  });
}

/** Move a touchpoint to `index` in a stage; the focus goes to `focusKey` (else its card). */
export function moveTouchpoint(id, stageId, index, focusKey) {
  const found = locate(id);
  const target = stageById(stageId);
  if (!found || !target) return;
  if (found.stage.id === target.id && found.index === index) return;
  const from = { stageId: found.stage.id, index: found.index };
  const at = placeTouchpoint(id, stageId, index);
  const name = found.touchpoint.name;
  renderMap({ focusKey: focusKey || `tp:${id}` });
  const where = { name, stage: target.name, position: at + 1, count: target.touchpoints.length };
  announce(interpolate(gettext("Moved “%(name)s” to “%(stage)s”, position %(position)s of %(count)s."), where, true));
  enqueue({
    describe: interpolate(gettext("Move “%(name)s” to “%(stage)s”, position %(position)s of %(count)s"), where, true),
    run: async () => {
      const data = await write("POST", `${state.apiRoot}touchpoints/${id}/move/`, state.journey.version, {
        stage: stageId, position: at,
      });
      setVersion(data);
    },
    revert: () => {
      if (!locate(id) || !stageById(from.stageId)) return;
      placeTouchpoint(id, from.stageId, from.index);
      renderMap();
    },
  });
}

function momentOrderProblem(stages) {
  const codes = stages.map((s) => s.moment).filter(Boolean);
  for (let i = 1; i < codes.length; i += 1) {
    if (MOMENT_ORDER.indexOf(codes[i - 1]) > MOMENT_ORDER.indexOf(codes[i])) {
      return interpolate(
        gettext("Moments of truth follow their order along the journey (%(order)s): %(code)s must stay before %(previous)s. Only custom stages move freely."),
        { order: MOMENT_ORDER.join(", "), code: codes[i], previous: codes[i - 1] },
        true,
      );
    }
  }
  return "";
}

/** Move a stage one place left (delta -1) or right (+1). */
export function shiftStage(id, delta, focusKey) {
  const index = state.journey.stages.findIndex((s) => s.id === id);
  moveStage(id, index + delta, focusKey);
}

/** Move a stage to `toIndex` (clamped), unless that breaks the moments' order. */
export function moveStage(id, toIndex, focusKey) {
  const { journey } = state;
  const from = journey.stages.findIndex((s) => s.id === id);
  if (from < 0) return;
  const to = Math.max(0, Math.min(toIndex, journey.stages.length - 1));
  if (to === from) return;
  const stage = journey.stages[from];
  const order = journey.stages.slice();
  order.splice(from, 1);
  order.splice(to, 0, stage);
  const problem = momentOrderProblem(order);
  if (problem) {
    setStatus(notMoved(problem), "error");
    announce(notMoved(problem));
    return;
  }
  const previous = journey.stages.slice();
  journey.stages = order;
  renumber(order);
  renderMap({ focusKey: focusKey || `stage:${id}:name` });
  announce(interpolate(
    gettext("Moved the stage “%(name)s” to position %(position)s of %(count)s."),
    { name: stage.name, position: to + 1, count: order.length },
    true,
  ));
  enqueue({
    describe: interpolate(
      gettext("Move the stage “%(name)s” to position %(position)s"), { name: stage.name, position: to + 1 }, true,
    ),
    run: async () => {
      const data = await write("POST", `${state.journeyUrl}stages/reorder/`, state.journey.version, {
        order: order.map((s) => s.id),
      });
      setVersion(data);
    },
    revert: () => {
      const current = state.journey;
      const ids = new Set(current.stages.map((s) => s.id));
      current.stages = previous.filter((s) => ids.has(s.id));
      renumber(current.stages);
      renderMap();
    },
    invalid: (error) => setStatus(notMoved(error.messages().join(" ")), "error"),
  });
}
