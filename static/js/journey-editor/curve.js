// The emotion curve above the stage columns: each touchpoint's designed emotion (−2..+2) in
// map order, a star for a moment of truth; drawn from where the columns are on the page.

import { h, svg } from "./dom.js";
import { gettext, interpolate, ngettext, signed } from "./i18n.js";
import { state } from "./state.js";
import { view } from "./view.js";

export function drawCurve() {
  const { journey } = state;
  const { lane, stageRow, track } = view;
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
