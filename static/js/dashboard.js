// The store dashboard: draws each chart from its figure (JSON the page carries in a
// <script type="application/json">, never executed), shows the custom range's dates only when
// "Custom range" is chosen, and follows a recompute's task until it is done, then reloads.
// plotly.js is a classic script loaded with defer before this module.
import { drawFigure } from "./plotly-figure.js";

for (const container of document.querySelectorAll(".chart-plot[data-figure]")) {
  const source = document.getElementById(container.dataset.figure);
  if (!source || !window.Plotly) continue;
  drawFigure(container, JSON.parse(source.textContent)).then(() => {
    // A funnel bar opens its stage (the stage cards' headings are the keyboard's way there).
    const template = container.dataset.clickUrl;
    if (!template) return;
    container.on("plotly_click", (event) => {
      const id = event.points?.[0]?.customdata;
      if (id === undefined) return;
      const url = new URL(template, window.location.href);
      url.pathname = url.pathname.replace(/\/0\/$/, `/${Number(id)}/`);
      window.location.assign(url);
    });
  });
}

const period = document.querySelector(".dashboard-period select[name=period]");
if (period) {
  const toggle = () => {
    for (const field of document.querySelectorAll(".dashboard-period .custom-range")) {
      field.hidden = period.value !== "custom";
    }
  };
  period.addEventListener("change", toggle);
  toggle();
}

const progress = document.querySelector(".task-progress[data-task-url]");
if (progress) {
  const bar = progress.querySelector("progress");
  const phase = progress.querySelector(".task-phase");
  const poll = async () => {
    let task;
    try {
      const answer = await fetch(progress.dataset.taskUrl, { headers: { Accept: "application/json" } });
      if (!answer.ok) return;
      task = await answer.json();
    } catch {
      setTimeout(poll, 3000);
      return;
    }
    if (task.total) {
      bar.max = task.total;
      bar.value = task.done;
    }
    if (task.phase) phase.textContent = task.phase;
    if (task.state === "done" || (task.state === "failed" && progress.dataset.keepTask)) {
      // A recompute's page drops the task; a round of asking shows how it went.
      const url = new URL(window.location.href);
      if (!progress.dataset.keepTask) url.searchParams.delete("task");
      window.location.replace(url);
    } else if (task.state === "failed") {
      phase.textContent = task.error || phase.textContent;
      bar.hidden = true;
    } else {
      setTimeout(poll, 1000);
    }
  };
  poll();
}
