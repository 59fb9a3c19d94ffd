// The new-survey form on the survey list (templates/surveys/survey_list.html). The languages
// ticked follow the chosen store: its buyers' language and English. A box the user ticked or
// unticked stays as they left it. Without this module the first store's language is ticked
// and every box still works.

const form = document.querySelector("form.create-survey");
const data = document.getElementById("store-languages");

if (form && data) {
  const languageOf = JSON.parse(data.textContent); // store id: its default language
  const store = form.querySelector('select[name="store"]');
  const boxes = new Map(
    [...form.querySelectorAll('input[name="languages"]')].map((box) => [box.value, box]),
  );
  const touched = new Set();
  for (const [code, box] of boxes) box.addEventListener("change", () => touched.add(code));

  let previous = languageOf[store.value];
  store.addEventListener("change", () => {
    const next = languageOf[store.value];
    if (previous && previous !== "en" && previous !== next && !touched.has(previous)) {
      const box = boxes.get(previous);
      if (box) box.checked = false;
    }
    if (next && !touched.has(next)) {
      const box = boxes.get(next);
      if (box) box.checked = true;
    }
    previous = next;
  });
}
