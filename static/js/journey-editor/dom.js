// Safe DOM building: text always goes in as text nodes, textContent or .value, never as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/** h("li", {class: "x", dataset: {id: 1}, text: "..."}, child, "text", ...): safe DOM building. */
export function h(tag, props = {}, ...children) {
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

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  for (const child of children) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A form field with its label: gives `control` the id the label points to. */
export function labelled(id, text, control) {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id, text }), control);
}

/** Grow text areas with their text where CSS field-sizing is not supported. */
export function autosize(scope) {
  if (CSS.supports && CSS.supports("field-sizing", "content")) return;
  for (const area of scope.querySelectorAll("textarea")) {
    area.style.height = "auto";
    area.style.height = `${area.scrollHeight + 2}px`;
  }
}
