// The journey-map editor: stages as columns, touchpoints as cards, an emotion curve, personas.
//
// Progressive enhancement: the page holds a server-rendered, read-only map; once the journey
// has loaded from the API this module replaces it with the live editor (or, for viewers, the
// same map without any edit controls). No build step, no libraries.
//
// Every write names the journey version it is based on. Writes run one after the other (each
// needs the version the previous one returned); a stale version gets 409 and a persistent
// message with a Reload button. All user text goes through textContent or .value, never HTML.
//
// Every UI string is marked for translation with gettext/ngettext/interpolate from Django's
// JavaScript catalog (/jsi18n/, a classic script loaded before this module). Without it the
// fallbacks below show the English strings, so the editor still works.

const gettext = window.gettext ?? ((msgid) => msgid);
const ngettext = window.ngettext ?? ((singular, plural, count) => (count === 1 ? singular : plural));
const interpolate =
  window.interpolate ??
  ((format, values, named) =>
    named
      ? format.replace(/%\(\w+\)s/g, (match) => String(values[match.slice(2, -2)]))
      : format.replace(/%s/g, () => String(values.shift())));

const SVG_NS = "http://www.w3.org/2000/svg";
const EMOTIONS = [
  { value: 2, label: gettext("Very positive") },
  { value: 1, label: gettext("Positive") },
  { value: 0, label: gettext("Neutral") },
  { value: -1, label: gettext("Negative") },
  { value: -2, label: gettext("Very negative") },
];
const MOMENT_ORDER = ["LZMOT", "ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"];
const TOUCHPOINT_FIELDS = [
  "name", "channel", "is_moment_of_truth", "emotion", "pain_points", "opportunities", "owner",
  "owner_email", "event_names", "position", "stage",
];
const STAGE_FIELDS = ["name", "moment", "customer_goal", "description", "position"];

const root = document.getElementById("journey-editor");
const configElement = document.getElementById("journey-editor-config");
if (root && configElement) {
  start(JSON.parse(configElement.textContent), root);
}

// --- Small helpers

/** h("li", {class: "x", dataset: {id: 1}, text: "..."}, child, "text", ...): safe DOM building. */
function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "value") {
      element.value = value;
      element.defaultValue = value; // value !== defaultValue later means "edited, not saved"
    } else if (key === "selected" || key === "disabled" || key === "hidden") element[key] = true;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  for (const child of children) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function signed(emotion) {
  if (emotion > 0) return `+${emotion}`;
  if (emotion < 0) return `−${Math.abs(emotion)}`;
  return "0";
}

function parseEventNames(text) {
  return [...new Set(text.split(/[\s,;]+/).map((name) => name.trim()).filter(Boolean))];
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

class ApiError extends Error {
  constructor(status, body, fallback) {
    const error = (body && body.error) || {};
    super(
      error.message || fallback || interpolate(gettext("The server answered %(status)s."), { status }, true),
    );
    this.status = status;
    this.code = error.code || "";
    this.details = error.details || {};
  }

  /** The messages for one field, or all of them when `field` is not given or not present. */
  messages(field) {
    const details = this.details || {};
    if (field && details[field]) return [].concat(details[field]).map(String);
    const all = Object.values(details).flat().map(String);
    return all.length ? all : [this.message];
  }
}

async function api(method, url, body, headers = {}) {
  const options = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...headers },
  };
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(0, null, gettext("Could not reach the server: check your connection."));
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// --- The editor

function start(config, root) {
  const canEdit = Boolean(config.canEdit) && root.dataset.canEdit === "true";
  const apiRoot = config.apiRoot || "/api/v1/";
  const momentLabels = new Map((config.moments || []).map((m) => [m.value, m.label]));
  const channelLabels = new Map((config.channels || []).map((c) => [c.value, c.label]));
  const memberLabels = new Map((config.members || []).map((m) => [m.id, m.label]));

  let journey = null;
  const ui = {
    openDetails: new Set(), // touchpoint ids whose edit panel is open
    openStageDetails: new Set(),
    openMoveMenu: null, // touchpoint id
    personaId: null,
    errors: new Map(), // focus key -> message
    unsaved: [], // descriptions of changes refused because of a conflict
    conflict: null, // {current, yours}
    rendering: false,
  };
  const queue = [];
  let running = false;
  let batchFailed = false;
  let drag = null;
  let pointerOrigin = null;

  // The frame: built once; its parts are filled by the render functions.
  const status = h("p", { class: "save-status", role: "status", "aria-live": "polite" });
  const conflictBox = h("div", { class: "conflict-box", role: "alert" });
  const announcer = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const personaPanel = h("section", { class: "persona-panel", "aria-labelledby": "persona-heading" });
  const lane = h("div", { class: "emotion-lane" });
  const stageRow = h("div", { class: "stage-row" });
  const track = h("div", { class: "map-track" }, lane, stageRow);
  const scroller = h(
    "div",
    { class: "map-scroll", role: "region", "aria-label": gettext("Journey map"), tabindex: "0" },
    track,
  );
  const moveHint = h("p", { id: "tp-move-hint", class: "visually-hidden" },
    gettext("Drag to move, or press Alt with the arrow keys: up and down within the stage, left and right to the previous or next stage."));
  const stageMoveHint = h("p", { id: "stage-move-hint", class: "visually-hidden" },
    gettext("Drag the stage header to reorder, or press Alt with the left and right arrow keys."));

  load().catch((error) => {
    console.error(error);
    const note = h("p", { class: "message error", role: "alert" },
      interpolate(
        gettext("The editor could not load (%(error)s). The map below is read-only; reload the page to try again."),
        { error: error.message },
        true,
      ));
    root.prepend(note);
  });

  async function load() {
    journey = await api("GET", config.journeyUrl);
    normalise();
    root.replaceChildren();
    root.classList.add("is-live", canEdit ? "is-editable" : "is-readonly");
    const bar = h("div", { class: "editor-bar" }, personaPanel);
    if (canEdit) {
      bar.append(h("div", { class: "save-box" }, status));
      setStatus(gettext("Changes save automatically as you edit."), "idle");
    }
    root.append(bar, conflictBox, announcer, moveHint, stageMoveHint);
    if (canEdit) {
      root.append(h("p", { class: "editor-tip muted" },
        gettext("Drag cards and stage headers to reorder them. With the keyboard, focus a card and press Alt + arrow keys, or use its Move button.")));
    }
    root.append(scroller);
    if (canEdit) bindEditing();
    renderPersonas();
    renderMap();
    if ("ResizeObserver" in window) {
      let frame = 0;
      new ResizeObserver(() => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(drawCurve);
      }).observe(stageRow);
    }
    window.addEventListener("beforeunload", (event) => {
      if (running || queue.length) event.preventDefault();
    });
  }

  function normalise() {
    journey.stages.sort((a, b) => a.position - b.position || a.id - b.id);
    for (const stage of journey.stages) {
      stage.touchpoints.sort((a, b) => a.position - b.position || a.id - b.id);
    }
  }

  // --- Lookups

  function stageById(id) {
    return journey.stages.find((stage) => stage.id === Number(id));
  }

  function locate(touchpointId) {
    for (const stage of journey.stages) {
      const index = stage.touchpoints.findIndex((t) => t.id === Number(touchpointId));
      if (index >= 0) return { stage, index, touchpoint: stage.touchpoints[index] };
    }
    return null;
  }

  function field(key) {
    return root.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  }

  // --- Status, announcements, conflict

  function notSaved(reason) {
    return interpolate(gettext("Not saved: %(reason)s"), { reason }, true);
  }

  function notMoved(reason) {
    return interpolate(gettext("Not moved: %(reason)s"), { reason }, true);
  }

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  function announce(text) {
    announcer.textContent = "";
    // A fresh text node each time, so that repeating the same message is announced again.
    requestAnimationFrame(() => {
      announcer.textContent = text;
    });
  }

  function showConflict(error, description) {
    ui.conflict = {
      current: error.details.current_version,
      yours: error.details.your_version,
    };
    if (description) ui.unsaved.push(description);
    conflictBox.replaceChildren(
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
  function reload() {
    queue.length = 0;
    return new Promise((resolve, reject) => {
      enqueue({ describe: null, keepStatus: true, run: () => reloadNow().then(resolve, reject) });
    });
  }

  async function reloadNow() {
    const data = await api("GET", config.journeyUrl);
    journey = data;
    normalise();
    ui.unsaved = [];
    ui.conflict = null;
    ui.errors.clear();
    ui.openMoveMenu = null;
    conflictBox.replaceChildren();
    renderPersonas();
    renderMap({ keepDirty: false });
    setStatus(
      interpolate(gettext("Reloaded: you see the latest version (%(version)s)."), { version: journey.version }, true),
      "saved",
    );
    scroller.focus();
  }

  // --- The write queue

  /** op: {describe, run(): Promise, revert?(), invalid?(error)} */
  function enqueue(op) {
    queue.push(op);
    if (!running) drain();
  }

  async function drain() {
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

  function setVersion(data) {
    const before = journey.version;
    if (data && typeof data.journey_version === "number") journey.version = data.journey_version;
    else if (data && typeof data.version === "number") journey.version = data.version;
    // The server-rendered "Journey details" form names the version its values were loaded at.
    // A save made here, on top of exactly that version, moves it along; a change by someone
    // else (seen through a reload) does not, so saving the details after it is still refused.
    const detailsVersion = document.getElementById("journey-details-version");
    if (detailsVersion && Number(detailsVersion.value) === before) {
      detailsVersion.value = String(journey.version);
    }
  }

  // --- Rendering

  /** Rebuild the map; keep focus, the sideways scroll and any typed-but-unsaved text. */
  function renderMap({ focusKey = null, keepDirty = true } = {}) {
    const active = document.activeElement;
    const activeKey = active && root.contains(active) ? active.dataset.focus : null;
    const selection =
      active && "selectionStart" in active && typeof active.selectionStart === "number"
        ? [active.selectionStart, active.selectionEnd]
        : null;
    const dirty = new Map();
    if (keepDirty) {
      for (const element of stageRow.querySelectorAll("input[data-focus], textarea[data-focus]")) {
        if (element.value !== element.defaultValue) dirty.set(element.dataset.focus, element.value);
      }
    }
    const scrollLeft = scroller.scrollLeft;

    ui.rendering = true;
    stageRow.replaceChildren(...buildColumns());
    for (const [key, value] of dirty) {
      const element = field(key);
      if (element) element.value = value;
    }
    autosize(stageRow);
    for (const [key, message] of ui.errors) showFieldError(key, message);
    scroller.scrollLeft = scrollLeft;
    const target = focusable(focusKey) || focusable(activeKey);
    if (target) {
      target.focus({ preventScroll: Boolean(!focusKey) });
      if (!focusKey && selection && "setSelectionRange" in target) {
        try {
          target.setSelectionRange(...selection);
        } catch {
          /* not a text field */
        }
      }
      if (focusKey) target.scrollIntoView({ block: "nearest", inline: "nearest" });
    } else if (activeKey || focusKey) {
      scroller.focus({ preventScroll: true });
    }
    ui.rendering = false;
    drawCurve();
  }

  /** The element for a focus key, or its card or stage when it is gone or disabled. */
  function focusable(key) {
    if (!key) return null;
    const parts = key.split(":");
    const candidates = [key];
    if (parts[0] === "tp") candidates.push(`tp:${parts[1]}`);
    if (parts[0] === "stage") candidates.push(`stage:${parts[1]}:name`);
    for (const candidate of candidates) {
      const element = field(candidate);
      if (element && !element.disabled && element.offsetParent !== null) return element;
    }
    return null;
  }

  function buildColumns() {
    const columns = [];
    if (!journey.stages.length) {
      columns.push(
        h("div", { class: "map-empty" },
          h("p", {}, h("strong", { text: gettext("This journey has no stages yet.") })),
          canEdit
            ? h("p", {
                text: gettext(
                  "Add a stage for each moment of truth (for example ZMOT “Researches”) with the form beside this note, then add touchpoints to it.",
                ),
              })
            : h("p", { text: gettext("An editor can add stages and touchpoints.") }),
        ),
      );
    }
    journey.stages.forEach((stage, index) => columns.push(stageColumn(stage, index)));
    if (canEdit) columns.push(addStageColumn());
    return columns;
  }

  function stageColumn(stage, index) {
    const count = journey.stages.length;
    const headingId = `stage-${stage.id}-heading`;
    const header = h("header", { class: "stage-header" });
    const badge = stage.moment
      ? h("span", { class: "moment-code", title: momentLabels.get(stage.moment) || "" }, stage.moment)
      : h("span", { class: "moment-code custom", text: gettext("Custom") });
    const top = h("div", { class: "stage-top" }, badge);
    if (canEdit) {
      header.draggable = true;
      top.append(
        h("span", { class: "grip", "aria-hidden": "true", title: gettext("Drag to reorder") }, "⠿"),
        h("span", { class: "stage-tools" },
          h("button", {
            type: "button", class: "icon secondary", "data-action": "stage-left",
            "data-focus": `stage:${stage.id}:left`, "aria-describedby": "stage-move-hint",
            "aria-label": interpolate(gettext("Move stage “%(name)s” left"), { name: stage.name }, true),
            title: gettext("Move left"),
            disabled: index === 0,
          }, "←"),
          h("button", {
            type: "button", class: "icon secondary", "data-action": "stage-right",
            "data-focus": `stage:${stage.id}:right`, "aria-describedby": "stage-move-hint",
            "aria-label": interpolate(gettext("Move stage “%(name)s” right"), { name: stage.name }, true),
            title: gettext("Move right"),
            disabled: index === count - 1,
          }, "→"),
          h("button", {
            type: "button", class: "icon secondary danger-text", "data-action": "stage-delete",
            "data-focus": `stage:${stage.id}:delete`,
            "aria-label": interpolate(gettext("Delete stage “%(name)s”"), { name: stage.name }, true),
            title: gettext("Delete stage"),
          }, "✕"),
        ),
      );
      header.append(
        top,
        h("h2", { class: "stage-name", id: headingId },
          h("textarea", {
            class: "stage-name-input single-line", value: stage.name, maxlength: "120", rows: "1",
            "aria-label": gettext("Stage name"), "data-field": "name", "data-focus": `stage:${stage.id}:name`,
            autocomplete: "off",
          }),
        ),
      );
      const open = ui.openStageDetails.has(stage.id);
      const panelId = `stage-${stage.id}-details`;
      if (stage.customer_goal && !open) {
        header.append(h("p", { class: "stage-goal" }, h("span", { class: "label", text: `${gettext("Goal:")} ` }), stage.customer_goal));
      }
      header.append(
        h("button", {
          type: "button", class: "link-button", "data-action": "stage-details",
          "aria-expanded": String(open), "aria-controls": panelId,
          "data-focus": `stage:${stage.id}:details`,
        }, open ? gettext("Hide stage details") : gettext("Stage details")),
        h("div", { class: "stage-details", id: panelId, hidden: !open },
          labelled(`stage-${stage.id}-moment`, gettext("Moment of truth"), momentSelect(stage)),
          labelled(`stage-${stage.id}-goal`, gettext("Customer goal"),
            h("textarea", { rows: "2", value: stage.customer_goal, "data-field": "customer_goal",
              "data-focus": `stage:${stage.id}:customer_goal` })),
          labelled(`stage-${stage.id}-description`, gettext("Description"),
            h("textarea", { rows: "3", value: stage.description, "data-field": "description",
              "data-focus": `stage:${stage.id}:description` })),
        ),
      );
    } else {
      header.append(top, h("h2", { class: "stage-name", id: headingId, text: stage.name }));
      if (stage.customer_goal) {
        header.append(h("p", { class: "stage-goal" }, h("span", { class: "label", text: `${gettext("Goal:")} ` }), stage.customer_goal));
      }
      if (stage.description) header.append(h("p", { class: "stage-description", text: stage.description }));
    }

    const list = h("ol", { class: "tp-list", "aria-labelledby": headingId });
    stage.touchpoints.forEach((touchpoint, i) => list.append(touchpointCard(touchpoint, stage, index, i)));
    if (!stage.touchpoints.length) {
      list.append(h("li", { class: "tp-empty", text: canEdit
        ? gettext("No touchpoints yet: add one below or drag one here.")
        : gettext("No touchpoints yet.") }));
    }
    const column = h("section", {
      class: "stage-column", dataset: { id: stage.id }, "aria-labelledby": headingId,
    }, header, list);
    if (canEdit) {
      const inputId = `stage-${stage.id}-new`;
      column.append(
        h("form", { class: "add-touchpoint", "data-action": "add-touchpoint" },
          h("label", { for: inputId, class: "visually-hidden",
            text: interpolate(gettext("New touchpoint in “%(stage)s”"), { stage: stage.name }, true) }),
          h("input", { type: "text", id: inputId, placeholder: gettext("New touchpoint…"), maxlength: "160",
            "data-focus": `stage:${stage.id}:new`, autocomplete: "off", value: "" }),
          h("button", { type: "submit", class: "secondary", "data-focus": `stage:${stage.id}:add`,
            "aria-label": interpolate(gettext("Add touchpoint to “%(stage)s”"), { stage: stage.name }, true) },
          gettext("Add")),
        ),
      );
    }
    return column;
  }

  function labelled(id, text, control) {
    control.id = id;
    return h("div", { class: "field" }, h("label", { for: id, text }), control);
  }

  function momentSelect(stage, { forNew = false } = {}) {
    const used = new Set(journey.stages.filter((s) => s !== stage && s.moment).map((s) => s.moment));
    const select = h("select", forNew
      ? { "data-focus": "new-stage:moment", name: "moment" }
      : { "data-field": "moment", "data-focus": `stage:${stage.id}:moment` });
    select.append(h("option", { value: "", selected: !stage || !stage.moment }, gettext("Custom stage (no code)")));
    for (const code of MOMENT_ORDER) {
      const label = momentLabels.get(code) || code;
      const taken = used.has(code);
      select.append(h("option", {
        value: code, selected: stage && stage.moment === code, disabled: taken,
      }, taken
        ? interpolate(gettext("%(code)s — %(label)s (used)"), { code, label }, true)
        : `${code} — ${label}`));
    }
    return select;
  }

  function addStageColumn() {
    const nameInput = h("input", { type: "text", id: "new-stage-name", maxlength: "120",
      placeholder: gettext("e.g. Researches"), "data-focus": "new-stage:name", name: "name", autocomplete: "off", value: "" });
    const moment = momentSelect(null, { forNew: true });
    moment.id = "new-stage-moment";
    return h("section", { class: "stage-column add-stage", "aria-labelledby": "add-stage-heading" },
      h("h2", { id: "add-stage-heading", class: "add-stage-heading", text: gettext("Add a stage") }),
      h("form", { class: "add-stage-form", "data-action": "add-stage" },
        h("div", { class: "field" }, h("label", { for: "new-stage-name", text: gettext("Stage name") }), nameInput),
        h("div", { class: "field" }, h("label", { for: "new-stage-moment", text: gettext("Moment of truth") }), moment),
        h("button", { type: "submit", "data-focus": "new-stage:add" }, gettext("Add stage")),
      ),
    );
  }

  function touchpointCard(touchpoint, stage, stageIndex, index) {
    const id = touchpoint.id;
    const item = h("li", { class: "tp-item", dataset: { id } });
    const card = h("article", {
      class: `tp-card${touchpoint.is_moment_of_truth ? " is-mot" : ""}`,
      dataset: { id, focus: `tp:${id}` },
      "aria-label": interpolate(
        touchpoint.is_moment_of_truth
          ? gettext("%(name)s, moment of truth (%(position)s of %(count)s in %(stage)s)")
          : gettext("%(name)s (%(position)s of %(count)s in %(stage)s)"),
        {
          name: touchpoint.name,
          position: index + 1,
          count: stage.touchpoints.length,
          stage: stage.name,
        },
        true,
      ),
    });
    item.append(card);
    const head = h("div", { class: "tp-head" });
    if (touchpoint.is_moment_of_truth) {
      head.append(h("span", { class: "mot-badge" }, h("span", { "aria-hidden": "true" }, "★ "), gettext("Moment of truth")));
    }
    card.append(head);
    if (canEdit) {
      card.tabIndex = 0;
      card.draggable = true;
      card.setAttribute("aria-describedby", "tp-move-hint");
      const title = h("div", { class: "tp-title" });
      card.append(title);
      title.append(
        h("textarea", {
          class: "tp-name-input single-line", value: touchpoint.name, maxlength: "160", rows: "1",
          "aria-label": gettext("Touchpoint name"), "data-field": "name", "data-focus": `tp:${id}:name`,
          autocomplete: "off",
        }),
        h("button", {
          type: "button", class: "icon secondary mot-toggle", "aria-pressed": String(touchpoint.is_moment_of_truth),
          "data-action": "tp-mot", "data-focus": `tp:${id}:mot`,
          "aria-label": interpolate(gettext("Moment of truth: %(name)s"), { name: touchpoint.name }, true),
          title: touchpoint.is_moment_of_truth
            ? gettext("Unmark as moment of truth")
            : gettext("Mark as moment of truth"),
        }, h("span", { "aria-hidden": "true" }, touchpoint.is_moment_of_truth ? "★" : "☆")),
        h("span", { class: "grip", "aria-hidden": "true", title: gettext("Drag to move") }, "⠿"),
      );
    } else {
      card.append(h("h3", { class: "tp-name", text: touchpoint.name }));
    }
    card.append(h("p", { class: "tp-meta" },
      h("span", { class: "channel", text: channelLabels.get(touchpoint.channel) || touchpoint.channel }),
      " · ",
      h("span", { class: `emotion emotion-${touchpoint.emotion < 0 ? "neg" : touchpoint.emotion > 0 ? "pos" : "zero"}` },
        interpolate(gettext("Emotion %(emotion)s"), { emotion: signed(touchpoint.emotion) }, true)),
    ));
    const open = canEdit && ui.openDetails.has(id);
    if (!open) card.append(...touchpointSummary(touchpoint));
    if (canEdit) {
      const detailsId = `tp-${id}-details`;
      const menuId = `tp-${id}-move`;
      const moveOpen = ui.openMoveMenu === id;
      card.append(h("div", { class: "tp-actions" },
        h("button", {
          type: "button", class: "secondary", "data-action": "tp-details", "aria-expanded": String(open),
          "aria-controls": detailsId, "data-focus": `tp:${id}:details`,
        }, open ? gettext("Close") : gettext("Edit"), h("span", { class: "visually-hidden",
          // Translators: follows "Edit" or "Close" on the button, for screen readers.
          text: ` ${interpolate(gettext("details of %(name)s"), { name: touchpoint.name }, true)}` })),
        h("button", {
          type: "button", class: "secondary", "data-action": "tp-move-menu", "aria-expanded": String(moveOpen),
          "aria-controls": menuId, "data-focus": `tp:${id}:move`,
        }, gettext("Move"), h("span", { class: "visually-hidden", text: ` ${touchpoint.name}` })),
        h("button", {
          type: "button", class: "secondary danger-text", "data-action": "tp-delete",
          "data-focus": `tp:${id}:delete`,
        }, gettext("Delete"), h("span", { class: "visually-hidden", text: ` ${touchpoint.name}` })),
      ));
      const last = journey.stages.length - 1;
      card.append(h("div", {
        class: "tp-move-menu", id: menuId, role: "group", "aria-label": interpolate(gettext("Move “%(name)s”"), { name: touchpoint.name }, true),
        hidden: !moveOpen,
      },
        moveButton(id, "up", gettext("↑ Up"), index === 0),
        moveButton(id, "down", gettext("↓ Down"), index === stage.touchpoints.length - 1),
        moveButton(id, "prev", gettext("← Previous stage"), stageIndex === 0),
        moveButton(id, "next", gettext("Next stage →"), stageIndex === last),
      ));
      card.append(touchpointDetails(touchpoint, detailsId, open));
    }
    return item;
  }

  function moveButton(id, direction, label, disabled) {
    return h("button", {
      type: "button", class: "secondary", "data-action": "tp-move", "data-direction": direction,
      "data-focus": `tp:${id}:move-${direction}`, disabled,
    }, label);
  }

  function touchpointSummary(touchpoint) {
    const parts = [];
    if (touchpoint.event_names.length) {
      parts.push(h("p", { class: "tp-events" },
        h("span", { class: "visually-hidden", text: `${gettext("Events:")} ` }),
        touchpoint.event_names.map((name) => h("code", { text: name }))));
    }
    if (touchpoint.owner) {
      const owner = memberLabels.get(touchpoint.owner) || touchpoint.owner_email || "";
      parts.push(h("p", { class: "tp-owner" }, h("span", { class: "label", text: `${gettext("Owner:")} ` }), owner));
    }
    if (touchpoint.pain_points) {
      parts.push(h("p", { class: "tp-pain" }, h("span", { class: "label", text: `${gettext("Pain points:")} ` }), touchpoint.pain_points));
    }
    if (touchpoint.opportunities) {
      parts.push(h("p", { class: "tp-opportunity" },
        h("span", { class: "label", text: `${gettext("Opportunities:")} ` }), touchpoint.opportunities));
    }
    return parts;
  }

  function touchpointDetails(touchpoint, panelId, open) {
    const id = touchpoint.id;
    const key = (name) => `tp:${id}:${name}`;
    const channel = h("select", { "data-field": "channel", "data-focus": key("channel") });
    for (const [value, label] of channelLabels) {
      channel.append(h("option", { value, selected: value === touchpoint.channel }, label));
    }
    const emotion = h("select", { "data-field": "emotion", "data-focus": key("emotion") });
    for (const option of EMOTIONS) {
      emotion.append(h("option", { value: String(option.value), selected: option.value === touchpoint.emotion },
        `${signed(option.value)} ${option.label}`));
    }
    const owner = h("select", { "data-field": "owner", "data-focus": key("owner") });
    owner.append(h("option", { value: "", selected: !touchpoint.owner }, gettext("No owner")));
    for (const [value, label] of memberLabels) {
      owner.append(h("option", { value: String(value), selected: value === touchpoint.owner }, label));
    }
    if (touchpoint.owner && !memberLabels.has(touchpoint.owner)) {
      owner.append(h("option", { value: String(touchpoint.owner), selected: true },
        touchpoint.owner_email || interpolate(gettext("User %(id)s"), { id: touchpoint.owner }, true)));
    }
    const eventsHelpId = `tp-${id}-events-help`;
    return h("div", { class: "tp-details", id: panelId, hidden: !open },
      labelled(`tp-${id}-channel`, gettext("Channel"), channel),
      labelled(`tp-${id}-emotion`, gettext("Designed emotion"), emotion),
      labelled(`tp-${id}-owner`, gettext("Owner"), owner),
      labelled(`tp-${id}-pain`, gettext("Pain points"),
        h("textarea", { rows: "3", value: touchpoint.pain_points, "data-field": "pain_points", "data-focus": key("pain_points") })),
      labelled(`tp-${id}-opportunities`, gettext("Opportunities"),
        h("textarea", { rows: "3", value: touchpoint.opportunities, "data-field": "opportunities", "data-focus": key("opportunities") })),
      h("div", { class: "field" },
        h("label", { for: `tp-${id}-events`, text: gettext("Event names") }),
        h("input", { type: "text", id: `tp-${id}-events`, value: touchpoint.event_names.join(", "),
          "data-field": "event_names", "data-focus": key("event_names"), "aria-describedby": eventsHelpId,
          autocomplete: "off", spellcheck: "false" }),
        h("span", { class: "help", id: eventsHelpId,
          text: gettext("Separate with commas or spaces, e.g. add_to_cart, checkout_start.") }),
      ),
    );
  }

  /** Grow text areas with their text where CSS field-sizing is not supported. */
  function autosize(scope) {
    if (CSS.supports && CSS.supports("field-sizing", "content")) return;
    for (const area of scope.querySelectorAll("textarea")) {
      area.style.height = "auto";
      area.style.height = `${area.scrollHeight + 2}px`;
    }
  }

  // --- Personas

  function renderPersonas() {
    const personas = journey.personas || [];
    personaPanel.replaceChildren(h("h2", { id: "persona-heading", class: "panel-heading", text: gettext("Persona") }));
    if (!personas.length) {
      personaPanel.append(h("p", { class: "muted", text: gettext("No persona is attached to this journey.") }));
      return;
    }
    if (!personas.some((p) => p.id === ui.personaId)) ui.personaId = personas[0].id;
    const select = h("select", { id: "persona-select", class: "persona-select" });
    for (const persona of personas) {
      select.append(h("option", { value: String(persona.id), selected: persona.id === ui.personaId }, persona.name));
    }
    const body = h("div", { class: "persona-body", "aria-live": "polite" });
    const fill = () => {
      const persona = personas.find((p) => p.id === ui.personaId) || personas[0];
      const rows = [];
      for (const [label, value] of [
        [gettext("Description"), persona.description],
        [gettext("Goals"), persona.goals],
        [gettext("Frustrations"), persona.frustrations],
      ]) {
        if (value) rows.push(h("div", {}, h("dt", { text: label }), h("dd", { text: value })));
      }
      body.replaceChildren(rows.length
        ? h("dl", { class: "persona-facts" }, rows)
        : h("p", { class: "muted", text: gettext("No description yet.") }));
    };
    select.addEventListener("change", () => {
      ui.personaId = Number(select.value);
      fill();
    });
    personaPanel.append(
      h("div", { class: "persona-switch" },
        h("label", { for: "persona-select", class: "visually-hidden", text: gettext("Persona") }), select),
      body,
    );
    fill();
  }

  // --- The emotion curve

  function drawCurve() {
    if (!journey) return;
    const points = [];
    const trackBox = track.getBoundingClientRect();
    for (const stage of journey.stages) {
      const column = stageRow.querySelector(`.stage-column[data-id="${stage.id}"]`);
      if (!column || !stage.touchpoints.length) continue;
      const box = column.getBoundingClientRect();
      const left = box.left - trackBox.left;
      const n = stage.touchpoints.length;
      stage.touchpoints.forEach((touchpoint, i) => {
        points.push({ x: left + (box.width * (i + 0.5)) / n, touchpoint, stage });
      });
    }
    const caption = h("p", { class: "lane-caption" },
      h("span", { text: gettext("Designed emotion") }), h("span", { class: "muted", text: ` ${gettext("(−2 to +2)")}` }));
    if (!points.length) {
      lane.replaceChildren(caption,
        h("p", { class: "muted lane-empty", text: gettext("The emotion curve appears once the map has touchpoints.") }));
      return;
    }
    const width = Math.max(Math.ceil(stageRow.scrollWidth), 1);
    const height = 104;
    const top = 10;
    const step = (height - top - 10) / 4;
    const y = (emotion) => top + (2 - Math.max(-2, Math.min(2, emotion))) * step;
    const description = journey.stages
      .filter((stage) => stage.touchpoints.length)
      .map((stage) => `${stage.name}: ` +
        stage.touchpoints.map((t) => (t.is_moment_of_truth
          ? interpolate(gettext("%(name)s %(emotion)s (moment of truth)"), { name: t.name, emotion: signed(t.emotion) }, true)
          : `${t.name} ${signed(t.emotion)}`)).join(", "))
      .join(". ");
    const chart = svg("svg", {
      class: "emotion-curve", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-labelledby": "emotion-title emotion-desc", focusable: "false",
    });
    chart.append(
      svg("title", { id: "emotion-title" }, gettext("Emotion curve")),
      svg("desc", { id: "emotion-desc" },
        `${interpolate(
          ngettext(
            "The designed emotion of %(count)s touchpoint in map order, from −2 (very negative) to +2 (very positive).",
            "The designed emotion of %(count)s touchpoints in map order, from −2 (very negative) to +2 (very positive).",
            points.length,
          ),
          { count: points.length },
          true,
        )} ${description}.`),
    );
    const grid = svg("g", { class: "grid", "aria-hidden": "true" });
    for (let value = 2; value >= -2; value -= 1) {
      grid.append(svg("line", { x1: 0, x2: width, y1: y(value), y2: y(value), class: value === 0 ? "zero" : "" }));
      grid.append(svg("text", { x: 4, y: y(value) - 3, class: "axis" }, signed(value)));
    }
    // Stage boundaries: in the middle of the gap between two columns.
    const columns = [...stageRow.querySelectorAll(":scope > .stage-column")];
    for (let i = 0; i < columns.length - 1; i += 1) {
      const right = columns[i].getBoundingClientRect().right;
      const next = columns[i + 1].getBoundingClientRect().left;
      const x = Math.round((right + next) / 2 - trackBox.left) + 0.5;
      grid.append(svg("line", { x1: x, x2: x, y1: 0, y2: height, class: "separator" }));
    }
    chart.append(grid);
    chart.append(svg("polyline", {
      class: "curve", points: points.map((p) => `${p.x.toFixed(1)},${y(p.touchpoint.emotion).toFixed(1)}`).join(" "),
    }));
    const dots = svg("g", { class: "dots" });
    for (const point of points) {
      const t = point.touchpoint;
      const cx = point.x;
      const cy = y(t.emotion);
      const label = svg("title", {}, interpolate(
        t.is_moment_of_truth
          ? gettext("%(name)s (%(stage)s): emotion %(emotion)s, moment of truth")
          : gettext("%(name)s (%(stage)s): emotion %(emotion)s"),
        { name: t.name, stage: point.stage.name, emotion: signed(t.emotion) },
        true,
      ));
      if (t.is_moment_of_truth) {
        const r = 9;
        const star = [];
        for (let k = 0; k < 10; k += 1) {
          const radius = k % 2 ? r * 0.45 : r;
          const angle = (Math.PI / 5) * k - Math.PI / 2;
          star.push(`${(cx + radius * Math.cos(angle)).toFixed(1)},${(cy + radius * Math.sin(angle)).toFixed(1)}`);
        }
        dots.append(svg("polygon", { class: "dot mot", points: star.join(" "), "data-id": t.id }, label));
      } else {
        dots.append(svg("circle", { class: `dot ${t.emotion < 0 ? "neg" : ""}`, cx, cy, r: 5, "data-id": t.id }, label));
      }
    }
    chart.append(dots);
    lane.replaceChildren(caption, chart);
  }

  // --- Editing: events

  function bindEditing() {
    root.addEventListener("click", onClick);
    root.addEventListener("submit", onSubmit);
    root.addEventListener("change", onChange);
    root.addEventListener("focusout", onFocusOut);
    root.addEventListener("keydown", onKeyDown);
    root.addEventListener("input", (event) => {
      if (event.target.tagName === "TEXTAREA") autosize(event.target.parentNode);
    });
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
    document.addEventListener("click", (event) => {
      if (ui.openMoveMenu !== null && !event.target.closest?.(".tp-move-menu, [data-action='tp-move-menu']")) {
        closeMoveMenu(false);
      }
    });
  }

  function context(element) {
    const card = element.closest(".tp-card");
    const column = element.closest(".stage-column[data-id]");
    return {
      touchpointId: card ? Number(card.dataset.id) : null,
      stageId: column ? Number(column.dataset.id) : null,
    };
  }

  function onClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button || !root.contains(button)) return;
    const action = button.dataset.action;
    const { touchpointId, stageId } = context(button);
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

  function closeMoveMenu(focusButton) {
    const id = ui.openMoveMenu;
    ui.openMoveMenu = null;
    if (id !== null && locate(id)) rerenderCard(id, focusButton ? `tp:${id}:move` : null);
  }

  function onSubmit(event) {
    const form = event.target;
    if (!root.contains(form)) return;
    event.preventDefault();
    if (form.dataset.action === "add-touchpoint") {
      const input = form.querySelector("input");
      const name = input.value.trim();
      const { stageId } = context(form);
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
    if (ui.rendering) return;
    const element = event.target;
    if (!element.dataset || !element.dataset.field) return;
    if (element.tagName === "SELECT") return;
    if (element.value !== element.defaultValue) saveField(element);
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
      if (ui.openMoveMenu !== null && card && Number(card.dataset.id) === ui.openMoveMenu) {
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
    const direction = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "prev", ArrowRight: "next" }[event.key];
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
      const { stageId } = context(header);
      const key = target.dataset.focus || `stage:${stageId}:left`;
      shiftStage(stageId, direction === "prev" ? -1 : 1, key);
    }
  }

  // --- Field saves

  function showFieldError(key, message) {
    ui.errors.set(key, message);
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

  function clearFieldError(key) {
    ui.errors.delete(key);
    const element = field(key);
    if (!element) return;
    const errorId = `${key.replace(/[^A-Za-z0-9_-]/g, "-")}-error`;
    element.removeAttribute("aria-invalid");
    document.getElementById(errorId)?.remove();
    const described = (element.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== errorId);
    if (described.length) element.setAttribute("aria-describedby", described.join(" "));
    else element.removeAttribute("aria-describedby");
  }

  const FIELD_LABELS = {
    // Translators: field names inside "Set the %(field)s of …" (change descriptions).
    name: gettext("name"), channel: gettext("channel"), emotion: gettext("designed emotion"),
    owner: gettext("owner"), pain_points: gettext("pain points"), opportunities: gettext("opportunities"),
    event_names: gettext("event names"), moment: gettext("moment of truth"),
    customer_goal: gettext("customer goal"), description: gettext("description"),
  };

  function saveField(element) {
    const name = element.dataset.field;
    const key = element.dataset.focus;
    const { touchpointId, stageId } = context(element);
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
          gettext("Set the %(field)s of “%(name)s” to “%(value)s”"),
          { field: FIELD_LABELS[name], name: touchpoint.name, value: shown },
          true,
        );
      saveTouchpoint(touchpointId, { [name]: value }, { describe, key });
    } else if (stageId) {
      const stage = stageById(stageId);
      const describe = name === "name"
        ? interpolate(gettext("Rename the stage “%(name)s” to “%(value)s”"), { name: stage.name, value }, true)
        : interpolate(
          gettext("Set the %(field)s of the stage “%(name)s” to “%(value)s”"),
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

  function saveTouchpoint(id, changes, { describe, key = null, focusKey = null, optimistic = false }) {
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
        const data = await api("PATCH", `${apiRoot}touchpoints/${id}/`, { ...changes, version: journey.version });
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
        const data = await api("PATCH", `${apiRoot}stages/${id}/`, { ...changes, version: journey.version });
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

  /** Replace one card (keeping focus and unsaved text); returns the new card element. */
  function rerenderCard(id, focusKey = null) {
    const found = locate(id);
    const old = stageRow.querySelector(`.tp-item[data-id="${id}"]`);
    if (!found || !old) return null;
    const active = document.activeElement;
    const activeKey = active && old.contains(active) ? active.dataset.focus : null;
    const selection = active && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
    const dirty = new Map();
    for (const element of old.querySelectorAll("input[data-focus], textarea[data-focus]")) {
      if (element.value !== element.defaultValue) dirty.set(element.dataset.focus, [element.value, element.defaultValue]);
    }
    const stageIndex = journey.stages.indexOf(found.stage);
    const item = touchpointCard(found.touchpoint, found.stage, stageIndex, found.index);
    ui.rendering = true;
    old.replaceWith(item);
    autosize(item);
    for (const [key, [value, base]] of dirty) {
      const element = field(key);
      if (!element) continue;
      // If the saved value moved on (the save finished), keep what the user typed since.
      if (element.defaultValue !== base && value === base) continue;
      element.value = value;
    }
    for (const [key, message] of ui.errors) if (item.querySelector(`[data-focus="${CSS.escape(key)}"]`)) showFieldError(key, message);
    const target = focusable(focusKey) || focusable(activeKey);
    if (target) {
      target.focus({ preventScroll: true });
      if (selection && !focusKey && "setSelectionRange" in target) {
        try {
          target.setSelectionRange(...selection);
        } catch {
          /* not a text field */
        }
      }
    } else if (activeKey) {
      item.querySelector(".tp-card").focus({ preventScroll: true });
    }
    ui.rendering = false;
    return item;
  }

  // --- Structure: add, delete, move

  function addTouchpoint(stageId, name, inputKey) {
    const stage = stageById(stageId);
    enqueue({
      describe: interpolate(gettext("Add the touchpoint “%(name)s” to “%(stage)s”"), { name, stage: stage.name }, true),
      run: async () => {
        const data = await api("POST", `${apiRoot}touchpoints/`, {
          stage: stageId, name, channel: "web", is_moment_of_truth: false, emotion: 0,
          pain_points: "", opportunities: "", owner: null, event_names: [], version: journey.version,
        });
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

  function addStage(name, moment) {
    // A stage with a moment code goes where its code belongs along the journey.
    let position = journey.stages.length;
    if (moment) {
      const order = MOMENT_ORDER.indexOf(moment);
      const after = journey.stages.findIndex((s) => s.moment && MOMENT_ORDER.indexOf(s.moment) > order);
      if (after >= 0) position = after;
    }
    enqueue({
      describe: interpolate(gettext("Add the stage “%(name)s”"), { name }, true),
      run: async () => {
        const data = await api("POST", `${apiRoot}stages/`, {
          journey: journey.id, name, moment, customer_goal: "", description: "", position,
          version: journey.version,
        });
        setVersion(data);
        const stage = pick(data, ["id", "journey", ...STAGE_FIELDS]);
        stage.touchpoints = [];
        journey.stages.splice(Math.min(position, journey.stages.length), 0, stage);
        journey.stages.forEach((s, i) => { s.position = i; });
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

  function deleteTouchpoint(id) {
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
        const data = await api("DELETE", `${apiRoot}touchpoints/${id}/`, undefined, {
          "If-Match": `"${journey.version}"`,
        });
        setVersion(data);
        const current = locate(id);
        if (!current) return;
        current.stage.touchpoints.splice(current.index, 1);
        current.stage.touchpoints.forEach((t, i) => { t.position = i; });
        ui.openDetails.delete(id);
        if (ui.openMoveMenu === id) ui.openMoveMenu = null;
        const next = stage.touchpoints[Math.min(index, stage.touchpoints.length - 1)];
        renderMap({ focusKey: next ? `tp:${next.id}` : `stage:${stage.id}:new` });
        announce(interpolate(gettext("Deleted “%(name)s”."), { name: touchpoint.name }, true));
      },
    });
  }

  function deleteStage(id) {
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
        const data = await api("DELETE", `${apiRoot}stages/${id}/`, undefined, {
          "If-Match": `"${journey.version}"`,
        });
        setVersion(data);
        const index = journey.stages.findIndex((s) => s.id === id);
        if (index < 0) return;
        journey.stages.splice(index, 1);
        journey.stages.forEach((s, i) => { s.position = i; });
        ui.openStageDetails.delete(id);
        const next = journey.stages[Math.min(index, journey.stages.length - 1)];
        renderMap({ focusKey: next ? `stage:${next.id}:name` : "new-stage:name" });
        announce(interpolate(gettext("Deleted the stage “%(name)s”."), { name: stage.name }, true));
      },
    });
  }

  function keyboardMove(id, direction, focusKey) {
    const found = locate(id);
    if (!found) return;
    const stageIndex = journey.stages.indexOf(found.stage);
    if (direction === "up" && found.index > 0) {
      moveTouchpoint(id, found.stage.id, found.index - 1, focusKey);
    } else if (direction === "down" && found.index < found.stage.touchpoints.length - 1) {
      moveTouchpoint(id, found.stage.id, found.index + 1, focusKey);
    } else if ((direction === "prev" || direction === "next")) {
      const target = journey.stages[stageIndex + (direction === "prev" ? -1 : 1)];
      if (target) moveTouchpoint(id, target.id, Math.min(found.index, target.touchpoints.length), focusKey);
      else announce(direction === "prev" ? gettext("Already in the first stage.") : gettext("Already in the last stage."));
    } else {
      announce(direction === "up" ? gettext("Already first in its stage.") : gettext("Already last in its stage."));
    }
  }

  function placeTouchpoint(id, stageId, index) {
    const found = locate(id);
    const target = stageById(stageId);
    found.stage.touchpoints.splice(found.index, 1);
    const at = Math.max(0, Math.min(index, target.touchpoints.length));
    target.touchpoints.splice(at, 0, found.touchpoint);
    found.touchpoint.stage = target.id;
    found.stage.touchpoints.forEach((t, i) => { t.position = i; });
    target.touchpoints.forEach((t, i) => { t.position = i; });
    return at;
  }

  function moveTouchpoint(id, stageId, index, focusKey) {
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
        const data = await api("POST", `${apiRoot}touchpoints/${id}/move/`, {
          stage: stageId, position: at, version: journey.version,
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

  function shiftStage(id, delta, focusKey) {
    const index = journey.stages.findIndex((s) => s.id === id);
    moveStage(id, index + delta, focusKey);
  }

  function moveStage(id, toIndex, focusKey) {
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
    order.forEach((s, i) => { s.position = i; });
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
        const data = await api("POST", `${config.journeyUrl}stages/reorder/`, {
          order: order.map((s) => s.id), version: journey.version,
        });
        setVersion(data);
      },
      revert: () => {
        const ids = new Set(journey.stages.map((s) => s.id));
        journey.stages = previous.filter((s) => ids.has(s.id));
        journey.stages.forEach((s, i) => { s.position = i; });
        renderMap();
      },
      invalid: (error) => setStatus(notMoved(error.messages().join(" ")), "error"),
    });
  }

  // --- Drag and drop (HTML5); the Move buttons and Alt+arrows do the same without a mouse.

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
    root.classList.add(drag.type === "stage" ? "is-dragging-stage" : "is-dragging-touchpoint");
  }

  function marker() {
    let element = root.querySelector(".drop-marker");
    if (!element) element = h("li", { class: "drop-marker", "aria-hidden": "true" });
    return element;
  }

  function onDragOver(event) {
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
    for (const element of root.querySelectorAll(".drop-marker, .stage-drop-marker")) element.remove();
    for (const element of root.querySelectorAll(".is-dragging, .is-drop-target")) {
      element.classList.remove("is-dragging", "is-drop-target");
    }
    root.classList.remove("is-dragging-stage", "is-dragging-touchpoint");
    drag = null;
  }
}

function pick(source, keys) {
  const out = {};
  for (const key of keys) if (key in source) out[key] = source[key];
  return out;
}
