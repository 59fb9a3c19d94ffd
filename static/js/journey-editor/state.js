// The editor's one piece of shared, changing state: the page's settings, the journey as the
// server last gave it (changed in place as the user edits, put back when a write is refused),
// and what the user has open. Every other module imports `state` from here; the functions
// below are the changes that more than one module makes.

import { versionIn } from "./api.js";

export const MOMENT_ORDER = ["LZMOT", "ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"];
// The fields of a touchpoint and of a stage that a write answers with.
export const TOUCHPOINT_FIELDS = [
  "name", "channel", "is_moment_of_truth", "emotion", "pain_points", "opportunities", "owner",
  "owner_email", "event_names", "position", "stage",
];
export const STAGE_FIELDS = ["name", "moment", "customer_goal", "description", "position"];

export const state = {
  // From the page (configure()), fixed afterwards.
  canEdit: false,
  journeyUrl: "",
  apiRoot: "/api/v1/",
  momentLabels: new Map(),
  channelLabels: new Map(),
  memberLabels: new Map(),
  // The store's measured figures per stage id, when this is its active journey (measured.js).
  funnelUrl: "",
  stageUrl: "",
  measured: new Map(),
  measuredPeriod: "",
  // The experiments recorded on the map's stages, per stage id (measured.js).
  experimentsUrl: "",
  experimentsPageUrl: "",
  experiments: new Map(),
  // The journey from the API: stages in map order, each with its touchpoints in order.
  journey: null,
  ui: {
    openDetails: new Set(), // touchpoint ids whose edit panel is open
    openStageDetails: new Set(),
    openMoveMenu: null, // touchpoint id
    personaId: null,
    errors: new Map(), // focus key -> message
    unsaved: [], // descriptions of changes refused because of a conflict
    conflict: null, // {current, yours}
    rendering: false, // a re-render is replacing elements: their blur is not an edit
    mapEvent: null, // {name, stageId}: an event name to map (map-event.js)
  },
};

/** Read the page's settings (its json_script config and the root element's data-can-edit). */
export function configure(config, root) {
  state.canEdit = Boolean(config.canEdit) && root.dataset.canEdit === "true";
  state.journeyUrl = config.journeyUrl;
  state.apiRoot = config.apiRoot || "/api/v1/";
  state.momentLabels = new Map((config.moments || []).map((m) => [m.value, m.label]));
  state.channelLabels = new Map((config.channels || []).map((c) => [c.value, c.label]));
  state.memberLabels = new Map((config.members || []).map((m) => [m.id, m.label]));
  state.funnelUrl = config.funnelUrl || "";
  state.stageUrl = config.stageUrl || "";
  state.experimentsUrl = config.experimentsUrl || "";
  state.experimentsPageUrl = config.experimentsPageUrl || "";
}

/** Take a journey as the API gives it, in map order. */
export function setJourney(data) {
  state.journey = data;
  state.journey.stages.sort((a, b) => a.position - b.position || a.id - b.id);
  for (const stage of state.journey.stages) {
    stage.touchpoints.sort((a, b) => a.position - b.position || a.id - b.id);
  }
}

/** Move the journey's version along to the one a write answered with. */
export function setVersion(data) {
  const journey = state.journey;
  const before = journey.version;
  const version = versionIn(data);
  if (version !== null) journey.version = version;
  // The server-rendered "Journey details" form names the version its values were loaded at.
  // A save made here, on top of exactly that version, moves it along; a change by someone
  // else (seen through a reload) does not, so saving the details after it is still refused.
  const detailsVersion = document.getElementById("journey-details-version");
  if (detailsVersion && Number(detailsVersion.value) === before) {
    detailsVersion.value = String(journey.version);
  }
}

// --- Lookups

export function stageById(id) {
  return state.journey.stages.find((stage) => stage.id === Number(id));
}

export function locate(touchpointId) {
  for (const stage of state.journey.stages) {
    const index = stage.touchpoints.findIndex((t) => t.id === Number(touchpointId));
    if (index >= 0) return { stage, index, touchpoint: stage.touchpoints[index] };
  }
  return null;
}

// --- Changes to the map's structure

/** Number stages or touchpoints by their place in `items`. */
export function renumber(items) {
  items.forEach((item, i) => {
    item.position = i;
  });
}

/** Put a touchpoint at `index` in a stage (clamped); returns where it went. */
export function placeTouchpoint(id, stageId, index) {
  const found = locate(id);
  const target = stageById(stageId);
  found.stage.touchpoints.splice(found.index, 1);
  const at = Math.max(0, Math.min(index, target.touchpoints.length));
  target.touchpoints.splice(at, 0, found.touchpoint);
  found.touchpoint.stage = target.id;
  renumber(found.stage.touchpoints);
  renumber(target.touchpoints);
  return at;
}

export function pick(source, keys) {
  const out = {};
  for (const key of keys) if (key in source) out[key] = source[key];
  return out;
}
