// The CSV import page follows its task (GET /api/v1/tasks/{id}/) while it runs, and shows the
// report (rendered by the server) once it ends. Without this script the page has a Refresh link.

const bar = document.getElementById("import-progress");
let announced = null; // the last tenth announced: a screen reader hears 10 %, 20 %..., not every step

async function follow() {
  let task;
  try {
    const response = await fetch(bar.dataset.taskUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(String(response.status));
    task = await response.json();
  } catch {
    window.setTimeout(follow, 5000); // a network blip: try again, less often
    return;
  }
  if (task.state === "done" || task.state === "failed") {
    window.location.reload();
    return;
  }
  const phase = document.querySelector("#import-phase [data-phase]");
  const percent = document.querySelector("#import-phase [data-percent]");
  if (task.percent === null) {
    bar.removeAttribute("value");
  } else {
    bar.value = task.percent;
  }
  const tenth = task.percent === null ? null : Math.floor(task.percent / 10) * 10;
  if (task.phase && task.phase !== phase.textContent) {
    phase.textContent = task.phase;
    announced = null;
  }
  if (tenth !== announced) {
    percent.textContent = tenth === null ? "" : `${tenth} %`;
    announced = tenth;
  }
  window.setTimeout(follow, 1000);
}

if (bar && bar.dataset.taskUrl) window.setTimeout(follow, 1000);
