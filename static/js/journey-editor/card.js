// A touchpoint's card: its name and meta line, its summary or edit panel, and (for editors)
// the Edit, Move and Delete buttons with the Move menu.

import { h, labelled } from "./dom.js";
import { gettext, interpolate, pgettext, signed } from "./i18n.js";
import { state } from "./state.js";

const EMOTIONS = [
  { value: 2, label: gettext("Very positive") },
  { value: 1, label: gettext("Positive") },
  { value: 0, label: gettext("Neutral") },
  { value: -1, label: gettext("Negative") },
  { value: -2, label: gettext("Very negative") },
];

/** The card's list item, for the touchpoint at `index` in the stage at `stageIndex`. */
export function touchpointCard(touchpoint, stage, stageIndex, index) {
  const { canEdit, channelLabels, ui } = state;
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
      },
      // Shown: the short verb; read out: the whole action, with the touchpoint's name.
      h("span", { "aria-hidden": "true",
        text: open ? pgettext("close a touchpoint's details", "Close") : pgettext("edit a touchpoint's details", "Edit") }),
      h("span", { class: "visually-hidden", text: interpolate(open
        ? gettext("Close details of %(name)s")
        : gettext("Edit details of %(name)s"), { name: touchpoint.name }, true) })),
      h("button", {
        type: "button", class: "secondary", "data-action": "tp-move-menu", "aria-expanded": String(moveOpen),
        "aria-controls": menuId, "data-focus": `tp:${id}:move`,
      }, gettext("Move"), h("span", { class: "visually-hidden", text: ` ${touchpoint.name}` })),
      h("button", {
        type: "button", class: "secondary danger-text", "data-action": "tp-delete",
        "data-focus": `tp:${id}:delete`,
      }, gettext("Delete"), h("span", { class: "visually-hidden", text: ` ${touchpoint.name}` })),
    ));
    const last = state.journey.stages.length - 1;
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
  const { memberLabels } = state;
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
  const { channelLabels, memberLabels } = state;
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
    labelled(`tp-${id}-owner`, pgettext("touchpoint owner", "Owner"), owner),
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
