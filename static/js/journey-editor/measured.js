// What the customers did at each stage of the store's active journey, beside the map: reached,
// conversion from the stage before and CSAT over the last 30 days, read from the funnel API
// (the same figures as the store dashboard), and the experiments recorded on each stage with
// their verdicts (from the experiments API). Only for the active journey of a store; a map
// that is not measured, or a failed read, simply shows no figures.

import { api } from "./api.js";
import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";
import { state } from "./state.js";

// Figures in the page's language (<html lang>), as the server writes them: "72,0 %", "5 000".
const language = document.documentElement.lang || "en";
const decimal = new Intl.NumberFormat(language, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
// A day from the API ("2026-02-10") in the language's numeric form; English pages keep ISO days,
// as the server's do (config/formats/en).
const dayFormat = new Intl.DateTimeFormat(language, { year: "numeric", month: "2-digit", day: "2-digit" });
const day = (iso) => (language === "en" || !iso ? iso : dayFormat.format(new Date(`${iso}T00:00:00`)));
const percent = (value) => (value === null || value === undefined ? "—" : `${decimal.format(value * 100)} %`);

/** Fetch the funnel once; `onLoaded` redraws the map with the figures. */
export async function loadMeasured(onLoaded) {
  if (!state.funnelUrl) return;
  try {
    const body = await api("GET", state.funnelUrl);
    state.measured = new Map(body.stages.map((stage) => [stage.id, stage]));
    state.measuredPeriod = `${day(body.start)} – ${day(body.end)}`;
    onLoaded();
  } catch {
    state.measured = new Map();
  }
}

/** Fetch the map's experiments once; `onLoaded` redraws the map with them. */
export async function loadExperiments(onLoaded) {
  if (!state.experimentsUrl) return;
  try {
    const body = await api("GET", state.experimentsUrl);
    const byStage = new Map();
    for (const experiment of body.results) {
      if (!byStage.has(experiment.stage)) byStage.set(experiment.stage, []);
      byStage.get(experiment.stage).push(experiment);
    }
    state.experiments = byStage;
    if (byStage.size) onLoaded();
  } catch {
    state.experiments = new Map();
  }
}

/** The stage's experiments, newest first, each with its day and verdict (null when none). */
export function experimentsList(stage) {
  const experiments = state.experiments.get(stage.id);
  if (!experiments || !experiments.length) return null;
  const items = experiments.map((experiment) => h("li", {},
    h("a", { href: `${state.experimentsPageUrl}#experiment-${Number(experiment.id)}`, text: experiment.title }),
    " ",
    h("span", { class: "muted", text: `${day(experiment.started_on)} · ${experiment.verdict_text}` })));
  return h("details", { class: "stage-experiments" },
    h("summary", { text: interpolate(gettext("Experiments (%(n)s)"), { n: experiments.length }, true) }),
    h("ul", {}, items));
}

/** The stage's measured figures as a line under its name (null when there are none). */
export function measuredLine(stage) {
  const figures = state.measured.get(stage.id);
  if (!figures) return null;
  const link = state.stageUrl
    ? h("a", { href: state.stageUrl.replace(/\/0\/$/, `/${Number(stage.id)}/`) }, gettext("Details"))
    : null;
  if (!figures.tracked) {
    return h("p", { class: "stage-measured untracked" },
      gettext("Not tracked — map events to it."), " ", link);
  }
  const parts = [interpolate(gettext("Reached %(n)s"), { n: whole.format(figures.reached) }, true)];
  if (figures.conversion) {
    parts.push(interpolate(gettext("conversion %(value)s"), { value: percent(figures.conversion.value) }, true));
  }
  if (figures.csat && figures.csat.count) {
    parts.push(interpolate(gettext("CSAT %(value)s"), { value: percent(figures.csat.share.value) }, true));
  }
  return h("p", {
    class: "stage-measured",
    title: interpolate(gettext("Measured %(period)s"), { period: state.measuredPeriod }, true),
  }, parts.join(" · "), " ", link);
}
