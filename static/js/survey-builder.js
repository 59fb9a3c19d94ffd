// The survey builder's enhancements (templates/surveys/survey_detail.html). Without this
// module every language's fields show, stacked, and every form still works.

const STORAGE_KEY = "momentmap.survey-builder.language";

// One "Show texts in" select for the whole page: questions and email texts show the chosen
// language only. The choice is remembered; a page with errors shows all languages, so that
// no message hides in a collapsed language.
function setUpLanguageSwitch() {
  const box = document.querySelector("[data-lang-switch]");
  if (!box) return;
  const select = box.querySelector("select");
  const panels = [...document.querySelectorAll(".lang-panel[data-language]")];
  const groups = [...document.querySelectorAll(".lang-panels")];
  if (!select || panels.length === 0) return;
  const codes = [...select.options].map((option) => option.value).filter(Boolean);
  if (codes.length < 2) return; // one language: nothing to switch

  const show = (code) => {
    for (const panel of panels) panel.hidden = Boolean(code) && panel.dataset.language !== code;
    for (const group of groups) group.classList.toggle("single", Boolean(code));
  };

  let initial = "";
  const hasErrors = document.querySelector(".lang-panel .errorlist, .form-errors") !== null;
  if (!hasErrors) {
    let stored = null;
    try {
      stored = window.sessionStorage.getItem(STORAGE_KEY);
    } catch {
      stored = null; // storage may be blocked; fall back to the default language
    }
    initial = stored !== null && (stored === "" || codes.includes(stored))
      ? stored
      : box.dataset.defaultLanguage || "";
    if (initial && !codes.includes(initial)) initial = "";
  }
  select.value = initial;
  show(initial);
  box.hidden = false;

  select.addEventListener("change", () => {
    show(select.value);
    try {
      window.sessionStorage.setItem(STORAGE_KEY, select.value);
    } catch {
      // not remembered; harmless
    }
  });
}

// The new-question form: choice fields only for choice questions.
function setUpChoiceFields() {
  for (const form of document.querySelectorAll("form.new-question")) {
    const type = form.querySelector("select[name$='type']");
    if (!type) continue;
    const sync = () => {
      const isChoice = type.value === "single_choice" || type.value === "multiple_choice";
      for (const field of form.querySelectorAll(".choices-field")) field.hidden = !isChoice;
    };
    type.addEventListener("change", sync);
    sync();
  }
}

// A moment code and a custom stage exclude each other: the stage field only without a code.
function setUpMomentFields() {
  const moment = document.querySelector("#settings select[name='moment']");
  const stage = document.querySelector("#settings input[name='custom_stage']");
  if (!moment || !stage) return;
  const field = stage.closest(".field");
  const sync = () => {
    if (field) field.hidden = moment.value !== "";
  };
  moment.addEventListener("change", sync);
  sync();
}

// After a refused save the page comes back from the top: bring the form with the problem
// into view and put the cursor in its first field.
function showFirstProblem() {
  const problem = document.querySelector("main .form-errors, main .has-error");
  if (!problem) return;
  const form = problem.closest("form") || problem;
  const details = form.closest("details");
  if (details) details.open = true;
  (problem.closest(".card") || form).scrollIntoView({ block: "start" });
  const field = (problem.matches(".has-error") ? problem : form).querySelector(
    "input:not([type=hidden]), textarea, select",
  );
  if (field) field.focus({ preventScroll: true });
}

setUpLanguageSwitch();
setUpChoiceFields();
setUpMomentFields();
showFirstProblem();
