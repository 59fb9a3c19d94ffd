// gettext, ngettext, pgettext and interpolate from Django's JavaScript catalog (/jsi18n/, a classic
// script the page loads before the editor's modules). Without it these fallbacks show the
// English strings, so the editor still works. Every module takes them from here, never from
// `window`. And how a designed emotion is written.

export const gettext = window.gettext ?? ((msgid) => msgid);
export const ngettext =
  window.ngettext ?? ((singular, plural, count) => (count === 1 ? singular : plural));
export const pgettext = window.pgettext ?? ((context, msgid) => msgid);
export const interpolate =
  window.interpolate ??
  ((format, values, named) =>
    named
      ? format.replace(/%\(\w+\)s/g, (match) => String(values[match.slice(2, -2)]))
      : format.replace(/%s/g, () => String(values.shift())));

/** A designed emotion as shown: "+2", "0", "−1" (with a minus sign, not a hyphen). */
export function signed(emotion) {
  if (emotion > 0) return `+${emotion}`;
  if (emotion < 0) return `−${Math.abs(emotion)}`;
  return "0";
}
